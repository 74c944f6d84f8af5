"""The paper's counts: the exact rational factor of every entry of K and J under the paper's
process (unit-circle phases, every position), with a closed form in T (harmonic numbers) whose
cost does not grow with T.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import sympy as sp

from . import positions
from ._cache import disk_cached
from .moments import DEFAULT_RHO
from .positions import (
    POLYNOMIAL_FROM,
    check_length,
    power_sums,
    rho_weights,
    tail_forms,
)
from .slots import HAS_J, SLOTS, WEIGHT_POWER, check_kind, count_at, entries, phase_system

__all__ = ["phase_counts", "phase_counts_by_positions", "phase_count_form", "vanishes_at_every_length"]

_VERIFIED_UNTIL = 48  # the fit of count_polynomial is checked against the direct count up to here


@functools.cache
def count_polynomial(system, has_j: bool) -> tuple[Fraction, Fraction, Fraction]:
    """(c_0, c_1, c_2) with count(t) = c_0 + c_1 t + c_2 t^2 for every t >= POLYNOMIAL_FROM,
    fitted exactly on three positions and verified on the next ones."""
    equations, low_i, low_j = system
    t0 = POLYNOMIAL_FROM
    y0, y1, y2 = (count_at(equations, low_i, low_j, t0 + k, has_j) for k in range(3))
    c2 = Fraction(y2 - 2 * y1 + y0, 2)  # second difference / 2, in u = t - t0
    c1u = (y1 - y0) - c2
    coefficients = (y0 - c1u * t0 + c2 * t0 * t0, c1u - 2 * c2 * t0, c2)  # back to powers of t
    for t in range(t0, _VERIFIED_UNTIL + 1):
        if sum(c * t**k for k, c in enumerate(coefficients)) != count_at(equations, low_i, low_j, t, has_j):
            raise NotImplementedError(f"the phase count of {system} is not one quadratic in t >= {t0}")
    return tuple(Fraction(c) for c in coefficients)


@disk_cached
def phase_counts(T: int, kind: str, rho: sp.Expr = DEFAULT_RHO) -> dict:
    """The exact rational factor of every entry of K (``kind="quadratic"``) or J (``"linear"``):
    {(partition, blocks): sum_{t=2}^{T-1} w_t #{(i, j) whose phases cancel}}, with w_t =
    1/rho_t^2 for K and 1/rho_t for J (rho_t = t - 1 unless an assumption changes it).
    Entries that vanish are left out.

    Its cost does not grow with T (up to the size of the exact harmonic numbers): each count
    is a quadratic polynomial in t from t = 16 on (:func:`count_polynomial`), so the sum is
    a direct sum over t < 16 plus a closed form in T (harmonic numbers) of sum_t t^k / rho_t^p
    for k = 0, 1, 2 (:func:`power_sums`). :func:`phase_counts_by_positions` is the direct
    sum over every position, kept as the independent route for tests (and as the fallback
    for a rho whose sums have no closed form).

    >>> counts = phase_counts(3, "linear")  # t = 2: E[conj(x_3) v_2], x_3 = lambda^2 x_1
    >>> counts[(0, 0, 0, 0), (0, 0, 1, 0)]  # i = 2, b on x_2: conj(l^2) l^1 conj(l^0) l^1
    Fraction(1, 1)
    """
    check_length(T)
    power = WEIGHT_POWER[kind]
    weights = rho_weights(rho, range(2, min(T, POLYNOMIAL_FROM)), power)
    try:
        tail = power_sums(T, power, rho) if T - 1 >= POLYNOMIAL_FROM else [Fraction(0)] * 3
    except NotImplementedError:
        return phase_counts_by_positions(T, kind, rho)

    tails: dict = {}  # few distinct polynomials: each big-number combination is formed once

    def total(system):
        equations, low_i, low_j = system
        has_j = HAS_J[kind]
        head = sum(w * count_at(equations, low_i, low_j, t, has_j) for t, w in weights.items())
        if T - 1 < POLYNOMIAL_FROM:
            return Fraction(head)
        polynomial = count_polynomial(system, has_j)
        if polynomial not in tails:
            tails[polynomial] = sum(c * s for c, s in zip(polynomial, tail))
        return head + tails[polynomial]

    return _collect(kind, total)


def vanishes_at_every_length(kind: str, key) -> bool:
    """Whether the entry ``key`` = (partition, blocks) of :func:`phase_counts` is 0 at every T:
    no (i, j) solves its phase system at any position t (directly for t < 16, by the exact
    polynomial of :func:`count_polynomial` from there on)."""
    partition, blocks = key
    slots = SLOTS[kind]
    system = phase_system(partition, blocks, slots)
    equations, low_i, low_j = system
    has_j = HAS_J[kind]
    head = any(count_at(equations, low_i, low_j, t, has_j) for t in range(2, POLYNOMIAL_FROM))
    return not head and not any(count_polynomial(system, has_j))


@functools.cache
def _head(system, kind: str, T: int, rho: sp.Expr) -> Fraction:
    """sum_{t=2}^{min(T, POLYNOMIAL_FROM) - 1} w_t count(t), directly."""
    equations, low_i, low_j = system
    weights = _head_weights(rho, min(T, POLYNOMIAL_FROM), WEIGHT_POWER[kind])
    return sum(
        (w * count_at(equations, low_i, low_j, t, HAS_J[kind]) for t, w in weights),
        Fraction(0),
    )


@functools.cache
def _head_weights(rho: sp.Expr, stop: int, power: int) -> tuple[tuple[int, Fraction], ...]:
    return tuple(rho_weights(rho, range(2, stop), power).items())


def phase_count_form(
    T: int,
    kind: str,
    key,
    rho: sp.Expr = DEFAULT_RHO,
    *,
    exact_until: int | None = None,
) -> sp.Expr:
    """One entry of :func:`phase_counts`, ``key`` = (partition, blocks), computed on its own
    and in closed form in T: an exact rational, plus (past T = ``exact_until`` + 2) rationals
    times the harmonic numbers H_{T-2}, H_{T-2}^(2) left as :func:`harmonic_symbol` symbols.
    Its cost does not depend on T at all; 0 for an entry that vanishes.

    Up to ``exact_until`` (default :data:`HARMONIC_EXACT_UNTIL`, read at each call) the value
    is the exact rational of :func:`phase_counts`; past it, substituting
    :func:`exact_harmonic` for the symbols gives that rational.

    >>> phase_count_form(10**6, "quadratic", ((0,) * 6, (0,) * 6))  # one coordinate, every x_i
    2*H1_999998 + H2_999998 + 999998
    """
    check_length(T)
    check_kind(kind)
    until = positions.HARMONIC_EXACT_UNTIL if exact_until is None else exact_until
    return _phase_count_form(T, kind, tuple(map(tuple, key)), sp.sympify(rho), until)


@functools.lru_cache(maxsize=1 << 16)
def _phase_count_form(T: int, kind: str, key, rho: sp.Expr, exact_until: int) -> sp.Expr:
    partition, blocks = key
    slots = SLOTS[kind]
    system = phase_system(partition, blocks, slots)
    head = _head(system, kind, T, rho)
    total = sp.Rational(head.numerator, head.denominator)
    if T - 1 >= POLYNOMIAL_FROM:
        try:
            tail = tail_forms(T, WEIGHT_POWER[kind], rho, exact_until)
        except NotImplementedError:  # no closed form for this rho: the exact entry
            count = phase_counts(T, kind, rho).get(key, 0)
            return sp.Rational(count.numerator, count.denominator) if count else sp.S.Zero
        polynomial = count_polynomial(system, HAS_J[kind])
        total += sum(sp.Rational(c.numerator, c.denominator) * s for c, s in zip(polynomial, tail) if c)
    return sp.expand(total)


def phase_counts_by_positions(T: int, kind: str, rho: sp.Expr = DEFAULT_RHO) -> dict:
    """:func:`phase_counts` by the direct sum over every position t = 2..T-1 (cost ~ T)."""
    check_length(T)
    power = WEIGHT_POWER[kind]
    weights = rho_weights(rho, range(2, T), power)

    def total(system):
        equations, low_i, low_j = system
        return sum(
            (w * count_at(equations, low_i, low_j, t, HAS_J[kind]) for t, w in weights.items()),
            Fraction(0),
        )

    return _collect(kind, total)


def _collect(kind: str, total) -> dict:
    """{(partition, blocks): total(system)} over every slot partition and block choice, each
    distinct phase system summed once; zero entries left out."""
    memo: dict = {}
    out = {}
    for partition, blocks, system, _ in entries(kind):
        if system not in memo:
            memo[system] = total(system)
        if memo[system]:
            out[partition, blocks] = memo[system]
    return out
