"""The one bridge from mesacheck.symbolic to numeric code: every formula crosses here, via lambdify.

Numeric code never retypes a formula; it asks this module for a compiled version of an
expression from :mod:`symbolic`, with T and the law's parameters fixed to given values.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache, partial
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from mesacheck.symbolic._cache import disk_cached
from mesacheck.symbolic.flow import gradient_flow
from mesacheck.symbolic.full_model import (
    LINEAR_SLOTS,
    QUADRATIC_SLOTS,
    set_partition,
    slot_moment,
    target_moment,
)
from mesacheck.symbolic.moments import Distribution, exact_number
from mesacheck.symbolic.noise_counts import noise_counts, noise_weights
from mesacheck.symbolic.paper_counts import phase_counts
from mesacheck.symbolic.position_sums import ProgressionSum, numeric_value
from mesacheck.symbolic.process_counts import setting_counts
from mesacheck.symbolic.setting import Setting, as_setting

from ._compiled_flow import CompiledFlow, FlowSource, flow_from_source

__all__ = [
    "CompiledFlow",
    "compile_flow",
    "compile_symmetric_flow",
    "flow_source",
    "symmetric_flow_source",
    "evaluate",
    "FullModelArrays",
    "full_model_arrays",
    "normalization",
    "position_weights",
    "algebraic_data",
    "exact_value",
    "full_model_rationals",
]


def _frozen(values: dict) -> tuple:
    return tuple(sorted(((str(k), exact_number(v)) for k, v in values.items()), key=lambda kv: kv[0]))


def compile_flow(law: Distribution, values: dict, *, module: str = "numpy") -> CompiledFlow:
    """Compile the flow of ``law`` with ``values`` (e.g. {T: 100, sigma: 1}) substituted."""
    return _compile(law, _frozen(values), module)


def compile_symmetric_flow(law: Distribution, values: dict, *, module: str = "numpy") -> CompiledFlow:
    """The flow of an exchangeable law restricted to its invariant manifold a_j = a, b_j = b
    (:func:`mesacheck.symbolic.stationary.reduced_flow`): the gradient flow of the loss per coordinate
    f(a b), since dL/da_j = (1/d) d/da L(a, ..., a; b, ..., b) there. Its cost does not grow
    with d. Compiled in the state y = (u, v) = (a + b, a - b) with the loss 2 f, whose gradient
    flow is the same curve at the same speed: every term of d(2f)/du has the factor u, so the
    line a = -b (u = 0), which runs into the saddle at the origin, stays exact in floating
    point (in (a, b) the solver's rounding let the flow escape it to p* at d >= 50)."""
    return _compile_symmetric(law, _frozen(values), module)


def flow_source(law: Distribution, values: dict) -> FlowSource:
    """The generated source of :func:`compile_flow`'s functions (NumPy): what a warm
    ``mesacheck limit`` stores, to compile the flow again without SymPy."""
    return _flow_source(law, _frozen(values))


def symmetric_flow_source(law: Distribution, values: dict) -> FlowSource:
    """The generated source of :func:`compile_symmetric_flow`'s functions (NumPy)."""
    return _symmetric_source(law, _frozen(values))


def _symmetric_terms(law: Distribution) -> tuple:
    from mesacheck.symbolic.stationary import p, reduced_flow

    u, v = sp.symbols("u v", real=True)
    loss = 2 * reduced_flow(law).loss().subs(p, (u**2 - v**2) / 4)  # a b = (u^2 - v^2) / 4
    return loss, (u, v), (u * v,), 1  # a^2 - b^2 = u v


def _flow_terms(law: Distribution) -> tuple:
    flow = gradient_flow(law)
    return flow.loss, flow.parameters, flow.conserved, law.d


@cache
def _code() -> str:
    """The code that writes a flow's source (this module and the one that runs it): a flow
    source on disk is read only by the code that wrote it."""
    here = Path(__file__).parent
    return hashlib.sha256(b"".join((here / name).read_bytes() for name in _CODE)).hexdigest()[:16]


_CODE = ("bridge.py", "_compiled_flow.py")


def _source_key(law: Distribution, values: tuple) -> tuple:
    return (as_setting(law).identity, values, _code())


# lambdify's source, ~0.3-0.8 s a flow, on disk: a warm `mesacheck check` or test run compiles
# no flow it has compiled before
@disk_cached(key=_source_key)
def _symmetric_source(law: Distribution, values: tuple) -> FlowSource:
    return _compiled(*_symmetric_terms(law), values, "numpy")


@disk_cached(key=_source_key)
def _flow_source(law: Distribution, values: tuple) -> FlowSource:
    return _compiled(*_flow_terms(law), values, "numpy")


@lru_cache(maxsize=64)
def _compile_symmetric(law: Distribution, values: tuple, module: str) -> CompiledFlow:
    if module == "numpy":
        return flow_from_source(_symmetric_source(law, values))
    return _compiled(*_symmetric_terms(law), values, module)


@lru_cache(maxsize=64)
def _compile(law: Distribution, values: tuple, module: str) -> CompiledFlow:
    if module == "numpy":
        return flow_from_source(_flow_source(law, values))
    return _compiled(*_flow_terms(law), values, module)


def _compiled(loss, parameters, conserved, d: int, values: tuple, module: str):
    """The flow's functions compiled for ``module`` "mpmath" (a :class:`CompiledFlow`), or
    their generated source for "numpy" (a :class:`FlowSource`, compiled by
    :func:`mesacheck.numeric._compiled_flow.flow_from_source`)."""
    by_name = {s.name: s for s in loss.free_symbols}
    substitution = {by_name[k]: v for k, v in values if k in by_name}
    # harmonic numbers first: SymPy evaluates harmonic(n) exactly and eagerly once n is an
    # integer (~9 s at n = 10^4); _harmonic_value takes mpmath past n = 2000
    loss = loss.xreplace(
        {
            h: _harmonic_value(tuple(a.xreplace(substitution) for a in h.args), _COMPILE_DIGITS)
            for h in loss.atoms(sp.harmonic)
        }
    )
    loss = loss.xreplace(substitution)
    # exact rationals of thousands of digits (H_n^(k) and their products at large T) cannot be
    # printed into code; 70 significant digits serve double precision and mpmath at 50 digits
    loss = loss.xreplace({r: sp.Float(r, _COMPILE_DIGITS + 10) for r in loss.atoms(sp.Rational) if _huge(r)})
    unknown = loss.free_symbols - set(parameters)
    if unknown:
        raise ValueError(f"give values for {sorted(map(str, unknown))}")
    y = sp.MatrixSymbol("y", 2 * d, 1)
    state = {p: y[k, 0] for k, p in enumerate(parameters)}
    poly = sp.Poly(loss, *parameters)  # polynomial arithmetic: 10x faster than Expr.diff
    gradient_poly = [poly.diff(p) for p in parameters]
    gradient = [g.as_expr() for g in gradient_poly]
    magnitudes = [
        sp.Poly.from_dict({m: abs(c) for m, c in g.terms()}, *parameters).as_expr() for g in gradient_poly
    ]
    hessian = sp.Matrix([[g.diff(q).as_expr() for q in parameters] for g in gradient_poly])
    conserved = list(conserved)

    exprs = {
        "loss": [loss],
        "gradient": gradient,
        "hessian": list(hessian),
        "conserved": list(conserved),
        "magnitudes": magnitudes,
    }
    functions = {
        name: sp.lambdify(y, [e.xreplace(state) for e in terms], modules=module, cse=True)
        for name, terms in exprs.items()
    }
    if module == "mpmath":
        built = {name: partial(_mpmath_call, f) for name, f in functions.items()}
        return CompiledFlow(
            d,
            lambda v: built["loss"](v)[0],
            built["gradient"],
            built["hessian"],
            built["conserved"],
            lambda v: built["magnitudes"](np.abs(np.asarray(v, dtype=float))),
        )
    names = set().union(*(_numpy_names(f) for f in functions.values()))
    sources = {name: inspect.getsource(f) for name, f in functions.items()}
    return FlowSource(d, n_conserved=len(conserved), names=tuple(sorted(names)), **sources)


def _mpmath_call(f, v):
    return f(mpmath.matrix(list(v)))


def _numpy_names(f) -> set:
    """The global names a lambdified function uses; each must be NumPy's object of that name, so
    that its source runs the same in :func:`mesacheck.numeric._compiled_flow.flow_from_source`."""
    names = {name for name in f.__code__.co_names if name in f.__globals__} - {"numpy", "builtins"}
    for name in names:
        if f.__globals__[name] is not getattr(np, name, None):
            raise RuntimeError(f"the generated flow uses {name!r}, which is not NumPy's")
    return names


_COMPILE_DIGITS = 60


def _huge(number: sp.Rational) -> bool:
    return max(abs(number.p), number.q).bit_length() > 3000  # ~900 decimal digits


def _harmonic_value(args: tuple, dps: int) -> sp.Expr:
    """H_n^(k) exactly for moderate n; for large n from mpmath (an exact rational with
    hundreds of thousands of digits would cost minutes)."""
    n, order = args if len(args) == 2 else (args[0], sp.S.One)
    if not n.is_Integer or n <= 2000:
        return sp.harmonic(*args)
    with mpmath.workdps(dps + 10):
        value = (
            mpmath.harmonic(int(n))
            if order == 1
            else mpmath.zeta(int(order)) - mpmath.zeta(int(order), int(n) + 1)
        )
        return sp.Float(value, dps + 10)


def evaluate(expr: sp.Expr, values: dict, *, dps: int | None = None):
    """A closed form at ``values``: a float, or an mpf with ``dps`` digits.

    >>> evaluate(sp.harmonic(sp.Symbol("n")), {"n": 3})
    1.8333333333333333
    """
    expr = sp.sympify(expr)
    names = {s.name: s for s in expr.free_symbols}
    point = {names[str(k)]: exact_number(v) for k, v in values.items() if str(k) in names}
    # Harmonic numbers first: SymPy evaluates harmonic(n) eagerly once n is an integer.
    out = expr.xreplace(
        {
            h: _harmonic_value(tuple(a.xreplace(point) for a in h.args), dps or 30)
            for h in expr.atoms(sp.harmonic)
        }
    ).xreplace(point)
    if out.free_symbols:
        raise ValueError(f"give values for {sorted(map(str, out.free_symbols))}")
    if dps is None:
        return float(out)
    return mpmath.mpf(sp.N(out, dps + 5).evalf(dps + 5).__str__())


def exact_value(expr: sp.Expr, values: dict) -> sp.Expr:
    """A closed form at ``values``, exactly (harmonic numbers at an integer are rationals):
    what :func:`evaluate` rounds, for :func:`algebraic_data` to certify.

    >>> exact_value(sp.harmonic(sp.Symbol("n")), {"n": 3})
    11/6
    """
    expr = sp.sympify(expr)
    names = {s.name: s for s in expr.free_symbols}
    out = expr.xreplace({names[str(k)]: exact_number(v) for k, v in values.items() if str(k) in names})
    if out.free_symbols:
        raise ValueError(f"give values for {sorted(map(str, out.free_symbols))}")
    return out


@dataclass(frozen=True)
class FullModelArrays:
    """The coefficients of the full model's loss (:mod:`mesacheck.symbolic.full_model`) as arrays:
    L = 1/2 sum_r z_r^H K z_r - Re sum_r J[r] . z_r + constant, z_r = W^PV[r, :] (x) W^KQ,
    flattened over (c, a, b) with embedding indices 0..2d-1."""

    d: int
    T: int
    K: np.ndarray  # (8 d^3, 8 d^3), Hermitian
    J: np.ndarray  # (d, 8 d^3)
    constant: float


def full_model_arrays(setting, T: int, values: dict) -> FullModelArrays:
    """K, J and the constant of the full loss under ``setting`` (or the paper's setting for a
    bare law) at length T, with the law's parameters fixed by ``values`` (e.g. {"sigma": 1})."""
    return _full_model_arrays(as_setting(setting), T, _frozen(values))


def _numeric_moment(law: Distribution, values: tuple):
    memo: dict = {}
    point = dict(values)

    def moment(coordinates, slots) -> complex:
        alpha_beta = tuple(sorted((k, s) for k, (_, s) in zip(coordinates, slots)))
        if alpha_beta not in memo:
            expr = slot_moment(law, coordinates, slots)
            names = {str(q): q for q in expr.free_symbols}
            expr = expr.xreplace({names[k]: v for k, v in point.items() if k in names})
            if expr.free_symbols:
                raise ValueError(f"give values for {sorted(map(str, expr.free_symbols))}")
            memo[alpha_beta] = complex(expr)
        return memo[alpha_beta]

    return moment


def _assemble(d: int, counts: dict, moment, slots, noise: dict | None = None, number=float) -> np.ndarray:
    """sum over coordinate tuples k and block tuples of moment(k) * count(partition(k), blocks),
    plus, with noise, sum over noise slots nu of the noise weight w_nu(partition(k), blocks)
    (floats, :func:`mesacheck.symbolic.noise_counts.noise_weights` at the law's values) times the moment
    over the other slots; as an array indexed (c_1, .., c_n) by embedding index block * d + k."""
    n = len(slots)
    blocks_list = list(itertools.product((0, 1), repeat=n))
    partitions, rows = _partition_rows(d, n)

    def term(cells: dict, keep: tuple) -> np.ndarray:
        table = np.array(
            [[number(cells.get((p, q), 0)) for q in blocks_list] for p in partitions],
            dtype=float if number is float else object,
        )
        kept = tuple(slots[a] for a in keep)
        # the moment depends on the kept slots' coordinates only: d^|keep| values, broadcast
        sub = np.array(
            [moment(k, kept) for k in itertools.product(range(d), repeat=len(keep))],
            dtype=None if number is float else object,
        )
        shape = [d if a in keep else 1 for a in range(n)]
        moments = np.broadcast_to(sub.reshape(shape), (d,) * n).reshape(-1)
        return moments[:, None] * table[rows]

    values = term(counts, tuple(range(n)))
    by_noise: dict = {}
    for key, cells in (noise or {}).items():
        for noise_slots, value in cells.items():
            by_noise.setdefault(noise_slots, {})[key] = value
    for noise_slots, cells in by_noise.items():
        keep = tuple(a for a in range(n) if a not in noise_slots)
        values = values + term(cells, keep)
    values = values.reshape((d,) * n + (2,) * n)
    # axes (k_1..k_n, q_1..q_n) -> (q_1, k_1, .., q_n, k_n), so that index = q * d + k
    order = [axis for m in range(n) for axis in (n + m, m)]
    return values.transpose(order).reshape((2 * d,) * n)


@cache
def _partition_rows(d: int, n: int) -> tuple[list, np.ndarray]:
    """The set partitions of n slots that labellings by d coordinates produce, sorted, and the
    index of each labelling's partition (the labellings in itertools.product order): the same
    for every law, so computed once per (d, n)."""
    tuples = list(itertools.product(range(d), repeat=n))
    partitions = sorted({set_partition(k) for k in tuples})
    index = {p: m for m, p in enumerate(partitions)}
    rows = np.array([index[set_partition(k)] for k in tuples])
    rows.setflags(write=False)
    return partitions, rows


@lru_cache(maxsize=16)
def _full_model_arrays(setting: Setting, T: int, values: tuple) -> FullModelArrays:
    law = setting.law
    d, n = law.d, 2 * law.d
    moment = _numeric_moment(law, values)
    counts = {}
    for kind in ("quadratic", "linear"):
        noise = {
            key: {nu: _number(w, values) for nu, w in noise_weights(setting.noise, cells).items()}
            for key, cells in noise_counts(setting, T, kind).items()
        }
        # past ~2000 positions a count holds unevaluated progression sums: each to a double once
        exact = setting_counts(setting, T, kind)
        counts[kind] = ({key: numeric_value(value) for key, value in exact.items()}, noise)
    K = _assemble(d, counts["quadratic"][0], moment, QUADRATIC_SLOTS, counts["quadratic"][1])
    # J's first slot is the target, a coordinate with no block: keep block 0 of that axis
    J = _assemble(d, counts["linear"][0], moment, LINEAR_SLOTS, counts["linear"][1])[:d]
    constant = 0.5 * _number(target_moment(setting, T), values)  # 1/2 sum_t omega_t E||x_{t+1}||^2
    return FullModelArrays(d, T, K.reshape(n**3, n**3), J.reshape(d, n**3), constant)


def full_model_rationals(setting, T: int, values: dict) -> tuple[np.ndarray, np.ndarray, int, Fraction]:
    """K, J and the constant of :func:`full_model_arrays` exactly, for a law whose moments are
    rational at ``values`` and a setting without noise: ``(K_numerators, J_numerators,
    denominator, constant)`` with K = K_numerators / denominator and J likewise (object arrays
    of Python integers, one common denominator: what :mod:`mesacheck.numeric.certify`
    evaluates in interval arithmetic)."""
    setting = as_setting(setting)
    if setting.noise.present:
        raise ValueError("the exact rational coefficients are built for settings without noise")
    law, point = setting.law, dict(_frozen(values))
    d, n = law.d, 2 * law.d

    def exact(expr) -> Fraction:
        names = {str(q): q for q in expr.free_symbols}
        expr = sp.nsimplify(expr.xreplace({names[k]: v for k, v in point.items() if k in names}))
        if not expr.is_Rational:
            raise ValueError(f"{expr} is not rational: give the law rational parameters")
        return Fraction(int(expr.p), int(expr.q))

    memo: dict = {}

    def moment(coordinates, slots) -> Fraction:
        alpha_beta = tuple(sorted((k, s) for k, (_, s) in zip(coordinates, slots)))
        if alpha_beta not in memo:
            memo[alpha_beta] = exact(slot_moment(law, coordinates, slots))
        return memo[alpha_beta]

    counts = {kind: setting_counts(setting, T, kind) for kind in ("quadratic", "linear")}
    if not all(isinstance(c, Fraction) for kind in counts for c in counts[kind].values()):
        # past ~2000 positions the counts are closed forms in T holding unevaluated exact sums
        # (mesacheck.symbolic.position_sums): the paper's table keeps its exact rationals
        if not setting.is_paper_process:
            raise ValueError(
                f"past T = 2002 the averages of {setting.describe()} are closed forms in T, not single "
                "rationals: the exact rational coefficients are built up to T = 2002"
            )
        counts = {kind: phase_counts(T, kind, setting.rho) for kind in ("quadratic", "linear")}
    slots = {"quadratic": QUADRATIC_SLOTS, "linear": LINEAR_SLOTS}
    for kind in counts:  # a first pass meets every moment, for their common denominator (as floats: only
        _assemble(d, {}, lambda k, s: float(moment(k, s)), slots[kind])  # the memo is wanted)
    scale_moments = math.lcm(*(m.denominator for m in memo.values()))
    scale_counts = math.lcm(*(c.denominator for kind in counts for c in counts[kind].values()))

    def moment_numerator(coordinates, slots) -> int:
        return int(moment(coordinates, slots) * scale_moments)

    def count_numerator(count) -> int:
        return int(Fraction(count) * scale_counts)

    K = _assemble(d, counts["quadratic"], moment_numerator, QUADRATIC_SLOTS, number=count_numerator)
    J = _assemble(d, counts["linear"], moment_numerator, LINEAR_SLOTS, number=count_numerator)[:d]
    constant = exact(target_moment(setting, T)) / 2
    return K.reshape(n**3, n**3), J.reshape(d, n**3), scale_moments * scale_counts, constant


def _number(expr, values: tuple) -> float:
    """An exact expression of the setting at the given parameter values, as a finite float."""
    # a rational (most noise weights, ~10^5 per setting) is its float: evaluate() gives the same
    if isinstance(expr, sp.Expr) and expr.has(ProgressionSum):  # a closed form in T: its terms at 50 digits
        point = {s: exact_number(v) for s in expr.free_symbols for k, v in values if s.name == str(k)}
        expr = expr.xreplace(point)
    if isinstance(expr, sp.Expr) and expr.has(ProgressionSum) and not expr.free_symbols:
        value = numeric_value(expr)
    else:
        value = float(expr) if isinstance(expr, sp.Rational | int) else evaluate(expr, dict(values))
    if not math.isfinite(value):
        shown = sp.N(sp.sympify(expr), 4)
        raise ValueError(f"{shown} is out of double precision's range: rescale the noise or the token")
    return value


def normalization(setting, T: int) -> np.ndarray:
    """rho_t for t = 2..T-1 (the model's normalization under ``setting``, or a law's), as floats.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> normalization(gaussian(2), 5)
    array([1., 2., 3.])
    """
    rho = as_setting(setting).normalization(T)
    return np.array([float(rho[t]) for t in range(2, T)])


def position_weights(setting, T: int) -> np.ndarray:
    """omega_t for t = 2..T-1: the weight of position t in the loss (1 everywhere in the paper).

    >>> from mesacheck.symbolic.moments import gaussian
    >>> from mesacheck.symbolic.setting import Setting
    >>> position_weights(Setting(gaussian(2), positions="last"), 5)
    array([0., 0., 1.])
    """
    omega = as_setting(setting).position_weights(T)
    return np.array([float(omega.get(t, 0)) for t in range(2, T)])


def algebraic_data(value) -> tuple:
    """An exact real algebraic number from :mod:`symbolic` as plain data that numeric code
    certifies without SymPy (:mod:`mesacheck.numeric.certify`): ``("rational", q)`` with q a
    Fraction, or ``("root", coefficients, (lo, hi))``, the integer coefficients of its minimal
    polynomial (constant term first) and rational bounds between which it is the only real root,
    or, for a rational function of one real ``CRootOf`` (whose minimal polynomial can take
    minutes), ``("function of root", numerator, denominator, root)``: the polynomials' Fraction
    coefficients (constant term first) and the root as ``("root", ...)``.

    >>> algebraic_data(sp.Rational(2, 6))
    ('rational', Fraction(1, 3))
    >>> algebraic_data(sp.sqrt(2))[:2]
    ('root', (-2, 0, 1))
    """
    value = sp.sympify(value)
    if value.free_symbols:
        raise ValueError(f"{value} is not a number")
    if value.is_Rational:
        return "rational", Fraction(int(value.p), int(value.q))
    x = sp.Dummy("x")
    roots = value.atoms(sp.CRootOf)
    if len(roots) == 1:  # a rational function of one root: its minimal polynomial can take minutes
        (root,) = roots
        numerator, denominator = sp.fraction(sp.together(value.xreplace({root: x})))
        if numerator.is_polynomial(x) and denominator.is_polynomial(x):

            def coefficients_of(polynomial):
                terms = reversed(sp.Poly(polynomial, x).all_coeffs())
                return tuple(Fraction(int(sp.Rational(c).p), int(sp.Rational(c).q)) for c in terms)

            interval = root._get_interval()
            bounds = tuple(
                Fraction(int(sp.Rational(e).p), int(sp.Rational(e).q)) for e in (interval.a, interval.b)
            )
            if root.is_real and bounds[0] < bounds[1]:
                poly = sp.Poly(root.poly.as_expr(), root.poly.gens[0]).clear_denoms()[1]
                base = ("root", tuple(int(c) for c in reversed(poly.all_coeffs())), bounds)
                return "function of root", coefficients_of(numerator), coefficients_of(denominator), base
    polynomial = sp.Poly(sp.minimal_polynomial(value, x), x).clear_denoms()[1]
    coefficients = tuple(int(c) for c in reversed(polynomial.all_coeffs()))
    if len(coefficients) == 2:  # an unsimplified rational
        return "rational", Fraction(-coefficients[0], coefficients[1])
    approximation = sp.N(value, 60)
    if sp.im(approximation) != 0:
        raise ValueError(f"{value} is not real")
    approximation = sp.re(approximation)
    # SymPy's exact real-root isolation; the root is picked by a 60-digit value, kept 1e-40 away
    # from the interval's ends (the intervals are disjoint, so the choice is unambiguous)
    candidates = [
        (lo, hi)
        for (lo, hi), _ in polynomial.intervals(eps=sp.Rational(1, 10**20))
        if lo + sp.Rational(1, 10**40) < approximation < hi - sp.Rational(1, 10**40)
    ]
    if len(candidates) != 1:
        raise ArithmeticError(f"could not isolate the real root {approximation} of {polynomial.as_expr()}")
    lo, hi = (Fraction(int(sp.Rational(e).p), int(sp.Rational(e).q)) for e in candidates[0])
    return "root", coefficients, (lo, hi)
