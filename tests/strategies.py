"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import sympy as sp
from hypothesis import settings
from hypothesis import strategies as st

__all__ = [
    "examples",
    "rationals",
    "real_atom_laws",
    "complex_atom_laws",
    "initializations",
    "emergent_laws",
    "recovery_region_laws",
    "process_settings",
    "noisy_settings",
    "emergence_settings",
    "recovery_settings",
]


def examples(ci: int, *, otherwise: float = 1) -> int:
    """max_examples for a costly property: ``ci`` in the ci profile (the default test run, where
    the example count is paid on every run), else ``otherwise`` times the loaded profile's own
    count, never fewer than ``ci`` (so ``thorough`` keeps its many examples)."""
    if settings.get_current_profile_name() == "ci":
        return ci
    return max(ci, round(otherwise * settings().max_examples))


def rationals(low: int = -3, high: int = 3, denominator: int = 8):
    """Exact rationals n / denominator in [low, high]."""
    return st.integers(low * denominator, high * denominator).map(lambda n: sp.Rational(n, denominator))


@st.composite
def real_atom_laws(draw, d=None, max_atoms=3):
    """(points, weights) of a finite real law with exact rational weights summing to 1."""
    from mesacheck.symbolic.moments import Atoms

    d = draw(st.integers(1, 3)) if d is None else d
    count = draw(st.integers(1, max_atoms))
    points = [[draw(rationals(-2, 2, 4)) for _ in range(d)] for _ in range(count)]
    raw = [draw(st.integers(1, 6)) for _ in range(count)]
    weights = [sp.Rational(w, sum(raw)) for w in raw]
    return Atoms(points, weights)


def initializations():
    """(a0, b0) off the saddle half-line a0 = -b0, bounded away from 0."""
    value = st.floats(0.05, 2.0).flatmap(lambda x: st.sampled_from([x, -x]))
    return st.tuples(value, value).filter(lambda ab: abs(ab[0] + ab[1]) > 1e-3)


@st.composite
def complex_atom_laws(draw, d: int, max_atoms: int = 3):
    """A finite complex law: rational real and imaginary parts, exact rational weights."""
    from mesacheck.symbolic.moments import Atoms

    count = draw(st.integers(1, max_atoms))
    points = [
        [draw(rationals(-2, 2, 4)) + sp.I * draw(rationals(-2, 2, 4)) for _ in range(d)] for _ in range(count)
    ]
    raw = [draw(st.integers(1, 6)) for _ in range(count)]
    return Atoms(points, [sp.Rational(w, sum(raw)) for w in raw])


def _positive(low: int = 1, high: int = 16, denominator: int = 8):
    return st.integers(low, high).map(lambda n: sp.Rational(n, denominator))


@st.composite
def emergent_laws(draw, d: int):
    """Exchangeable, sign-symmetric laws (the emergence and equal-diagonal conditions hold, so
    the closed form applies), drawn from the families directly: Gaussian, sparse, Rademacher,
    uniform on a cube, i.i.d. with random consistent moments, sparse with random phases
    (complex), and mixtures of two of them."""
    from mesacheck.symbolic.moments import Atoms, gaussian, iid, mixture, sparse

    def family(kind):
        s = draw(_positive())
        if kind == "sparse-phases":  # x = s u e_k, u a uniform fourth root of unity: complex
            units = (1, sp.I, -1, -sp.I)
            points = [[s * u if m == k else 0 for m in range(d)] for k in range(d) for u in units]
            return Atoms(points, [sp.Rational(1, len(points))] * len(points), name="sparse-phases")
        if kind == "gaussian":
            return gaussian(d, s)
        if kind == "sparse":
            return sparse(d, s)
        if kind == "rademacher":
            return iid(d, {2: s**2, 4: s**4, 6: s**6})
        if kind == "cube":  # uniform on [-s, s]^d
            return iid(d, {2: s**2 / 3, 4: s**4 / 5, 6: s**6 / 7})
        # i.i.d. with |x| in {u, v}: a two-point law of |x|, signs symmetric
        u, v, q = draw(_positive()), draw(_positive()), sp.Rational(draw(st.integers(1, 7)), 8)
        return iid(d, {n: q * u**n + (1 - q) * v**n for n in (2, 4, 6)})

    kinds = ["gaussian", "sparse", "rademacher", "cube", "two-point", "sparse-phases"]
    first = family(draw(st.sampled_from(kinds)))
    if not draw(st.booleans()):
        return first
    return mixture(first, family(draw(st.sampled_from(kinds))), sp.Rational(draw(st.integers(1, 7)), 8))


@st.composite
def recovery_region_laws(draw, recovers: bool):
    """d = 2 exchangeable sign-symmetric atom laws, drawn inside or outside the recovery
    condition: inside, |x_j|^2 in {0, kappa} with disjoint supports (x = s sqrt(kappa) e_k with
    probability q, else 0); outside, the same with two magnitudes, or overlapping supports."""
    from mesacheck.symbolic.moments import Atoms

    kappa_root = draw(_positive(2, 64, 16))
    q = sp.Rational(draw(st.integers(1, 16)), 16)
    points, weights = [], []
    if recovers or draw(st.booleans()):
        second = kappa_root + draw(_positive(1, 32, 16))
        magnitudes = [kappa_root] if recovers else [kappa_root, second]
        for m in magnitudes:
            for k in range(2):
                for s in (1, -1):
                    point = [0, 0]
                    point[k] = s * m
                    points.append(point)
                    weights.append(q / (4 * len(magnitudes)))
    else:  # overlapping supports: both coordinates +-sqrt(kappa) together
        for s1 in (1, -1):
            for s2 in (1, -1):
                points.append([s1 * kappa_root, s2 * kappa_root])
                weights.append(q / 4)
    if q < 1:
        points.append([0, 0])
        weights.append(1 - q)
    return Atoms(points, weights, name="recovery-region")


@st.composite
def process_settings(draw, law):
    """A setting for ``law`` beyond the paper's process: W on a circle of rational radius
    r in (0, 1], with a random modulus (on one or two radii k/8, or given by its moments: a Beta
    law of rho^2), or on the N-th roots of unity (N = 1..5); every or the last position."""
    from mesacheck.symbolic.setting import Setting, circle, modulus_atoms, random_modulus, roots_of_unity

    kind = draw(st.sampled_from(["circle", "modulus", "roots"]))
    if kind == "circle":
        phases = circle(sp.Rational(draw(st.integers(1, 8)), 8))
    elif kind == "roots":
        phases = roots_of_unity(draw(st.integers(1, 5)))
    elif draw(st.booleans()):
        radii = draw(st.lists(st.integers(1, 8), min_size=1, max_size=2, unique=True))
        weight = sp.Rational(draw(st.integers(1, 3)), 4) if len(radii) == 2 else sp.S.One
        phases = modulus_atoms(dict(zip((sp.Rational(r, 8) for r in radii), (weight, 1 - weight))))
    else:  # rho^2 ~ Beta(a, b): E rho^(2k) = prod_{m<k} (a + m) / (a + b + m), rational in k here
        phases = random_modulus(draw(st.sampled_from(["1/(k+1)", "2/((k+1)*(k+2))", "3/(k+3)"])))
    return Setting(law, phases, positions=draw(st.sampled_from(["all", "last"])))


@st.composite
def noisy_settings(draw):
    """A noisy setting small enough for the quadrature over the noise (at most 4^6 noise
    nodes): circular complex noise for d = 1 on the unit circle, a circle of radius r < 1 (a
    contraction) or the N-th roots of unity (T = 3, 4), or real noise on the real process
    (N = 1, 2) for d = 1, 2 (T = 3, 4) and d = 3 (T = 3); Gaussian of a drawn scale, or a law
    given by its moments (|xi|^2 on two points); a finite complex law of x_1, every or the last
    position. Returns (setting, T)."""
    from mesacheck.symbolic.setting import Noise, Setting, circle, roots_of_unity

    s = draw(st.integers(1, 12).map(lambda n: sp.Rational(n, 4)))
    positions = draw(st.sampled_from(["all", "last"]))
    by_moments = draw(st.booleans())  # a law given by its moments: y = |xi|^2 on two points
    if by_moments:
        y = sorted(draw(st.lists(st.integers(1, 8), min_size=2, max_size=2)))
        weight = sp.Rational(draw(st.integers(1, 3)), 4)
        moments = tuple(
            weight * sp.Rational(y[0], 4) ** k + (1 - weight) * sp.Rational(y[1], 4) ** k for k in (1, 2, 3)
        )
    if draw(st.booleans()):
        d, T = 1, draw(st.integers(3, 4))
        phases = draw(st.sampled_from([None, 1, 2, 3, 5, sp.Rational(1, 2), sp.Rational(9, 10)]))
        if phases is not None:
            phases = roots_of_unity(phases) if isinstance(phases, int) else circle(phases)
        noise = Noise("complex", moments=moments) if by_moments else Noise("complex", s)
    else:
        d = draw(st.integers(1, 3))
        T = 3 if d == 3 else draw(st.integers(3, 4))
        phases = roots_of_unity(draw(st.integers(1, 2)))
        noise = Noise("real", moments=moments) if by_moments else Noise("real", s)
    law = draw(complex_atom_laws(d, max_atoms=2))
    if phases is None:
        return Setting(law, noise=noise, positions=positions), T
    return Setting(law, phases, noise, positions=positions), T


@st.composite
def _maybe_sign_symmetric_atoms(draw, d: int):
    """One to three rational atoms in d coordinates, with every sign flip of them added half the
    time (then every moment odd in a coordinate vanishes, and the emergence condition of the
    paper's process holds)."""
    import itertools

    from mesacheck.symbolic.moments import Atoms

    points = [[draw(rationals(-2, 2, 2)) for _ in range(d)] for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        signs = list(itertools.product((1, -1), repeat=d))
        points = [[s * x for s, x in zip(flip, point)] for point in points for flip in signs]
    return Atoms(points, [sp.Rational(1, len(points))] * len(points))


@st.composite
def emergence_settings(draw):
    """(setting, T) for the emergence property over settings (d <= 3, small T so that the
    quadrature over W, and over real noise, stays cheap): a real atom law, any law of W of
    :func:`process_settings`, or (outside the ci profile) real noise on the unit circle or
    W = diag(+-1) (d = 1, 2, T = 3), which drives the upper-right block of W^KQ."""
    from mesacheck.symbolic.setting import Noise, Setting, roots_of_unity

    # real noise's exact averages take ~20 s cold even at d = 1, T = 3 (the noise counts): drawn
    # outside the ci profile only (tests/test_properties.py has a slow test of that case)
    kinds = (
        ["process"] if settings.get_current_profile_name() == "ci" else ["process", "process", "real-noise"]
    )
    kind = draw(st.sampled_from(kinds))
    if kind == "process":
        d = draw(st.integers(1, 3))
        law = draw(_maybe_sign_symmetric_atoms(d))
        T = draw(st.integers(3, 5 if d < 3 else 4))
        return draw(process_settings(law)), T
    d = draw(st.integers(1, 2))
    law = draw(_maybe_sign_symmetric_atoms(d))
    noise = Noise("real", sp.Rational(draw(st.integers(1, 6)), 4))
    if draw(st.booleans()):
        return Setting(law, roots_of_unity(2), noise), 3
    return Setting(law, noise=noise), 3


@st.composite
def recovery_settings(draw):
    """(setting, family) for the recovery property over settings: an exchangeable law in
    d = 1..3, d <= 2 under a contraction or a random modulus (sparse, Gaussian, Rademacher, or
    i.i.d. with |x| on two points), and a noiseless law of W with |lambda| = 1 on the circle or
    the N-th roots of unity (N = 1..5), a contraction, or a random modulus with atoms in
    {1/4, 1/2, 1}; every or the last position."""
    import itertools

    from mesacheck.symbolic.moments import Atoms, gaussian, sparse
    from mesacheck.symbolic.setting import Setting, circle, modulus_atoms, roots_of_unity

    kind = draw(st.sampled_from(["circle", "roots", "contraction", "modulus"]))
    # the extrapolated regimes need quadrature at t = 13: ~0.4 s at d = 2, ~80 s at d = 3
    d = draw(st.integers(1, 3 if kind in ("circle", "roots") else 2))
    s = draw(_positive(4, 12, 8))
    family = draw(st.sampled_from(["sparse", "gaussian", "rademacher", "two-point"]))
    if family == "sparse":
        law = sparse(d, s)
    elif family == "gaussian":
        law = gaussian(d, s)
    else:  # i.i.d. coordinates with symmetric signs, as atoms (the quadrature needs nodes)
        values = {s: sp.S.One}
        if family == "two-point":
            u, q = draw(_positive(4, 16, 8)), sp.Rational(draw(st.integers(1, 3)), 4)
            values = {u: q, s: 1 - q} if u != s else values
        one = [(sign * v, w / 2) for v, w in values.items() for sign in (1, -1)]
        grid = list(itertools.product(one, repeat=d))
        law = Atoms(
            [[v for v, _ in point] for point in grid], [sp.Mul(*(w for _, w in point)) for point in grid]
        )
    if kind == "circle":
        phases = circle(1)
    elif kind == "roots":
        phases = roots_of_unity(draw(st.integers(1, 5)))
    elif kind == "contraction":
        phases = circle(sp.Rational(draw(st.integers(2, 6)), 8))
    else:
        half, quarter = sp.Rational(1, 2), sp.Rational(1, 4)
        radii = draw(st.sampled_from([(1, half), (1, quarter), (half,)]))
        weight = sp.Rational(draw(st.integers(1, 3)), 4) if len(radii) == 2 else sp.S.One
        phases = modulus_atoms(dict(zip(radii, (weight, 1 - weight))))
    return Setting(law, phases, positions=draw(st.sampled_from(["all", "last"]))), family
