"""The phase-averaging rule and its use on sums over sequence positions.

The phases lambda_k = exp(i theta_k) are independent and uniform on the unit circle, so for
integers n_1, ..., n_d

    E[lambda_1^n_1 ... lambda_d^n_d] = 1 if every n_k = 0, else 0.       (eq-phase-average)

A sequence x_i = W^(i-1) x_1 carries phases whose exponents are affine in the position
indices (i, t, ...). After expanding a product of sums over positions, each term is a
monomial in the phases with such exponents; its average is the number of index tuples in the
summation box on which every exponent vanishes. :class:`PositionSum` keeps sums over
positions as data (summand plus index box) so that this count is done exactly, for a
symbolic position t, instead of by SymPy's general ``Sum`` machinery.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import sympy as sp

__all__ = ["PositionSum", "phase_average", "phase_exponents", "sum_over_positions"]

_fresh = itertools.count()


def _fresh_index() -> sp.Symbol:
    return sp.Symbol(f"i_{next(_fresh)}", integer=True)


def phase_exponents(monomial: sp.Expr, phases) -> tuple[sp.Expr, dict]:
    """Split a monomial into (coefficient free of phases, {phase: exponent})."""
    exponents = {lam: sp.S.Zero for lam in phases}
    coefficient = sp.S.One
    for factor in sp.Mul.make_args(monomial):
        base, exponent = factor.as_base_exp()
        if base in exponents:
            exponents[base] += exponent
        elif factor.has(*phases):
            raise ValueError(f"cannot read phase exponents from {factor}")
        else:
            coefficient *= factor
    return coefficient, exponents


def phase_average(monomial: sp.Expr, phases) -> sp.Expr:
    """E[monomial] for a monomial with integer (numeric) phase exponents, by eq-phase-average.

    >>> lam = sp.Symbol("lambda_1")
    >>> phase_average(3 * lam**2 / lam**2, [lam]), phase_average(3 * lam, [lam])
    (3, 0)
    """
    coefficient, exponents = phase_exponents(monomial, phases)
    if any(not e.is_integer or not e.is_number for e in exponents.values()):
        raise ValueError("use PositionSum.phase_average for symbolic exponents")
    return coefficient if all(e == 0 for e in exponents.values()) else sp.S.Zero


@dataclass(frozen=True)
class PositionSum:
    """A sum of terms, each a summand summed over its own box of position indices.

    ``terms`` is a tuple of ``(weight, summand, ((index, low, high), ...))``: the weight is a
    phase-free factor outside the sum (such as 1/(t-1)), kept apart so that expanding the
    summand never expands a denominator; an empty box means the summand stands alone.
    """

    terms: tuple

    @classmethod
    def single(cls, summand: sp.Expr, *box, weight: sp.Expr = 1) -> PositionSum:
        return cls(((sp.sympify(weight), sp.sympify(summand), tuple(box)),))

    @classmethod
    def zero(cls) -> PositionSum:
        return cls(())

    def __add__(self, other: PositionSum) -> PositionSum:
        return PositionSum(self.terms + other.terms)

    def __sub__(self, other: PositionSum) -> PositionSum:
        return self + other.scale(-1)

    def scale(self, factor: sp.Expr) -> PositionSum:
        return PositionSum(tuple((factor * w, s, box) for w, s, box in self.terms))

    def __mul__(self, other: PositionSum) -> PositionSum:
        terms = []
        for (w1, s1, box1), (w2, s2, box2) in itertools.product(self.terms, other.terms):
            renamed = {i: _fresh_index() for i, _, _ in box2}
            box2 = tuple((renamed[i], lo, hi) for i, lo, hi in box2)
            terms.append((w1 * w2, s1 * s2.xreplace(renamed), box1 + box2))
        return PositionSum(tuple(terms))

    def conjugate(self, phases) -> PositionSum:
        """Complex conjugate, using |lambda| = 1 (conj(lambda) = 1/lambda)."""
        unit = {sp.conjugate(lam): 1 / lam for lam in phases}
        return PositionSum(
            tuple((sp.conjugate(w), sp.conjugate(s).xreplace(unit), box) for w, s, box in self.terms)
        )

    def phase_average(self, phases, position: sp.Symbol) -> sp.Expr:
        """E over the phases, exact for every position ``position`` >= 2 (a symbol)."""
        total = sp.S.Zero
        for weight, summand, box in self.terms:
            weight, summand = sp.sympify(weight), sp.sympify(summand)
            if weight.has(*phases):
                raise ValueError(f"the weight {weight} carries a phase")
            expanded = sp.expand(summand, power_exp=False, power_base=False, mul=True)
            for monomial in sp.Add.make_args(expanded):
                coefficient, exponents = phase_exponents(monomial, phases)
                indices = [i for i, _, _ in box]
                if coefficient.has(*indices):
                    raise ValueError("a summand depends on a position index outside the phases")
                constraints = [e for e in exponents.values() if e != 0]
                total += weight * coefficient * _count_solutions(constraints, box, position)
        return total


def _count_solutions(constraints, box, position) -> sp.Expr:
    """Number of index tuples in ``box`` where every affine constraint vanishes, for every
    position >= 2. Solved indices must be +-(one free index) + offset, or a single point."""
    indices = [i for i, _, _ in box]
    ranges = {i: (lo, hi) for i, lo, hi in box}
    if not constraints:
        return sp.Mul(*(hi - lo + 1 for lo, hi in ranges.values()))
    solutions = sp.linsolve(constraints, indices)
    if solutions == sp.S.EmptySet:
        return sp.S.Zero
    (solution,) = solutions
    shifted = sp.Symbol("s", integer=True, nonnegative=True)

    def sign(x):  # +1, 0 or -1 if x has that sign for every position >= 2, else None
        x = sp.expand(sp.sympify(x).subs(position, shifted + 2))
        if x.is_zero:
            return 0
        if x.is_nonnegative:
            return 1
        if x.is_nonpositive:
            return -1
        return None

    def larger(x, y, pick_max):
        s_ = sign(x - y)
        if s_ is None:
            raise NotImplementedError(f"the count of solutions changes form with the position: {x} vs {y}")
        return (x if s_ >= 0 else y) if pick_max else (y if s_ >= 0 else x)

    free = {i: list(ranges[i]) for i, v in zip(indices, solution) if v == i}
    for index, value in zip(indices, solution):
        if value == index:
            continue
        lo, hi = ranges[index]
        drivers = [f for f in free if value.has(f)]
        if not drivers:  # a single point: inside the box or not
            inside = [sign(value - lo), sign(hi - value)]
            if None in inside:
                raise NotImplementedError(f"cannot decide whether {index} = {value} lies in [{lo}, {hi}]")
            if min(inside) < 0:
                return sp.S.Zero
            continue
        if len(drivers) > 1:
            raise NotImplementedError(f"unsupported index coupling {index} = {value}")
        (f,) = drivers
        slope = sp.diff(value, f)
        offset = sp.expand(value - slope * f)
        if slope == 1:
            bounds = (lo - offset, hi - offset)
        elif slope == -1:
            bounds = (offset - hi, offset - lo)
        else:
            raise NotImplementedError(f"unsupported index coupling {index} = {value}")
        free[f] = [larger(free[f][0], bounds[0], True), larger(free[f][1], bounds[1], False)]
    count = sp.S.One
    for lo, hi in free.values():
        width = hi - lo + 1
        s_ = sign(width)
        if s_ is None:
            raise NotImplementedError(f"the count {width} changes sign with the position")
        if s_ <= 0:
            return sp.S.Zero
        count *= width
    return count


def sum_over_positions(summand: sp.Expr, position: sp.Symbol, low, high) -> sp.Expr:
    """sum_{position=low}^{high} summand, exactly, for a summand rational in the position.

    Terms are grouped by their dependence on the position; partial fractions then turn
    1/(t - r)^k into generalized harmonic numbers.

    >>> t, T = sp.symbols("t T", integer=True)
    >>> sum_over_positions(1 + 1 / (t - 1), t, 2, T - 1)
    T + harmonic(T - 2) - 2
    """
    groups: dict = {}
    for term in sp.Add.make_args(sp.expand(summand)):
        coefficient, dependent = term.as_independent(position, as_Add=False)
        groups[dependent] = groups.get(dependent, sp.S.Zero) + coefficient
    return sp.Add(*(c * _sum_rational(dep, position, low, high) for dep, c in groups.items()))


@cache
def _sum_rational(dependent: sp.Expr, position: sp.Symbol, low, high) -> sp.Expr:
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.apart(sp.together(dependent), position)):
        coefficient, factor = term.as_independent(position, as_Add=False)
        base, power = factor.as_base_exp()
        if not power.is_negative:
            total += sp.summation(term, (position, low, high))
            continue
        shift = sp.Poly(base, position)
        if shift.degree() != 1 or shift.LC() != 1 or not power.is_integer:
            raise NotImplementedError(f"cannot sum {term} over positions")
        root = -shift.TC()  # term = coefficient / (position - root)**(-power)
        first, last = low - root, high - root
        if not (sp.sympify(first).is_integer and first >= 1):
            raise NotImplementedError(f"pole of {term} inside the range of positions")
        total += coefficient * (sp.harmonic(last, -power) - sp.harmonic(first - 1, -power))
    return sp.expand(total)
