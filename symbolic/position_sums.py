"""Sums over positions in closed form, whatever T: the progression sums that the exact averages
of every fixed-modulus law of W reduce to (:mod:`mesacheck.symbolic.process_counts`,
:mod:`mesacheck.symbolic.noise_counts`).

Past a first few positions, the sum over the solutions of the phase equations at position t
is one function of t from a small family (:func:`fitted_form`): a polynomial in t (the unit
circle), a polynomial times q^(k t) (a circle of radius r, q = r^2: the solution sets are boxes,
rows and lines, over which q^(i + j) sums geometrically), or a polynomial on each residue class
of t mod N (the N-th roots of unity). Weighted by 1/rho_t^p with rho_t = t - c, the sum over t
of each member is a combination of

    P(e, x, N, n0, n1) = sum_{n = n0, n0 + N, ..., <= n1} n^e x^n,                   (eq-progression-sum)

with e an integer (negative: harmonic numbers of a residue class, or partial polylogarithms
for x < 1), 0 < x <= 1 rational and N >= 1. Such a sum is an exact rational when it is cheap
(few terms and small numbers), and otherwise the SymPy number :class:`ProgressionSum`, left
unevaluated: exact as an expression, it evaluates to any precision by mpmath (Hurwitz zeta and
digamma for x = 1, the Lerch transcendent or its convergent series for x < 1), as the paper's
harmonic numbers do past T = 2002. So the averages cost the same at every T.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import sympy as sp

from .moments import position

__all__ = [
    "ProgressionSum",
    "progression_sum",
    "progression_sum_value",
    "weighted_power_sum",
    "as_number",
    "rho_shift",
    "numeric_value",
    "EXACT_TERMS",
    "EXACT_BITS",
]

# A progression sum is summed exactly when it has at most this many terms and its powers of x
# stay below this many bits (the harmonic numbers' HARMONIC_EXACT_UNTIL is the same trade-off:
# past it the exact rationals' size, not their count, sets the cost).
EXACT_TERMS = 2000
EXACT_BITS = 20_000
_SERIES_TERMS = 50_000  # x < 1: past this many terms, the Lerch transcendent instead of the series


class ProgressionSum(sp.Function):
    """P(e, x, N, n0, n1) = sum over n = n0, n0 + N, ... <= n1 of n^e x^n, unevaluated: a
    positive real number that SymPy evaluates (``evalf``, ``float``) to any precision.

    >>> value = ProgressionSum(-2, 1, 1, 1, 10**6)  # H^(2)_(10^6) = pi^2/6 - 1/10^6 + O(10^-12)
    >>> round(float(value), 10), round(float(sp.pi**2 / 6) - 1e-6, 10)
    (1.6449330668, 1.6449330668)
    """

    is_real = True
    is_extended_real = True
    is_positive = True
    is_extended_positive = True
    is_finite = True
    is_commutative = True

    @classmethod
    def eval(cls, e, x, N, n0, n1):
        return None  # stays unevaluated: exactness is decided by progression_sum

    def _eval_evalf(self, prec):
        e, x, N, n0, n1 = self.args
        return sp.Float(_value_at(int(e), int(x.p), int(x.q), int(N), int(n0), int(n1), prec), precision=prec)


@functools.lru_cache(maxsize=4096)  # one entry's many counts share a few sums: evaluate each once
def _value_at(e: int, p: int, q: int, N: int, n0: int, n1: int, prec: int) -> mpmath.mpf:
    with mpmath.workprec(prec + 30):
        return +progression_sum_value(e, Fraction(p, q), N, n0, n1)


def progression_sum(e: int, x: Fraction, N: int, n0: int, n1: int):
    """eq-progression-sum as an exact :class:`~fractions.Fraction` when cheap, else the
    unevaluated :class:`ProgressionSum` (0 when the progression is empty)."""
    if n1 < n0:
        return Fraction(0)
    if n0 < 1:
        raise ValueError(f"a progression sum starts at n0 >= 1, got {n0}")
    terms = (n1 - n0) // N + 1
    x = Fraction(x)
    if x == 1 and e >= 0:
        return _polynomial_progression(e, N, n0, terms)
    bits = 0 if x == 1 else n1 * max(x.numerator.bit_length(), x.denominator.bit_length())
    if terms <= EXACT_TERMS and bits <= EXACT_BITS:
        return _exact_progression(e, x, N, n0, terms)
    return ProgressionSum(e, sp.Rational(x.numerator, x.denominator), N, n0, n0 + (terms - 1) * N)


def _exact_progression(e: int, x: Fraction, N: int, n0: int, terms: int) -> Fraction:
    """The sum term by term in integers: x^n = a^n b^(n1 - n) / b^(n1) over one denominator,
    and for e < 0 the 1/n^(-e) by binary splitting (the harmonic numbers' trick)."""
    a, b = x.numerator, x.denominator
    n1 = n0 + (terms - 1) * N
    numerators = []
    value = a**n0 * b ** (n1 - n0)  # x^n b^(n1), exact at every n of the progression
    up, down = a**N, b**N
    for m in range(terms):
        numerators.append(value)
        if m + 1 < terms:
            value = value * up // down
    scale = b**n1
    if e >= 0:
        return Fraction(sum((n0 + m * N) ** e * v for m, v in enumerate(numerators)), scale)

    def split(lo, hi):  # sum over m in [lo, hi) of numerators[m] / n^(-e), as p / q unreduced
        if hi - lo == 1:
            return numerators[lo], (n0 + lo * N) ** (-e)
        mid = (lo + hi) // 2
        p1, q1 = split(lo, mid)
        p2, q2 = split(mid, hi)
        return p1 * q2 + p2 * q1, q1 * q2

    p, q = split(0, terms)
    return Fraction(p, q * scale)


@functools.cache
def _faulhaber(k: int) -> tuple[Fraction, ...]:
    """Coefficients c_0..c_(k+1) of sum_{m=0}^{M-1} m^k = sum_j c_j M^j (exact polynomial)."""
    M = sp.Symbol("M")
    m = sp.Symbol("m")
    poly = sp.Poly(sp.expand(sp.summation(m**k, (m, 0, M - 1))), M)
    return tuple(Fraction(int(c.p), int(c.q)) for c in reversed(poly.all_coeffs()))


def _polynomial_progression(e: int, N: int, n0: int, terms: int) -> Fraction:
    """sum_{m=0}^{terms-1} (n0 + m N)^e exactly, by Faulhaber's polynomials in ``terms``."""
    total = Fraction(0)
    for k in range(e + 1):
        power_sum = sum(c * terms**j for j, c in enumerate(_faulhaber(k)))
        total += math.comb(e, k) * n0 ** (e - k) * N**k * power_sum
    return total


def progression_sum_value(e: int, x: Fraction, N: int, n0: int, n1: int) -> mpmath.mpf:
    """eq-progression-sum at mpmath's working precision: exact summation below a few thousand
    terms; past it, Hurwitz zeta / digamma (x = 1) or the series' tail from the Lerch
    transcendent (x < 1)."""
    terms = (n1 - n0) // N + 1
    if terms <= 0:
        return mpmath.mpf(0)
    X = mpmath.mpf(x.numerator) / x.denominator
    if x == 1:
        if e >= 0:
            value = _polynomial_progression(e, N, n0, terms)
            return mpmath.mpf(value.numerator) / value.denominator
        s = -e
        a = mpmath.mpf(n0) / N
        if s == 1:
            return (mpmath.digamma(a + terms) - mpmath.digamma(a)) / N
        return (mpmath.zeta(s, a) - mpmath.zeta(s, a + terms)) / mpmath.mpf(N) ** s
    # x < 1: the terms fall geometrically; sum them directly until they are below the working
    # precision's last digit (each term after the current one is at most ratio times it)
    ratio = X**N
    needed = (mpmath.mp.prec + 64) * math.log(2) / -float(mpmath.log(ratio)) if ratio < 1 else math.inf
    if min(terms, needed * 2 + abs(e) * 50) <= _SERIES_TERMS:
        total = mpmath.mpf(0)
        eps = mpmath.mpf(2) ** (-mpmath.mp.prec - 20)
        for m in range(terms):
            n = n0 + m * N
            term = mpmath.mpf(n) ** e * X**n
            total += term
            # the rest: each later term is at most term * ratio * ((n + N) / n)^max(e, 0)
            growth = ratio * (mpmath.mpf(n + N) / n) ** max(e, 0)
            if m > 10 and growth < 1 and term / (1 - growth) < eps * abs(total):
                break
        return total
    # x close to 1: the Lerch transcendent Phi(z, s, a) = sum_m z^m / (m + a)^s, z = x^N
    a = mpmath.mpf(n0) / N
    head = mpmath.lerchphi(ratio, -e, a)
    tail = ratio**terms * mpmath.lerchphi(ratio, -e, a + terms)
    return X**n0 * mpmath.mpf(N) ** e * (head - tail)


def weighted_power_sum(a: int, x: Fraction, N: int, residue: int, c: int, p: int, t_low: int, t_high: int):
    """sum over t in [t_low, t_high] with t = residue (mod N) of t^a x^t / (t - c)^p, exactly:
    a rational plus rationals times :class:`ProgressionSum` numbers, as a dict
    {ProgressionSum or 1: Fraction} (1 for the rational part)."""
    # the first t >= t_low in the residue class; n = t - c runs over a progression of step N
    first = t_low + (residue - t_low) % N
    if first > t_high:
        return {}
    out: dict = {}
    shift = Fraction(x) ** c if c >= 0 else 1 / Fraction(x) ** (-c)
    for k in range(a + 1):  # t^a = (n + c)^a = sum_k C(a, k) c^(a-k) n^k
        coefficient = math.comb(a, k) * c ** (a - k) * shift
        if not coefficient:
            continue
        value = progression_sum(k - p, x, N, first - c, t_high - c)
        if isinstance(value, Fraction):
            out[1] = out.get(1, Fraction(0)) + coefficient * value
        else:
            out[value] = out.get(value, Fraction(0)) + coefficient
    return out


def as_number(total: dict):
    """A dict {ProgressionSum or 1: Fraction} (as :func:`weighted_power_sum` gives) as one
    exact number: a Fraction when every part is rational, else the SymPy sum of the parts."""
    rational = total.get(1, Fraction(0))
    parts = {n: v for n, v in total.items() if n != 1 and v}
    if not parts:
        return rational
    return sp.Rational(rational.numerator, rational.denominator) + sp.Add(
        *(sp.Rational(v.numerator, v.denominator) * n for n, v in parts.items())
    )


def rho_shift(rho) -> int | None:
    """c with rho_t = t - c for an integer c (the paper: c = 1), else None: the closed forms
    here take 1/rho_t^p = 1/n^p with n = t - c."""
    expr = sp.expand(sp.sympify(rho) - position)
    if expr.free_symbols or not expr.is_Integer:
        return None
    return -int(expr)


def numeric_value(value, dps: int = 50) -> float:
    """An exact number of the averages (int, Fraction, SymPy rational, or a rational combination
    of :class:`ProgressionSum` numbers) as a float: each progression sum evaluated once at
    ``dps`` digits and the combination formed at that precision, so that cancellation between
    its terms costs no accuracy in the double. Anything else goes through SymPy's ``float``.

    >>> numeric_value(ProgressionSum(-1, 1, 1, 1, 10**6) - ProgressionSum(-1, 1, 1, 1, 10**6 - 1))
    1e-06
    """
    if isinstance(value, int | Fraction):
        return float(value)
    expr = sp.sympify(value)
    if expr.is_Rational or not expr.has(ProgressionSum):
        return float(expr)
    terms = expr.as_coefficients_dict()
    if not all(term == 1 or isinstance(term, ProgressionSum) for term in terms):
        terms = sp.expand(expr).as_coefficients_dict()
    with mpmath.workdps(dps):
        total = mpmath.mpf(0)
        for term, coefficient in terms.items():
            if not coefficient.is_Rational:
                return float(expr)
            weight = mpmath.mpf(int(coefficient.p)) / int(coefficient.q)
            if term == 1:
                total += weight
            elif isinstance(term, ProgressionSum):
                e, x, N, n0, n1 = term.args
                total += weight * _value_at(
                    int(e), int(x.p), int(x.q), int(N), int(n0), int(n1), mpmath.mp.prec
                )
            else:
                return float(expr)
        return float(total)
