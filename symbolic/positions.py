"""Positions and their weights: 1/rho_t^k, the sums over t in closed form (harmonic numbers),
and the check of the sequence length T, written once. Built on the law of x_1's module only for
the position symbol ``t`` and the default rho_t = t - 1.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

import sympy as sp

from .moments import position
from .phase_average import sum_over_positions

__all__ = [
    "POLYNOMIAL_FROM",
    "check_length",
    "rho_weights",
    "power_sums",
    "tail_forms",
    "harmonic_symbol",
    "harmonic_symbols_in",
    "exact_harmonic",
    "HARMONIC_EXACT_UNTIL",
]

_LAST = sp.Symbol("N", integer=True, positive=True)  # the last position, T - 1


# The count of solutions at position t is one polynomial in t (degree <= 2: two free indices)
# from here on: every constant in a system is at most 2 x 6 = 12 in magnitude, and the indices'
# bounds are 1, 2 or t, so the box stops changing shape past t = 12 + 2. The fit is checked
# against the direct count up to _VERIFIED_UNTIL, so a system that broke this would fail loudly.
POLYNOMIAL_FROM = 16


def check_length(T) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T < 3:
        raise ValueError(f"the sequence length T must be an integer >= 3, got {T!r}")


def rho_weights(rho: sp.Expr, positions, power: int) -> dict[int, Fraction]:
    """{t: 1/rho_t^power} exactly; rho_t must be a non-zero rational."""
    out = {}
    rho = sp.sympify(rho)
    polynomial = _rational_polynomial(rho)
    for position_t in positions:
        if polynomial is not None:  # exact integer arithmetic: ~50x faster than subs at T = 10^4
            integers, denominator = polynomial
            value = Fraction(sum(c * position_t**k for k, c in enumerate(integers)), denominator)
        else:
            value = rho.subs(position, position_t)
            value = Fraction(int(value.p), int(value.q)) if value.is_Rational else None
        if not value:
            shown = rho.subs(position, position_t)
            raise ValueError(
                f"rho_t must be a non-zero rational at every t = 2..T-1; rho_{position_t} = {shown}"
            )
        out[position_t] = 1 / value**power
    return out


def _rational_polynomial(rho: sp.Expr) -> tuple[list[int], int] | None:
    """rho's coefficients in t (lowest first) as integers over one denominator, if it is a
    polynomial in t with rational coefficients; else None."""
    try:
        coefficients = sp.Poly(rho, position).all_coeffs()[::-1]
    except sp.PolynomialError:
        return None
    if not all(c.is_Rational for c in coefficients):
        return None
    denominator = math.lcm(*(int(c.q) for c in coefficients))
    return [int(c.p) * (denominator // int(c.q)) for c in coefficients], denominator


@functools.cache
def _exact_harmonic(n: int, order: int) -> Fraction:
    """H_n^(order) = sum_{k=1}^n 1/k^order exactly, by binary splitting (SymPy's harmonic takes
    ~9 s at n = 10^4; this ~0.1 s)."""

    def split(a, b):  # sum_{k=a}^{b-1} as numerator / denominator, unreduced
        if b - a == 1:
            return 1, a**order
        m = (a + b) // 2
        p1, q1 = split(a, m)
        p2, q2 = split(m, b)
        return p1 * q2 + p2 * q1, q1 * q2

    return Fraction(*split(1, n + 1)) if n >= 1 else Fraction(0)


@functools.cache
def power_sum_form(power: int, weight_power: int, rho: sp.Expr) -> sp.Expr:
    """sum_{t=POLYNOMIAL_FROM}^{N} t^power / rho_t^weight_power in closed form in the symbol
    ``N`` (harmonic numbers), by :func:`mesacheck.symbolic.phase_average.sum_over_positions`."""
    return sum_over_positions(position**power / rho**weight_power, position, POLYNOMIAL_FROM, _LAST)


def power_sums(T: int, weight_power: int, rho: sp.Expr, degrees: int = 3) -> list[Fraction]:
    """sum_{t=POLYNOMIAL_FROM}^{T-1} t^k / rho_t^weight_power for k < ``degrees``, exactly:
    the closed forms evaluated at N = T - 1, with each harmonic number summed exactly."""
    out = []
    for k in range(degrees):
        form = power_sum_form(k, weight_power, rho)
        values = {}
        for h in form.atoms(sp.harmonic):
            n, order = (h.args + (sp.S.One,))[:2]
            value = _exact_harmonic(int(n.subs(_LAST, T - 1)), int(order))
            values[h] = sp.Rational(value.numerator, value.denominator)
        total = form.xreplace(values).subs(_LAST, T - 1)  # (nsimplify would split a huge Rational)
        if not total.is_Rational:
            raise NotImplementedError(f"the position sum {form} is not rational at T = {T}")
        out.append(Fraction(int(total.p), int(total.q)))
    return out


# Harmonic numbers H_n^(k) with n past this stay symbols in :func:`phase_count_form`: exactly,
# H_n has ~0.43 n digits (its denominator is lcm(1..n)), so at T = 10^6 every count would be a
# rational of a million digits; below it the exact rational costs under a millisecond.
HARMONIC_EXACT_UNTIL = 2000


_HARMONIC_NAME = re.compile(r"H(\d+)_(\d+)")


def harmonic_symbol(n: int, order: int = 1) -> sp.Symbol:
    """The symbol that stands for H_n^(order) = sum_{k<=n} 1/k^order in a closed form.

    >>> harmonic_symbol(999998, 2)
    H2_999998
    """
    return sp.Symbol(f"H{order}_{n}", positive=True)


def harmonic_symbols_in(expr: sp.Expr) -> dict[sp.Symbol, tuple[int, int]]:
    """{symbol: (n, order)} for the harmonic-number symbols of :func:`harmonic_symbol` in expr."""
    out = {}
    for s in sp.sympify(expr).free_symbols:
        match = _HARMONIC_NAME.fullmatch(s.name)
        if match and s.is_positive:
            out[s] = (int(match.group(2)), int(match.group(1)))
    return out


def exact_harmonic(n: int, order: int = 1) -> sp.Rational:
    """H_n^(order) as an exact SymPy rational (binary splitting; minutes at n = 10^6)."""
    value = _exact_harmonic(n, order)
    return sp.Rational(value.numerator, value.denominator)


@functools.cache
def tail_forms(T: int, power: int, rho: sp.Expr, exact_until: int) -> tuple[sp.Expr, ...]:
    """sum_{t=POLYNOMIAL_FROM}^{T-1} t^k / rho_t^power for k = 0, 1, 2: the closed forms of
    :func:`power_sum_form` at N = T - 1, each harmonic number exact up to ``exact_until``
    and a :func:`harmonic_symbol` past it, so each is a rational plus rationals times symbols."""
    out = []
    for k in range(3):
        form = power_sum_form(k, power, rho)
        values = {}
        for h in form.atoms(sp.harmonic):
            n, order = (h.args + (sp.S.One,))[:2]
            n, order = int(n.subs(_LAST, T - 1)), int(order)
            values[h] = exact_harmonic(n, order) if n <= exact_until else harmonic_symbol(n, order)
        total = sp.expand(form.xreplace(values).subs(_LAST, T - 1))
        symbols = list(harmonic_symbols_in(total))
        poly = sp.Poly(total, *symbols) if symbols else None
        if (
            poly is not None and (poly.total_degree() > 1 or not all(c.is_Rational for c in poly.coeffs()))
        ) or (poly is None and not total.is_Rational):
            raise NotImplementedError(f"the position sum {form} is not rational in H_n at T = {T}")
        out.append(total)
    return tuple(out)
