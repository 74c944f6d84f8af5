"""The moment algebra of the initial token x_1.

A distribution of x_1 in C^d is known to the toolkit only through its mixed moments
E[prod_k x_k^alpha_k conj(x_k)^beta_k]. Three kinds are provided:

* :class:`Atoms`: finitely many points with exact rational weights;
* the built-in families :func:`gaussian`, :func:`sparse`, :func:`full_one` (the paper's);
* :class:`SymbolicMoments`: every moment a free symbol, for derivations in general.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

__all__ = [
    "Distribution",
    "Atoms",
    "SymbolicMoments",
    "gaussian",
    "sparse",
    "full_one",
    "sigma",
    "c",
    "token",
    "expectation",
    "iid",
    "shifted_gaussian_moments",
    "ExchangeableMoments",
    "mixture",
    "marginal",
    "exact_number",
    "DEFAULT_RHO",
]

sigma = sp.Symbol("sigma", positive=True)
c = sp.Symbol("c", positive=True)


def token(d: int) -> tuple[sp.Symbol, ...]:
    """The coordinates x_1, ..., x_d of the initial token as complex symbols."""
    return sp.symbols(f"x_1:{d + 1}", complex=True)


position = sp.Symbol("t", integer=True, positive=True)  # the predicting position (population_loss.t)
DEFAULT_RHO = position - 1  # the reference's normalization rho_t = t - 1


@dataclass(frozen=True)
class Distribution:
    """A law of x_1 in C^d given by its moment function, with the model assumptions that go
    with it: every stage of the pipeline takes one of these, so an assumption that changes
    anything below is a new Distribution, and no stage needs editing.

    ``moment(alpha, beta)`` returns E[prod_k x_k^alpha_k conj(x_k)^beta_k] for tuples of
    non-negative integers. ``real`` says x_1 is real almost surely (then only alpha + beta
    matters). ``parameters`` are the free symbols the moments depend on.

    Optional, for assumptions beyond the paper's (see ``proofs_check/extensions``; the model's
    normalization rho_t and the process are not the token's: they live in
    :class:`mesacheck.symbolic.setting.Setting`):

    * ``sampler(m, rng)``: m draws of x_1 as an (m, d) array, for the finite-sample simulator
      (the built-in families and atoms are sampled without one);
    * ``nodes(values)``: (nodes, weights) of a rule exact for polynomials of degree <= 6 in x_1,
      for the quadrature cross-checks.
    """

    name: str
    d: int
    moment: Callable[[tuple, tuple], sp.Expr] = field(compare=False)
    real: bool = True
    parameters: tuple = ()
    key: tuple = ()  # identifies the law for caching and equality
    sampler: Callable | None = field(default=None, compare=False)
    nodes: Callable | None = field(default=None, compare=False)
    # the moments are unchanged by permuting coordinates, by construction (the families, i.i.d.
    # coordinates); then whatever involves k coordinates is that of the marginal on k of them
    exchangeable: bool = field(default=False, compare=False)

    @property
    def identity(self) -> tuple:
        """What identifies the law and its assumptions, for caches: a moment function defined
        outside :mod:`symbolic` adds a digest of its source file, so editing an extension
        invalidates what was derived from it."""
        return (self.name, self.d, self.key, self.real, *_source_digest(self.moment))

    def __repr__(self):
        # the identity, with no function addresses: a law inside another's key (product_law,
        # mixture) then gives the disk cache the same key in every process
        return f"Distribution{self.identity!r}"

    def __hash__(self):
        return hash((self.name, self.d, self.key))

    def __eq__(self, other):
        return isinstance(other, Distribution) and (self.name, self.d, self.key) == (
            other.name,
            other.d,
            other.key,
        )


def _source_digest(function) -> tuple:
    import hashlib
    import inspect
    from pathlib import Path

    try:
        path = Path(inspect.getfile(function)).resolve()
    except TypeError:
        return ()
    if path.parent == Path(__file__).resolve().parent or not path.is_file():
        return ()  # symbolic/ itself is in every cache key already
    return (hashlib.sha256(path.read_bytes()).hexdigest()[:16],)


def _check_d(d) -> int:
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ValueError(f"the dimension d must be an integer >= 1, got {d!r}")
    return d


def _double_factorial(n: int) -> int:
    return math.prod(range(n - 1, 0, -2))  # (n-1)!! for the n-th Gaussian moment


def gaussian(d: int, scale: sp.Expr = sigma) -> Distribution:
    """x_1 ~ N(0, scale^2 I_d), real: E x^n = scale^n (n-1)!! for even n, else 0."""
    d = _check_d(d)
    scale = sp.sympify(scale)
    _check_positive(scale, "sigma")

    def moment(alpha, beta):
        out = sp.S.One
        for n in map(sum, zip(alpha, beta)):
            if n % 2:
                return sp.S.Zero
            if n:  # a coordinate absent from the moment costs nothing (d = 1000 marginals)
                out *= scale**n * _double_factorial(n)
        return out

    parameters = (scale,) if scale.is_Symbol else ()
    return Distribution("gaussian", d, moment, True, parameters, (scale,), exchangeable=True)


def sparse(d: int, scale: sp.Expr = c) -> Distribution:
    """The paper's Example 4.1: x_1 = s c e_k, k uniform on 1..d, s uniform on {-1, +1}."""
    d = _check_d(d)
    scale = sp.sympify(scale)
    _check_positive(scale, "c")

    def moment(alpha, beta):
        degrees = [a + b for a, b in zip(alpha, beta)]
        active = [n for n in degrees if n]
        if not active:
            return sp.S.One
        if len(active) > 1 or active[0] % 2:
            return sp.S.Zero
        return scale ** active[0] / d

    parameters = (scale,) if scale.is_Symbol else ()
    return Distribution("sparse", d, moment, True, parameters, (scale,), exchangeable=True)


def full_one(d: int) -> Distribution:
    """x_1 = (1, ..., 1), deterministic."""
    d = _check_d(d)
    return Distribution("full-one", d, lambda alpha, beta: sp.S.One, True, (), (), exchangeable=True)


class Atoms:
    """Constructor of a finite distribution: x_1 = points[n] with probability weights[n].

    Weights must be exact non-negative rationals summing to 1; points are d-vectors of exact
    numbers (complex allowed, e.g. ``1 + 2*I`` or the string ``"1+2*I"``).

    >>> law = Atoms([[1, 0], [0, 2]], ["1/2", "1/2"])
    >>> law.moment((2, 0), (0, 0)), law.d, law.real
    (1/2, 2, True)
    """

    def __new__(cls, points, weights, name: str = "atoms") -> Distribution:
        points = [tuple(_exact(v) for v in p) for p in points]
        weights = [_exact(w) for w in weights]
        if not points:
            raise ValueError("a finite distribution needs at least one atom")
        if len(points) != len(weights):
            raise ValueError(f"{len(points)} atoms but {len(weights)} weights")
        d = len(points[0])
        if d < 1 or any(len(p) != d for p in points):
            lengths = sorted({len(p) for p in points})
            raise ValueError(f"all atoms must have the same length d >= 1, got lengths {lengths}")
        if any(not w.is_real or w < 0 for w in weights):
            raise ValueError(f"weights must be non-negative, got {weights}")
        if sum(weights) != 1:
            raise ValueError(f"weights must sum to 1 exactly, they sum to {sum(weights)}")
        real = all(v.is_real for p in points for v in p)
        rational = _gaussian_rational_atoms(points, weights)

        @functools.cache  # a law is immutable; claims ask for each moment many times
        def cached(alpha, beta):
            if rational is not None:  # the same exact number, in integers (~100x faster)
                return _rational_moment(*rational, alpha, beta)
            return sp.expand(  # exact: expand, never nsimplify (it may invent surds)
                sum(
                    w * sp.Mul(*(v**a * sp.conjugate(v) ** b for v, a, b in zip(p, alpha, beta)))
                    for p, w in zip(points, weights)
                )
            )

        def moment(alpha, beta):
            return cached(tuple(alpha), tuple(beta))

        return Distribution(name, d, moment, real, (), (tuple(points), tuple(weights)))


def _gaussian_rational_atoms(points, weights):
    """The atoms over one common denominator: integer (re, im) pairs of D v for every
    coordinate v, integer weights W w, and (D, W), when every coordinate is a Gaussian rational
    (p + q i, p and q rational) and every weight rational; else None."""
    if not all(w.is_Rational for w in weights):
        return None
    parts = []
    for point in points:
        pairs = []
        for v in point:
            re, im = (v, sp.S.Zero) if v.is_Rational else v.as_real_imag()
            if not (re.is_Rational and im.is_Rational):
                return None
            pairs.append((re, im))
        parts.append(pairs)
    D = math.lcm(*(int(x.q) for pairs in parts for pair in pairs for x in pair))
    W = math.lcm(*(int(w.q) for w in weights))
    scaled = tuple(tuple((int(re * D), int(im * D)) for re, im in pairs) for pairs in parts)
    return scaled, tuple(int(w * W) for w in weights), D, W


def _rational_moment(points, weights, D: int, W: int, alpha, beta) -> sp.Expr:
    """sum_n w_n prod_k v_nk^alpha_k conj(v_nk)^beta_k exactly, in integer arithmetic: the
    points as integer (re, im) pairs of D v, the weights as W w."""
    total_re = total_im = 0
    for point, w in zip(points, weights):
        re, im = w, 0
        for (x, y), a, b in zip(point, alpha, beta):
            if not a and not b:
                continue
            if not y:  # a real coordinate: conj(v) = v
                power = x ** (a + b)
                re, im = re * power, im * power
                continue
            for u, v, times in ((x, y, a), (x, -y, b)):
                for _ in range(times):
                    re, im = re * u - im * v, re * v + im * u
        total_re += re
        total_im += im
    scale = W * D ** (sum(alpha) + sum(beta))
    out = sp.Rational(total_re, scale)
    if total_im:
        out += sp.I * sp.Rational(total_im, scale)
    return out


def exact_number(value) -> sp.Expr:
    """A user's number as an exact SymPy number: a float as the decimal it prints as, exact
    input unchanged (``nsimplify`` is never used: it can return surds for plain rationals).

    >>> exact_number(0.1), exact_number("21/16"), exact_number(sp.Rational(733776813, 10737418240))
    (1/10, 21/16, 733776813/10737418240)

    Text is read only when it is plainly a number (SymPy would evaluate anything else):

    >>> exact_number("__import__('os')")
    Traceback (most recent call last):
    ValueError: not a number: "__import__('os')" (write e.g. 2, 0.5, "1/3" or "1+2*I")
    """
    return _exact(value)


# What a number given as text may contain: digits, decimal points and exponents (of at most 4
# digits), + - * / ( ) and I. SymPy parses strings with eval, so nothing else (names, calls, **)
# may reach it: every string goes through this before sympify.
NUMBER_TEXT = re.compile(
    r"(?:\d+\.?\d*(?:[eE][+-]?\d{1,4})?|\.\d+(?:[eE][+-]?\d{1,4})?|[-+/()\sI]|\*(?!\*))+"
)


def is_number_text(text: str) -> bool:
    """Whether ``text`` is plainly a number (e.g. "2", "0.5", "1/3", "1+2*I"), at most 100
    characters, so that SymPy may read it."""
    return len(text) <= 100 and bool(NUMBER_TEXT.fullmatch(text)) and not re.search(r"[eE][+-]?\d{5}", text)


def _exact(value) -> sp.Expr:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r}")
        value = sp.Rational(str(value))  # the decimal the user wrote, not its binary image
    if isinstance(value, str) and not is_number_text(value):
        raise ValueError(f'not a number: {value[:40]!r} (write e.g. 2, 0.5, "1/3" or "1+2*I")')
    try:
        out = sp.sympify(value, rational=True)
    except (sp.SympifyError, TypeError) as error:
        raise ValueError(f"not a number: {value!r}") from error
    if not out.is_number or out.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ValueError(f"not a finite number: {value!r}")
    return sp.expand(out)  # never nsimplify: it turns large rationals into surds


def _check_positive(value: sp.Expr, name: str) -> None:
    if value.is_number and not (value.is_finite and value.is_positive):
        raise ValueError(f"{name} must be a finite positive number, got {value}")


def SymbolicMoments(d: int, name: str = "m", real: bool = True) -> Distribution:
    """Every mixed moment is its own symbol, e.g. E[x_1^2 x_2^4] -> m_{2,4} (real x_1), or
    E[x_1 conj(x_1)] -> m_{1,0;1,0} (complex x_1). No symmetry is assumed.
    """
    d = _check_d(d)
    symbols: dict = {}

    def moment(alpha, beta):
        key = tuple(a + b for a, b in zip(alpha, beta)) if real else tuple(alpha) + tuple(beta)
        if not any(key):
            return sp.S.One
        if key not in symbols:
            label = ",".join(map(str, key[:d])) + ("" if real else ";" + ",".join(map(str, key[d:])))
            symbols[key] = sp.Symbol(f"{name}_{{{label}}}", real=real)
        return symbols[key]

    return Distribution(f"symbolic-{name}", d, moment, real, (), (name, real))


def expectation(expr: sp.Expr, law: Distribution) -> sp.Expr:
    """E over x_1 ~ law of a polynomial in the token coordinates and their conjugates."""
    xs = token(law.d)
    bars = [sp.conjugate(x) for x in xs]
    poly = sp.Poly(sp.expand(expr), *xs, *bars)
    total = sp.S.Zero
    for exponents, coefficient in poly.terms():
        total += coefficient * law.moment(exponents[: law.d], exponents[law.d :])
    return total


def iid(d: int, moments: dict) -> Distribution:
    """Coordinates i.i.d. real with the given moments E x^n for n = 1..6 (missing ones are 0),
    e.g. {2: 1, 4: 3, 6: 15} (Gaussian-like). The loss only sees moments up to degree 6.

    The moments must be those of some real random variable: the Hankel matrix
    [E x^(i+j)]_{i,j=0..3} must be positive semi-definite (a negative even moment and
    E x^4 < (E x^2)^2, Cauchy-Schwarz, are its simplest violations).

    >>> iid(2, {2: 1, 4: 3, 6: 15}).moment((4, 2), (0, 0))
    3
    >>> iid(1, {2: 2, 4: 1})
    Traceback (most recent call last):
    ...
    ValueError: inconsistent moments: E x^4 = 1 < (E x^2)^2 = 4 violates Cauchy-Schwarz
    """
    d = _check_d(d)
    m = {0: sp.S.One}
    for n in range(1, 7):
        m[n] = _exact(moments.get(n, moments.get(str(n), 0)))
        if not m[n].is_real:
            raise ValueError(f"E x^{n} must be real, got {m[n]}")
    unknown = set(map(str, moments)) - {str(n) for n in range(1, 7)}
    if unknown:
        raise ValueError(f"moments are given for n = 1..6 only, got keys {sorted(unknown)}")
    for n in (2, 4, 6):
        if m[n] < 0:
            raise ValueError(f"inconsistent moments: the even moment E x^{n} = {m[n]} is negative")
    if m[4] < m[2] ** 2:
        raise ValueError(
            f"inconsistent moments: E x^4 = {m[4]} < (E x^2)^2 = {m[2] ** 2} violates Cauchy-Schwarz"
        )
    hankel = sp.Matrix(4, 4, lambda i, j: m[i + j])
    for size in range(1, 5):
        for rows in itertools.combinations(range(4), size):
            if hankel.extract(list(rows), list(rows)).det() < 0:
                raise ValueError(
                    "inconsistent moments: no real random variable has them (the Hankel matrix "
                    f"[E x^(i+j)] has a negative principal minor on rows {list(rows)})"
                )

    def moment(alpha, beta):
        return sp.Mul(*(m[a + b] for a, b in zip(alpha, beta) if a + b))

    key = tuple(m[n] for n in range(1, 7))
    return Distribution("iid", d, moment, True, (), key, exchangeable=True)


def shifted_gaussian_moments(mu) -> dict[int, sp.Expr]:
    """E x^n, n = 1..6, of x = g + mu with g ~ N(0, 1), exactly: for ``iid(d, ...)``, a family
    that is the Gaussian token at mu = 0 (the emergence condition holds) and breaks its sign
    symmetry for every mu != 0 (the condition fails), continuously in mu.

    >>> shifted_gaussian_moments(0)
    {1: 0, 2: 1, 3: 0, 4: 3, 5: 0, 6: 15}
    """
    mu = _exact(mu)

    # E (g + mu)^n = sum_k binomial(n, k) mu^(n - k) E g^k, E g^k = (k - 1)!! for even k
    def moment(n):
        terms = (sp.binomial(n, k) * mu ** (n - k) * _double_factorial(k) for k in range(0, n + 1, 2))
        return sp.expand(sum(terms))

    return {n: moment(n) for n in range(1, 7)}


def ExchangeableMoments(d: int, name: str = "m") -> Distribution:
    """A real law whose moments are unchanged by permuting coordinates, otherwise free: the
    moment E[prod_k x_k^e_k] is the symbol m_{pattern}, the pattern being the non-zero
    exponents, largest first (E[x_1^2 x_3^4] -> m_{4,2})."""
    d = _check_d(d)
    symbols: dict = {}

    def moment(alpha, beta):
        pattern = tuple(sorted((a + b for a, b in zip(alpha, beta) if a + b), reverse=True))
        if not pattern:
            return sp.S.One
        if pattern not in symbols:
            symbols[pattern] = sp.Symbol(f"{name}_{{{','.join(map(str, pattern))}}}", real=True)
        return symbols[pattern]

    return Distribution(f"exchangeable-{name}", d, moment, True, (), (name,), exchangeable=True)


def mixture(first: Distribution, second: Distribution, weight) -> Distribution:
    """x_1 from ``first`` with probability ``weight``, else from ``second`` (same d)."""
    weight = _exact(weight)
    if first.d != second.d:
        raise ValueError(f"a mixture needs laws of one dimension, got {first.d} and {second.d}")
    if not (0 <= weight <= 1):
        raise ValueError(f"the mixture weight must lie in [0, 1], got {weight}")

    def moment(alpha, beta):
        return weight * first.moment(alpha, beta) + (1 - weight) * second.moment(alpha, beta)

    return Distribution(
        f"mixture({first.name}, {second.name})",
        first.d,
        moment,
        first.real and second.real,
        first.parameters + second.parameters,
        ("mixture", first, second, weight),
        exchangeable=first.exchangeable and second.exchangeable,
    )


def marginal(law: Distribution, k: int) -> Distribution:
    """The law of the first k coordinates of x_1 (for an exchangeable law: of any k); for a
    :class:`mesacheck.symbolic.setting.Setting`, the same setting with that law.

    >>> marginal(sparse(1000), 2).moment((2, 0), (0, 0))  # E x_1^2 = c^2 / 1000 stays
    c**2/1000
    """
    if not isinstance(law, Distribution):  # a setting: the same setting with the marginal law
        import dataclasses

        return dataclasses.replace(law, law=marginal(law.law, k))
    if not 1 <= k <= law.d:
        raise ValueError(f"a marginal on k = {k} of d = {law.d} coordinates needs 1 <= k <= d")
    if k == law.d:
        return law
    pad = (0,) * (law.d - k)

    @functools.lru_cache(maxsize=4096)  # few distinct moments, each padded to d exponents
    def padded(alpha, beta):
        return law.moment(alpha + pad, beta + pad)

    def moment(alpha, beta):
        return padded(tuple(alpha), tuple(beta))

    return Distribution(
        law.name,
        k,
        moment,
        law.real,
        law.parameters,
        ("marginal", law.d, law.key),
        exchangeable=law.exchangeable,
    )
