"""The numeric side of each law of W and of the noise: its sampler and its quadrature rule,
registered per law class (as SymPy's stats registers a sampler per distribution), so that the
symbolic laws never import numeric code. A new law of W registers its own with
:func:`register_phase_law`, in its own module; nothing here names it.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from mesacheck.symbolic.setting import (
    Circle,
    ComplexNoise,
    Noise,
    NoNoise,
    PhaseLaw,
    RandomModulus,
    RealNoise,
    RootsOfUnity,
)

from .bridge import evaluate

__all__ = [
    "PhaseLawNumerics",
    "register_phase_law",
    "phase_numerics",
    "sample_phases",
    "phase_rule",
    "modulus_rule",
    "NoiseNumerics",
    "noise_law",
    "noise_nodes",
    "noise_rule",
    "noise_sampler",
]

_HERMITE_NODES = 4  # exact through degree 2 * 4 - 1 = 7 per variable


class PhaseLawNumerics:
    """What numeric code needs of a law of W: ``sample(phases, shape, rng, T)``, draws of
    lambda, and ``rule(phases, T)``, the nodes and weights of one entry, exact for the
    population loss at length T (a trigonometric polynomial in the phase with frequencies
    |n| <= 3(T - 2): :mod:`mesacheck.numeric.quadrature`)."""

    def sample(self, phases: PhaseLaw, shape, rng: np.random.Generator, T: int) -> np.ndarray:
        raise NotImplementedError

    def rule(self, phases: PhaseLaw, T: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


_PHASE_NUMERICS: dict[type, PhaseLawNumerics] = {}


def register_phase_law(law_class: type, numerics: PhaseLawNumerics) -> None:
    """Register the sampler and quadrature rule of a law of W (a subclass of PhaseLaw)."""
    _PHASE_NUMERICS[law_class] = numerics


def phase_numerics(phases: PhaseLaw) -> PhaseLawNumerics:
    for cls in type(phases).__mro__:
        if cls in _PHASE_NUMERICS:
            return _PHASE_NUMERICS[cls]
    raise NotImplementedError(f"no sampler or quadrature rule is registered for {type(phases).__name__}")


def sample_phases(phases: PhaseLaw, shape, rng: np.random.Generator, T: int) -> np.ndarray:
    """Draws of W's diagonal entries for sequences of length T, by the law's registered sampler."""
    return phase_numerics(phases).sample(phases, shape, rng, T)


def phase_rule(phases: PhaseLaw, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of one entry of W, exact for the loss at length T."""
    return phase_numerics(phases).rule(phases, T)


def phase_points(T: int) -> int:
    """The points per coordinate of the equispaced phase grid at length T: 3T - 5, one more
    than the largest frequency 3(T - 2) of the loss in one phase (derived in
    :mod:`mesacheck.numeric.quadrature`)."""
    return 3 * T - 5


def _uniform_phase_rule(radii: np.ndarray, radius_weights: np.ndarray, T: int):
    """N = 3T - 5 equispaced phases on each circle: the mean of lambda^n conj(lambda)^m over
    them is r^(n+m) [n = m mod N], exact since |n - m| <= 3(T - 2) < N."""
    circle = np.exp(2j * np.pi * np.arange(phase_points(T)) / phase_points(T))
    grid = (radii[:, None] * circle[None, :]).reshape(-1)
    return grid, np.repeat(radius_weights, len(circle)) / len(circle)


class _CircleNumerics(PhaseLawNumerics):
    def sample(self, phases, shape, rng, T):
        return float(phases.radius) * np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, size=shape))

    def rule(self, phases, T):
        return _uniform_phase_rule(np.array([float(phases.radius)]), np.ones(1), T)


class _RootsNumerics(PhaseLawNumerics):
    def sample(self, phases, shape, rng, T):
        return np.exp(2j * np.pi * rng.integers(0, phases.N, size=shape) / phases.N)

    def rule(self, phases, T):
        return np.exp(2j * np.pi * np.arange(phases.N) / phases.N), np.full(phases.N, 1.0 / phases.N)


class _ModulusNumerics(PhaseLawNumerics):
    """The modulus from its atoms, or from the discrete law with its moments through the loss's
    degree at T (:func:`modulus_rule`), times a uniform phase."""

    def sample(self, phases, shape, rng, T):
        radii, weights = modulus_rule(phases, T)
        r = radii[rng.choice(len(radii), size=shape, p=weights)]
        return r * np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, size=shape))

    def rule(self, phases, T):
        return _uniform_phase_rule(*modulus_rule(phases, T), T)


register_phase_law(Circle, _CircleNumerics())
register_phase_law(RootsOfUnity, _RootsNumerics())
register_phase_law(RandomModulus, _ModulusNumerics())


def modulus_rule(phases: PhaseLaw, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Radii and weights of a law of rho with E rho^(2k) = mu_k for every k <= 3T + 1: the
    loss at length T has degree at most 3(T - 2) in rho^2 per coordinate (three tokens of
    degree t - 1 <= T - 2 times their conjugates). A modulus with finitely many values is its
    own atoms; otherwise the Gauss rule of y = rho^2 with n = 3T // 2 + 1 nodes, exact through
    degree 2n - 1 >= 3T + 1, from the recurrence of its orthogonal polynomials computed in exact
    rationals (Chebyshev's algorithm) and the eigen-decomposition of the Jacobi matrix at 40
    digits. Fewer nodes when the law has fewer points of support. The simulator draws from the
    same rule: any law with these moments has the same population loss."""
    if phases.atoms:
        return np.array([float(r) for r, _ in phases.atoms]), np.array([float(p) for _, p in phases.atoms])
    n = 3 * T // 2 + 1
    if n > _MAX_MODULUS_NODES:
        raise ValueError(
            f"a random modulus given by its moments needs a {n}-node rule at T = {T}, more than "
            f"{_MAX_MODULUS_NODES}: give it by its atoms (modulus_atoms, --modulus atoms) or use T <= "
            f"{(2 * _MAX_MODULUS_NODES - 1) // 3}"
        )
    mu = [phases.modulus_moment(k) for k in range(2 * n)]
    a, b = _recurrence(mu, n)
    with mpmath.workdps(40):
        J = mpmath.matrix(len(a))
        for k, value in enumerate(a):
            J[k, k] = mpmath.mpf(value.numerator) / value.denominator
        for k in range(1, len(a)):
            J[k, k - 1] = J[k - 1, k] = mpmath.sqrt(mpmath.mpf(b[k].numerator) / b[k].denominator)
        y, vectors = mpmath.eigsy(J)
        radii = np.array([float(mpmath.sqrt(max(v, 0))) for v in y])
        weights = np.array([float(vectors[0, k] ** 2) for k in range(len(a))])
    return radii, weights / weights.sum()


_MAX_MODULUS_NODES = 40  # T <= 26; the Jacobi matrix's eigen-decomposition at 40 digits takes ~1 s


def _recurrence(mu: list, n: int) -> tuple[list, list]:
    """(a_k, b_k) of the monic orthogonal polynomials p_{k+1} = (y - a_k) p_k - b_k p_{k-1} of
    the law with moments mu, exact (Chebyshev's algorithm), stopping where the law's support
    runs out (b_k = 0)."""
    previous, current = [Fraction(0)] * len(mu), list(mu)
    a, b = [current[1] / current[0]], [current[0]]
    for k in range(1, n):
        following = [Fraction(0)] * len(mu)
        for l in range(k, 2 * n - k):
            following[l] = current[l + 1] - a[k - 1] * current[l] - b[k - 1] * previous[l]
        if following[k] == 0:
            break
        a.append(following[k + 1] / following[k] - current[k] / current[k - 1])
        b.append(following[k] / current[k - 1])
        previous, current = current, following
    return a, b


class NoiseNumerics:
    """What numeric code needs of a noise kind: real variables per entry, the Gaussian rule's
    nodes from standard ones, the phases of a moment rule, and a draw of Gaussian noise."""

    real_variables = 1
    angles = np.array([0.0, np.pi])

    def gaussian_nodes(self, grid: np.ndarray, s: float) -> np.ndarray:
        return grid * s + 0j

    def gaussian_draw(self, s: float, shape, rng: np.random.Generator) -> np.ndarray:
        return s * rng.standard_normal(shape)


class _ComplexNoiseNumerics(NoiseNumerics):
    real_variables = 2  # the real and imaginary parts, each N(0, s^2 / 2)
    angles = 2 * np.pi * np.arange(7) / 7  # exact for |a - b| <= 6 in xi^a conj(xi)^b

    def gaussian_nodes(self, grid, s):
        return (grid[:, 0::2] + 1j * grid[:, 1::2]) * (s / np.sqrt(2))

    def gaussian_draw(self, s, shape, rng):  # circular: E|xi|^2 = s^2, E xi^2 = 0
        return s * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


_NOISE_NUMERICS: dict[type, NoiseNumerics] = {
    ComplexNoise: _ComplexNoiseNumerics(),
    RealNoise: NoiseNumerics(),
    NoNoise: NoiseNumerics(),
}


def noise_law(noise: Noise) -> NoiseNumerics:
    return _NOISE_NUMERICS[type(noise)]


def noise_sampler(noise: Noise):
    """A function (shape, rng) -> one draw of the noise per entry: Gaussian, or the discrete law
    of :func:`noise_rule` with the given moments (all the loss depends on)."""
    if noise.gaussian:
        law, s = noise_law(noise), float(noise.scale)
        return lambda shape, rng: law.gaussian_draw(s, shape, rng)
    nodes, weights = noise_rule(noise)
    p = weights / weights.sum()
    return lambda shape, rng: nodes[rng.choice(len(nodes), size=shape, p=p)]


def noise_nodes(noise: Noise, d: int, T: int, values: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n, T - 1, d) and weights (n,) for the noise xi_1..xi_(T-1): the tensor Gauss-Hermite
    rule with 4 nodes per real variable (real noise: one per xi_u[k]; circular complex noise:
    its real and imaginary parts, each N(0, s^2 / 2)). The loss and its gradient have degree
    <= 6 in each noise variable (a token is linear in it, the loss cubic in tokens squared), and
    the rule is exact through degree 7 in each."""
    if not noise.gaussian:
        return _moment_rule_nodes(noise, d, T, values)
    s = evaluate(noise.scale, values or {})
    x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)  # weight exp(-x^2 / 2)
    w = w / w.sum()
    law = noise_law(noise)
    variables = (T - 1) * d * law.real_variables
    if _HERMITE_NODES**variables > _MAX_NOISE_NODES:
        raise ValueError(
            f"the noise quadrature needs {_HERMITE_NODES}^{variables} nodes "
            f"({noise.kind} noise, d = {d}, T = {T}); "
            f"it takes at most {_MAX_NOISE_NODES}: use a smaller d or T"
        )
    grid = np.array(list(itertools.product(x, repeat=variables)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=variables))), axis=1)
    grid = law.gaussian_nodes(grid, s)
    return grid.reshape(len(grid), T - 1, d), weights


def noise_rule(noise: Noise, values: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of one noise variable, exact for every polynomial of degree <= 6 in it
    (and its conjugate) under a noise law given by its moments: the 2-node Gauss rule of y =
    |xi|^2 from (1, m_2, m_4, m_6), exact through degree 3 in y, times the signs +-1 (real,
    symmetric) or 7 equispaced phases (circular complex: exact for |a - b| <= 6 in
    xi^a conj(xi)^b). A law concentrated on one value of y takes one node. The simulator draws
    from the same discrete law: any law with these moments has the same population loss."""
    moments = []
    for m in noise.moments:
        m = sp.sympify(m)
        names = {str(q): q for q in m.free_symbols}
        m = m.xreplace({names[k]: v for k, v in (values or {}).items() if k in names})
        if m.free_symbols:
            raise ValueError(f"give a value for the noise moment {m}")
        moments.append(sp.Rational(m) if m.is_Rational else sp.nsimplify(m, rational=True))
    m1, m2, m3 = moments
    if m2 == m1**2:  # y = m1 almost surely
        y, w = [m1], [sp.S.One]
    else:  # p(y) = y^2 + b y + c orthogonal to 1 and y, by Cramer's rule, exactly:
        # m1 b + c = -m2 and m2 b + m1 c = -m3
        det = m1 * m1 - m2
        b, c = (-m2 * m1 + m3) / det, (-m1 * m3 + m2 * m2) / det
        root = sp.sqrt(b * b - 4 * c)
        y = [(-b - root) / 2, (-b + root) / 2]  # the smaller is 0 exactly for a law with an atom at 0
        w = [(y[1] - m1) / (y[1] - y[0]), (m1 - y[0]) / (y[1] - y[0])]
    y = np.array([max(float(v), 0.0) for v in y])
    w = np.array([float(v) for v in w])
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(w))):
        raise ValueError("the noise's moments are out of double precision's range")
    angles = noise_law(noise).angles
    nodes = (np.sqrt(y)[:, None] * np.exp(1j * angles)[None, :]).reshape(-1)
    weights = (w[:, None] * np.full(len(angles), 1.0 / len(angles))[None, :]).reshape(-1)
    return nodes, weights


def _moment_rule_nodes(noise: Noise, d: int, T: int, values) -> tuple[np.ndarray, np.ndarray]:
    x, w = noise_rule(noise, values)
    variables = (T - 1) * d
    if len(x) ** variables > _MAX_NOISE_NODES:
        raise ValueError(
            f"the noise quadrature needs {len(x)}^{variables} nodes (d = {d}, T = {T}); it takes at most "
            f"{_MAX_NOISE_NODES}: use a smaller d or T"
        )
    grid = np.array(list(itertools.product(x, repeat=variables)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=variables))), axis=1)
    return grid.reshape(len(grid), T - 1, d), weights


# 4^8 = 65536 noise nodes: complex noise at d = 1, T = 5 or d = 2, T = 3; real at d = 2, T = 5
_MAX_NOISE_NODES = 4**8
