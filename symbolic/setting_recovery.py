"""Capability in a setting: the limit of the trained model's test error as the test position
grows, for any law of W, noise, rho_t and trained positions (thm-recovery-in-settings).

The trained model is the diagonal model with a_j b_j = p (the emergence and equal-diagonal
conditions hold). At test position t (eq-trained-prediction, with rho_t for t - 1):

    y_t[j] = (p / rho_t) sum_{i=2}^t x_i[j] sum_k conj(x_{i-1}[k]) x_t[k].

Without noise, x_i[k] = lambda_k^(i-1) x_k, and y_t[j] = x_{t+1}[j] (p / rho_t) sum_k |x_k|^2
sum_{i=2}^t |lambda_k|^(2(i-2)) (lambda_k conj(lambda_j))^(t+1-i) |lambda_j|^(...) collapses by
cases. Write c = lim_t (t - 1) / rho_t (c = 1 for the paper's rho_t = t - 1).

* |lambda| = 1 (the unit circle, or the N-th roots of unity): the k = j term is p c |x_j|^2; a
  k != j term is p / rho_t times a sum of t - 1 powers of nu = lambda_k conj(lambda_j). On the
  circle nu is a uniform phase, the sum has mean square t - 1, and the term vanishes in mean
  square; on the roots of unity nu = 1 with probability 1/N (then the sum is t - 1), else the
  sum is bounded. So the ratio tends to p c S_j, S_j = |x_j|^2 + sum_{k != j} B_k |x_k|^2 with
  B_k i.i.d. Bernoulli(1/N) (B_k = 0 on the circle), and per coordinate

      e(p) = E[|x_j|^2 (p c S_j - 1)^2]                                  (eq-limit-error-unit)

  (the paper's R(p) on the circle with c = 1). Recovery iff e(p) = 0.
* |lambda| < 1 surely (a contraction, or a random modulus whose atoms are all below 1): the
  k-sums are bounded, so the ratio tends to 0: y_t is negligible against x_{t+1}, and the
  relative error E||y_t - x_{t+1}||^2 / E||x_{t+1}||^2 tends to 1 (both tend to 0). Never
  recovered, whatever p.
* a random modulus with an atom at 1, q = P(|lambda| = 1) = lim_k E|lambda|^(2k) > 0: the
  coordinates with |lambda_j| < 1 fade; given |lambda_j| = 1 the circle's argument holds (the
  other coordinates' phases are uniform), so e(p) = q E[|x_j|^2 (p c |x_j|^2 - 1)^2] and the
  relative error is that over q E|x_j|^2. With no atom at 1 and a continuous modulus law the
  error's weight concentrates where 1 - |lambda|^2 ~ 1/t: not derived here.
* circular complex noise of E|xi|^2 = s2 under a contraction r < 1: x_t tends to the
  stationary process of variance sigma^2 = s2 / (1 - r^2), the average (1/(t-1)) sum_i x_i
  x_{i-1}^H tends to sigma^2 W (ergodic), so y_t - x_{t+1} tends to (p c sigma^2 - 1) W x_t -
  xi_t and

      e(p) = r^2 sigma^2 (p c sigma^2 - 1)^2 + s2,                       (eq-limit-error-noise)

  whose floor s2 (the fresh noise xi_t, unpredictable) is reached iff p = 1 / (c sigma^2).
* noise with |lambda| = 1 (complex or real noise, the circle or the roots of unity): x_t is a
  random walk, E|x_t|^2 grows like t s2, and the ratio y_t / x_{t+1} like p c t s2 / 2: the
  error grows without bound for every p != 0 (p = 0 predicts 0: relative error 1).

The trained p(T) is the exact p* of the symmetric line (:mod:`mesacheck.symbolic.symmetric_line`).
As T grows with every position trained (or the last only) the loss per position tends to
e(p) wherever e is a limit (Cesaro), so p(T) tends to p_oo = argmin e(p): the lowest limiting
error is e(p_oo). Other position weights: p_oo is not derived here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .moments import DEFAULT_RHO, position
from .setting import Circle, RandomModulus, RootsOfUnity, as_setting

__all__ = ["LimitingError", "limiting_error", "normalization_limit", "absolute_moment", "p"]

p = sp.Symbol("p", real=True)  # the trained a_j b_j


@dataclass(frozen=True)
class LimitingError:
    """The limit as the test position t grows of the trained model's error per coordinate, as
    a function of the trained p: ``error`` E|y_t[j] - x_{t+1}[j]|^2 (None where it is unbounded
    or not derived), ``relative`` that over lim E|x_{t+1}[j]|^2 (None: unbounded or not derived),
    ``floor`` the noise floor per coordinate (0 without noise) and ``relative_floor`` it over
    lim E|x_{t+1}[j]|^2; ``unbounded`` says the error grows without bound for every p != 0;
    ``p_infinity`` the limit of the trained p(T) as T grows (None: not derived or not needed);
    ``regime`` names the case and ``statement`` says why, in a line."""

    regime: str
    error: sp.Expr | None
    relative: sp.Expr | None
    floor: sp.Expr
    relative_floor: sp.Expr | None
    unbounded: bool
    p_infinity: sp.Expr | None
    statement: str

    def relative_at(self, p_value) -> sp.Expr | None:
        """The limiting relative error at a trained p (None where it is unbounded or not derived;
        p = 0 predicts 0, whose relative error is 1 in every regime)."""
        if p_value == 0:
            return sp.S.One
        if self.unbounded or self.relative is None:
            return None
        return sp.factor(self.relative.subs(p, p_value))

    def recovers_at(self, p_value) -> bool | None:
        """Whether the trained model at p reaches the noise floor (0 without noise) as t grows:
        decided exactly (None where the limit is not derived)."""
        if self.unbounded and p_value != 0:
            return False
        value = self.relative_at(p_value)
        if value is None or self.relative_floor is None:
            return None
        return sp.simplify(value - self.relative_floor) == 0


def absolute_moment(law, powers: dict) -> sp.Expr:
    """E prod_k |x_k|^(2 powers[k]) from the law's moments (real or complex)."""
    alpha = [0] * law.d
    for k, n in powers.items():
        alpha[k] = n
    if law.real:
        return law.moment(tuple(2 * n for n in alpha), (0,) * law.d)
    return law.moment(tuple(alpha), tuple(alpha))


def normalization_limit(setting) -> sp.Expr:
    """c = lim_{t -> oo} (t - 1) / rho_t (1 for the paper's rho_t = t - 1; oo where rho_t grows
    slower than t)."""
    rho = as_setting(setting).rho
    if rho == DEFAULT_RHO:
        return sp.S.One
    return sp.limit((position - 1) / rho, position, sp.oo)


def _unit_modulus_error(law, c, period) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """e(p) of eq-limit-error-unit: (e, E|x_j|^2 S_j, E|x_j|^2 S_j^2) for coordinate j = 1,
    with 1/N = 0 on the circle (period 0)."""
    d = law.d
    share = sp.Rational(1, period) if period else sp.S.Zero  # P(lambda_k = lambda_j), k != j
    m = {}

    def E(*powers):
        key = tuple(powers)
        if key not in m:
            m[key] = absolute_moment(law, dict(enumerate(powers)))
        return m[key]

    first = E(2) + ((d - 1) * share * E(1, 1) if d > 1 else 0)
    second = E(3)
    if d > 1:
        second += 2 * (d - 1) * share * E(2, 1) + (d - 1) * share * E(1, 2)
    if d > 2:
        second += (d - 1) * (d - 2) * share**2 * E(1, 1, 1)
    error = sp.expand(c**2 * p**2 * second - 2 * c * p * first + E(1))
    return error, sp.expand(first), sp.expand(second)


def _modulus_one_mass(phases) -> sp.Expr:
    """q = P(|lambda| = 1) = lim_k E|lambda|^(2k)."""
    if isinstance(phases, RandomModulus):
        if phases.atoms:
            return sp.Add(*(w for r, w in phases.atoms if r == 1))
        from .setting import k_symbol

        return sp.limit(phases.moments, k_symbol, sp.oo)
    return sp.S.One if phases.modulus_squared == 1 else sp.S.Zero


def limiting_error(setting) -> LimitingError:
    """The limiting test error of the trained model in ``setting`` (see the module's cases).

    >>> from mesacheck.symbolic.moments import sparse, gaussian
    >>> from mesacheck.symbolic.setting import Setting, roots_of_unity, circle
    >>> limiting_error(Setting(sparse(3, 1), roots_of_unity(3))).error  # sparse: S_j = |x_j|^2
    p**2/3 - 2*p/3 + 1/3
    >>> limiting_error(Setting(gaussian(2, 1), circle("1/2"))).relative
    1
    """
    setting = as_setting(setting)
    law, phases, noise = setting.law, setting.phases, setting.noise
    c = normalization_limit(setting)
    trains_to_limit = setting.positions in ("all", "last")
    m2 = absolute_moment(law, {0: 1})
    if c == sp.oo:
        return LimitingError(
            "rho_t grows slower than t",
            None,
            None,
            sp.S.Zero if not noise.present else noise.second_moment,
            None,
            True,
            None,
            f"(t - 1) / rho_t -> oo for rho_t = {setting.rho}: the prediction grows without bound for p != 0",
        )
    if noise.present:
        s2 = noise.second_moment
        modulus_one = isinstance(phases, (Circle, RootsOfUnity)) and phases.modulus_squared == 1
        if modulus_one:
            return LimitingError(
                "noise with |lambda| = 1",
                None,
                None,
                s2,
                sp.S.Zero,  # E|x_{t+1}|^2 grows without bound
                True,
                sp.S.Zero if trains_to_limit else None,
                "x_t is a random walk (E|x_t|^2 grows like t E|xi|^2), so y_t / x_{t+1} grows like "
                "p c t E|xi|^2 / 2: the error grows without bound for every p != 0, and p(T) -> 0",
            )
        if isinstance(phases, Circle) and noise.circular:
            r2 = sp.Rational(phases.modulus_squared.numerator, phases.modulus_squared.denominator)
            sigma2 = s2 / (1 - r2)
            error = sp.expand(r2 * sigma2 * (p * c * sigma2 - 1) ** 2 + s2)
            return LimitingError(
                "complex noise under a contraction",
                error,
                sp.expand(error / sigma2),
                s2,
                sp.factor(s2 / sigma2),
                False,
                1 / (c * sigma2) if trains_to_limit and c != 0 else None,
                f"x_t tends to the stationary process of variance sigma^2 = E|xi|^2 / (1 - r^2) = {sigma2}; "
                "(1/(t-1)) sum_i x_i x_{i-1}^H -> sigma^2 W, so y_t - x_{t+1} -> (p c sigma^2 - 1) W x_t "
                "- xi_t",
            )
        raise NotImplementedError(f"the limiting error is not derived for {setting.describe()}")
    q = _modulus_one_mass(phases)
    if q == 0:
        derived = isinstance(phases, Circle) or (isinstance(phases, RandomModulus) and phases.atoms)
        return LimitingError(
            "contraction (|lambda| < 1)",
            sp.S.Zero,
            sp.S.One if derived else None,
            sp.S.Zero,
            sp.S.Zero,
            False,
            None,
            "|lambda| < 1 surely: the sums in y_t stay bounded while rho_t grows, so y_t / x_{t+1} -> 0 and "
            "the "
            "relative error tends to 1 for every p (both errors and x_t tend to 0)"
            if derived
            else "no atom of |lambda| at 1: the error's weight concentrates where 1 - |lambda|^2 ~ 1/t, "
            "not derived here",
        )
    period = phases.phase_period if isinstance(phases, RootsOfUnity) else 0
    error, first, second = _unit_modulus_error(law, c, period)
    p_inf = first / (c * second) if trains_to_limit and c != 0 and second != 0 else None
    if q == 1:
        rule = (
            f"on the N = {phases.N} roots of unity lambda_k = lambda_j with probability 1/N, adding |x_k|^2 "
            "to the statistic S_j"
            if period
            else "on the unit circle the other coordinates' terms vanish in mean square"
        )
        return LimitingError(
            "|lambda| = 1",
            error,
            sp.expand(error / m2) if m2 != 0 else None,
            sp.S.Zero,
            sp.S.Zero,
            False,
            sp.factor(p_inf) if p_inf is not None else None,
            f"y_t[j] / x_(t+1)[j] -> p c S_j with c = lim (t-1)/rho_t = {c}; {rule}",
        )
    return LimitingError(
        "random modulus with an atom at 1",
        sp.expand(q * error),
        sp.expand(error / m2) if m2 != 0 else None,
        sp.S.Zero,
        sp.S.Zero,
        False,
        sp.factor(p_inf) if p_inf is not None else None,
        f"coordinates with |lambda_j| < 1 fade; P(|lambda| = 1) = {q}, and given |lambda_j| = 1 the unit "
        "circle's argument holds",
    )
