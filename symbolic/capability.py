"""Capability (the paper's Theorem 4.2): what the trained mesa-optimizer predicts on test
sequences of any length, and when it recovers the sequence.

The trained model is the diagonal model at the flow's limit, a_j b_j = p (the emergence and
equal-diagonal conditions hold). On a test sequence, at position t (eq-trained-prediction):

    y_t[j] / x_{t+1}[j] = (b_j / (t-1)) sum_{i=2}^t sum_k a_k |x_k|^2 lambda_j^(i-1-t) lambda_k^(t+1-i),

whose k = j terms give a_j b_j |x_j|^2 at every t, and whose k != j terms average to 0 over
the phases and shrink like 1/t. So the prediction error tends to (p |x_j|^2 - 1) x_{t+1}[j],
and the mean-square error per coordinate to the recovery residual (eq-recovery-residual)

    R(p) = E[|x_j|^2 (p |x_j|^2 - 1)^2] = p^2 m_6 - 2 p m_4 + m_2   (m_n = E|x_j|^n).

The sequence is recovered iff R(p) = 0, i.e. iff |x_j|^2 is 0 or 1/p almost surely. With the
trained p(T) = (T-2) m_4 / ((T-2) m_6 + (d-1) H_{T-2} m_{4,2}), (m_{4,2} = E x_j^4 x_k^2):

* at finite T: R(p(T)) = 0 iff m_4^2 = m_2 m_6 and m_{4,2} = 0 (disjoint supports);
* as T grows: p -> m_4 / m_6 and R -> m_2 - m_4^2 / m_6 >= 0, zero iff m_4^2 = m_2 m_6.

Each step is a function here, and :mod:`mesacheck.proofs_check.claims.capability` checks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import positions
from ._cache import disk_cached
from .moments import Distribution, expectation, token
from .phase_average import PositionSum
from .population_loss import (
    T,
    _diagonal_position_loss,
    diagonal_parameters,
    phases,
    population_loss,
    t,
)
from .setting import as_setting
from .stationary import ab_limit

__all__ = [
    "T_test",
    "p",
    "expected_ratio",
    "position_error",
    "error_limit",
    "recovery_residual",
    "test_loss",
    "RecoveryCondition",
    "recovery_condition",
]

T_test = sp.Symbol("T_test", integer=True, positive=True)
p = sp.Symbol("p", real=True)  # the trained a_j b_j
_i = sp.Symbol("i", integer=True)


def _on_equal_diagonal(expr: sp.Expr, d: int) -> sp.Expr:
    """Substitute a_j = a, b_j = p / a and check that only p = a b remains."""
    a_sym = sp.Symbol("a", real=True, nonzero=True)
    a, b = diagonal_parameters(d)
    out = sp.expand(expr.xreplace({**{s: a_sym for s in a}, **{s: p / a_sym for s in b}}))
    if out.has(a_sym):
        raise ArithmeticError("the expression does not depend on a b alone on the equal diagonal")
    return out


@disk_cached(key=lambda law: law.identity)
def expected_ratio(law: Distribution) -> sp.Expr:
    """E[y_t[1] / x_{t+1}[1]] at the trained point, as a function of p and the position t
    (the reference's "ratio" metric without its 1e-5), derived from eq-trained-prediction by
    exact phase averaging. x_1 cancels, so the ratio is a polynomial in |x_k|^2.
    """
    d = law.d
    lams, xs = phases(d), token(d)
    a, b = diagonal_parameters(d)
    j = 0
    summand = sum(
        a[k] * xs[k] * sp.conjugate(xs[k]) * lams[j] ** (_i - 1 - t) * lams[k] ** (t + 1 - _i)
        for k in range(d)
    )
    ratio = PositionSum.single(summand, (_i, 2, t), weight=b[j] / as_setting(law).rho)
    averaged = ratio.phase_average(lams, t)
    return sp.simplify(_on_equal_diagonal(expectation(averaged, law), d))


@disk_cached(key=lambda law: law.identity)
def position_error(law: Distribution) -> sp.Expr:
    """E ||y_t - x_{t+1}||^2 at position t of a test sequence, at the trained point a_j b_j = p
    (exact: the per-position loss of eq-population-loss, twice)."""
    setting = as_setting(law)
    per_position = _diagonal_position_loss(setting.d, setting.rho)
    return sp.factor(_on_equal_diagonal(2 * expectation(per_position, setting.law), setting.d))


def error_limit(law: Distribution) -> sp.Expr:
    """lim_{t -> oo} E ||y_t - x_{t+1}||^2 at the trained point, a polynomial in p."""
    return sp.expand(sp.limit(position_error(law), t, sp.oo))


def recovery_residual(law: Distribution, coordinate: int = 0) -> sp.Expr:
    """R(p) = E[|x_j|^2 (p |x_j|^2 - 1)^2] for coordinate j, from the law's moments."""
    e = [0] * law.d

    def m(n):
        alpha = list(e)
        alpha[coordinate] = n
        return law.moment(tuple(alpha), tuple(e))

    return sp.expand(p**2 * m(6) - 2 * p * m(4) + m(2)) if law.real else _complex_residual(law, coordinate)


def _complex_residual(law: Distribution, coordinate: int) -> sp.Expr:
    e = [0] * law.d

    def m(n):  # E |x_j|^(2n)
        alpha = list(e)
        alpha[coordinate] = n
        return law.moment(tuple(alpha), tuple(alpha))

    return sp.expand(p**2 * m(3) - 2 * p * m(2) + m(1))


def test_loss(law: Distribution) -> sp.Expr:
    """The exact expected test loss sum_{t=2}^{T_test-1} 1/2 E||y_t - x_{t+1}||^2 at the
    trained point, a function of p and T_test."""
    return _on_equal_diagonal(population_loss(law).xreplace({T: T_test}), law.d)


test_loss.__test__ = False  # the paper's name; pytest must not collect it as a test


@dataclass(frozen=True)
class RecoveryCondition:
    """The recovery condition of one law: the trained p(T), the residual R(p(T)) at training
    length T, and its limit as T grows; recovery iff the residual is 0."""

    p_T: sp.Expr
    residual_T: sp.Expr
    residual_infinity: sp.Expr

    def holds_at(self, T_value: int) -> bool:
        """Whether the residual vanishes at T = T_value, decided exactly; past T = 2002 with
        H_{T-2} as a symbol (SymPy would sum H_{10^6} exactly, for minutes), as in the
        emergence condition (:func:`mesacheck.symbolic.conditions._vanishes`)."""
        from .conditions import _vanishes
        from .positions import harmonic_symbol

        # its denominator is a power of alpha (and of the scale), non-zero wherever p(T) exists
        numerator = sp.numer(sp.together(self.residual_T))
        values = {}
        for h in numerator.atoms(sp.harmonic):
            n, order = (h.args + (sp.S.One,))[:2]
            n, order = int(n.subs(T, T_value)), int(order)
            exact = n <= positions.HARMONIC_EXACT_UNTIL
            values[h] = sp.harmonic(n, order) if exact else harmonic_symbol(n, order)
        return _vanishes(numerator.xreplace(values).subs(T, T_value))

    @property
    def holds_as_T_grows(self) -> bool:
        return sp.simplify(self.residual_infinity) == 0


def recovery_condition(law: Distribution) -> RecoveryCondition:
    """The recovery condition of ``law`` at every T and as T grows (thm-recovery)."""
    p_T = ab_limit(law)
    residual = recovery_residual(law)
    residual_T = sp.factor(residual.subs(p, p_T))
    p_infinity = sp.limit(p_T, T, sp.oo)
    return RecoveryCondition(p_T, residual_T, sp.factor(residual.subs(p, p_infinity)))
