"""Brute-force population averages by exact quadrature: a route independent of the symbolic
engine, for cross-checks at small d.

The phases: the per-sequence loss is a trigonometric polynomial in each lambda_k whose
frequencies n (a term lambda^a conj(lambda)^b has n = a - b) satisfy |n| <= 3(T - 2). The
prediction y_t = W^PV G_t W^KQ e_t / rho_t, G_t = sum_{i <= t} e_i e_i^H, multiplies an entry of
e_i (frequencies in [0, i - 1] in any one phase), of conj(e_i) ([-(i - 1), 0]) and of e_t
([0, t - 1]), so its frequencies, and the target's (t), lie in [-(t - 1), 2(t - 1)] for
t >= 2; the loss |y_t - x_{t+1}|^2 and its gradient then have |n| <= 3(t - 1) <= 3(T - 2), since
t <= T - 1 (noise only adds lower powers of lambda to each token). The mean over N equispaced
points integrates lambda^n exactly for |n| < N, so N = 3T - 5 points (:func:`phase_points`)
suffice; N = 3T - 6 is not exact at T = 3. (Until issue 20 the grid had 4T points: the same
averages to rounding, with (4T / (3T - 5))^d times as many sequences, 12x at d = 3, T = 4.)
The token: a finite
law is its own atoms; the Gaussian is replaced by the tensor Gauss-Hermite rule with 4 nodes
per coordinate, exact for polynomials of degree <= 7 in each coordinate (the loss has degree
6). The averages are then computed with the finite-sample simulator's own code, weighted.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

from mesacheck.symbolic.moments import DEFAULT_RHO, Distribution
from mesacheck.symbolic.setting import UNIT_CIRCLE, Noise, PhaseLaw, as_setting

from .bridge import evaluate, normalization, position_weights
from .simulate import loss_and_gradient, sequence_losses

__all__ = [
    "token_nodes",
    "noise_nodes",
    "noise_rule",
    "modulus_rule",
    "phase_points",
    "torus_sequences",
    "quadrature_loss",
    "quadrature_loss_and_gradient",
    "limiting_position_error",
]

_HERMITE_NODES = 4  # exact through degree 2 * 4 - 1 = 7 per coordinate


def token_nodes(law: Distribution, values: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n, d) and weights (n,) of a rule that integrates every polynomial of degree <= 6
    in x_1 exactly under ``law``."""
    values = {str(k): v for k, v in (values or {}).items()}
    d = law.d
    if law.nodes is not None:
        return law.nodes(values)
    if law.name == "gaussian":
        scale = float(
            law.key[0].subs({s: values[str(s)] for s in law.key[0].free_symbols if str(s) in values})
        )
        x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)  # weight exp(-x^2 / 2)
        w = w / w.sum()
        nodes = np.array(list(itertools.product(x, repeat=d))) * scale
        weights = np.prod(np.array(list(itertools.product(w, repeat=d))), axis=1)
        return nodes.astype(complex), weights
    if law.name == "sparse":
        scale = float(
            law.key[0].subs({s: values[str(s)] for s in law.key[0].free_symbols if str(s) in values})
        )
        nodes = np.concatenate([np.eye(d), -np.eye(d)]) * scale
        return nodes.astype(complex), np.full(2 * d, 1.0 / (2 * d))
    if len(law.key) == 3 and law.key[0] == "signs":  # mesacheck.symbolic.conditions.product_law
        first_nodes, first_weights = token_nodes(law.key[1], values)
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d - law.key[1].d)))
        nodes = np.concatenate(
            [np.repeat(first_nodes, len(signs), axis=0), np.tile(signs, (len(first_nodes), 1))], axis=1
        )
        return nodes.astype(complex), np.repeat(first_weights, len(signs)) / len(signs)
    if law.name == "full-one":
        return np.ones((1, d), dtype=complex), np.ones(1)
    if len(law.key) == 2 and law.key[0] and isinstance(law.key[0][0], tuple):  # Atoms
        nodes = np.array([[complex(v) for v in point] for point in law.key[0]])
        return nodes, np.array([float(w) for w in law.key[1]])
    raise NotImplementedError(
        f"no exact quadrature rule for {law.name}: give a built-in family (by its own name), atoms, "
        "or a law with nodes (see proofs_check/extensions/_template.py)"
    )


def _scale(law: Distribution, values: dict) -> float:
    scale = law.key[0]
    return float(scale.subs({s: values[str(s)] for s in scale.free_symbols if str(s) in values}))


def phase_points(T: int) -> int:
    """The points per coordinate of the equispaced phase grid at length T: 3T - 5, one more
    than the largest frequency 3(T - 2) of the loss in one phase (module docstring)."""
    return 3 * T - 5


def torus_sequences(
    nodes: np.ndarray, weights: np.ndarray, T: int, phases: PhaseLaw = UNIT_CIRCLE
) -> tuple[np.ndarray, np.ndarray]:
    """Every sequence x_t = W^(t-1) x_1 for x_1 a node and W on a grid per coordinate, shape
    (n G^d, T, d), with its quadrature weight. The grid (:func:`_lambda_grid`): N = 3T - 5
    equispaced phases on the circle of radius r (its mean of lambda^n conj(lambda)^m is r^(n+m)
    [n = m mod N], exact since |n - m| <= 3(T - 2) < N), times the Gauss rule of a random
    modulus, or the N roots of unity themselves."""
    lambdas, lambda_weights = _lambda_grid(T, phases, nodes.shape[1])
    powers = lambdas[:, None, :] ** np.arange(T)[None, :, None]
    X = (powers[None] * nodes[:, None, None, :]).reshape(-1, T, nodes.shape[1])
    return X, (weights[:, None] * lambda_weights[None, :]).reshape(-1)


def _lambda_grid(T: int, phases: PhaseLaw, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The product over d coordinates of one entry's grid: (G^d, d) values and (G^d,) weights."""
    if phases.kind == "roots":
        grid, weights = np.exp(2j * np.pi * np.arange(phases.N) / phases.N), np.full(phases.N, 1.0 / phases.N)
    else:
        circle = np.exp(2j * np.pi * np.arange(phase_points(T)) / phase_points(T))
        radii, radius_weights = (
            modulus_rule(phases, T)
            if phases.kind == "modulus"
            else (np.array([float(phases.radius)]), np.ones(1))
        )
        grid = (radii[:, None] * circle[None, :]).reshape(-1)
        weights = np.repeat(radius_weights, len(circle)) / len(circle)
    values = np.array(list(itertools.product(grid, repeat=d)))
    return values, np.prod(np.array(list(itertools.product(weights, repeat=d))), axis=1)


def _torus_lambdas(nodes: np.ndarray, T: int, phases: PhaseLaw) -> np.ndarray:
    """The lambda of each sequence of :func:`torus_sequences`, in its order, shape (n G^d, d)."""
    return np.tile(_lambda_grid(T, phases, nodes.shape[1])[0], (len(nodes), 1))


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
    variables = (T - 1) * d * (2 if noise.kind == "complex" else 1)
    if _HERMITE_NODES**variables > _MAX_NOISE_NODES:
        raise ValueError(
            f"the noise quadrature needs {_HERMITE_NODES}^{variables} nodes "
            f"({noise.kind} noise, d = {d}, T = {T}); "
            f"it takes at most {_MAX_NOISE_NODES}: use a smaller d or T"
        )
    grid = np.array(list(itertools.product(x, repeat=variables)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=variables))), axis=1)
    if noise.kind == "complex":
        grid = (grid[:, 0::2] + 1j * grid[:, 1::2]) * (s / np.sqrt(2))
    else:
        grid = grid * s + 0j
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
    if noise.kind == "real":
        angles = np.array([0.0, np.pi])
    else:
        angles = 2 * np.pi * np.arange(7) / 7
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


def _with_noise(X: np.ndarray, weights: np.ndarray, nodes: np.ndarray, noise_weights: np.ndarray, lam):
    """Every noiseless start (x_1, lambda) of X with every noise node: x_{t+1} = lambda x_t + xi_t."""
    n, T, d = X.shape
    out = np.empty((n, len(nodes), T, d), dtype=complex)
    out[:, :, 0] = X[:, None, 0]
    for step in range(1, T):
        out[:, :, step] = lam[:, None, :] * out[:, :, step - 1] + nodes[None, :, step - 1]
    return out.reshape(-1, T, d), (weights[:, None] * noise_weights[None, :]).reshape(-1)


def _sequences(setting, T: int, values):
    setting = as_setting(setting)
    starts = token_nodes(setting.law, values)
    X, weights = torus_sequences(*starts, T, setting.phases)
    if setting.noise.present:
        nodes, noise_weights = noise_nodes(setting.noise, setting.d, T, values)
        if len(X) * len(nodes) > _MAX_SEQUENCES:
            raise ValueError(
                f"the quadrature with noise needs {len(X) * len(nodes)} sequences, "
                f"more than {_MAX_SEQUENCES}: "
                "use a smaller d or T"
            )
        lam = _torus_lambdas(starts[0], T, setting.phases)
        X, weights = _with_noise(X, weights, nodes, noise_weights, lam)
    return X, weights, normalization(setting, T), position_weights(setting, T)


_MAX_SEQUENCES = 4_000_000  # ~1 GB of sequences at T = 4, d = 2


def quadrature_loss(setting, T: int, W_KQ, W_PV, values: dict | None = None) -> float:
    """The population loss at (W^KQ, W^PV) by exact quadrature, under a setting (or the paper's
    setting for a bare law)."""
    X, weights, rho, omega = _sequences(setting, T, values)
    return float(np.sum(weights * sequence_losses(W_KQ, W_PV, X, rho=rho, omega=omega)))


def quadrature_loss_and_gradient(setting, T: int, W_KQ, W_PV, values: dict | None = None):
    """The population loss and its gradient (2 dL/d conj W) by exact quadrature."""
    X, weights, rho, omega = _sequences(setting, T, values)
    W_KQ, W_PV = np.asarray(W_KQ, dtype=complex), np.asarray(W_PV, dtype=complex)
    return loss_and_gradient(W_KQ, W_PV, X, weights, rho=rho, omega=omega)


def limiting_position_error(law: Distribution, W_KQ, W_PV, values: dict | None = None) -> float:
    """lim_{t -> oo} E||y_t - x_{t+1}||^2 for the diagonal model (W^KQ, W^PV) by exact quadrature.

    For the diagonal model the error at position t is exactly A + B / (t - 1): the
    cross-coordinate terms average like the squared modulus of a geometric sum, t - 1 terms over
    (t - 1)^2. The errors at t = 5 and 7 give A; the one at t = 3 checks the form, and a
    mismatch raises. Each error is a difference of two quadrature losses (positions 2..t and
    2..t-1). The form holds for the reference's rho_t = t - 1 only."""
    if as_setting(law).rho != DEFAULT_RHO:
        raise NotImplementedError(f"the extrapolation assumes rho_t = t - 1, not {as_setting(law).rho}")
    errors = {}
    for position in (3, 5, 7):
        errors[position] = 2 * (
            quadrature_loss(law, position + 1, W_KQ, W_PV, values)
            - quadrature_loss(law, position, W_KQ, W_PV, values)
        )
    A = (6 * errors[7] - 4 * errors[5]) / 2  # (t - 1) e_t at t = 7 and 5
    predicted_3 = A + (4 * errors[5] - 4 * A) / 2
    if abs(predicted_3 - errors[3]) > 1e-9 * max(1.0, abs(errors[3])):
        raise ArithmeticError(f"the error is not A + B/(t-1): {errors}")
    return A
