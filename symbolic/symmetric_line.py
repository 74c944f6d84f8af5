"""The mesa-optimizer of any setting at a finite T, exactly: the loss on the symmetric line.

On the diagonal model with a_j = a, b_j = b (the paper's initialization), z_r = W^PV[r, :] (x)
W^KQ is p = a b times the pattern e_(r, d+k, k) summed over k, so the full loss
(:mod:`mesacheck.symbolic.full_model`) restricted to the line is

    L = d f(p),  f(p) = (alpha p^2 - 2 beta p + gamma) / 2,                 (eq-reduced-loss)

    alpha = (1/d) sum_{r,k,l} K[(r, d+k, k), (r, d+l, l)],   beta = (1/d) Re sum_{r,k} J_r[(r, d+k, k)],

with K and J exact under the setting (:mod:`mesacheck.symbolic.process_counts`). For a law whose moments
are unchanged by permuting coordinates the line is invariant (the permutations are symmetries
of L), the flow keeps a^2 - b^2 and reaches p* = beta / alpha from every start off the
origin and the half-line a_0 = -b_0, exactly as in the paper's setting (thm-emergence): the
proof uses only that L is a quadratic in p on the line. This is the closed form's counterpart
for settings with no closed form in T: one exact rational (or an expression in the law's
parameters) for every finite T.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import sympy as sp

from .full_model import linear_coefficient, quadratic_coefficient, target_moment
from .moments import Distribution
from .position_sums import ProgressionSum
from .setting import Setting, as_setting

__all__ = ["SymmetricLine", "symmetric_line", "exchangeable"]


class SymmetricLine:
    """alpha, beta, gamma of eq-reduced-loss for one setting at one T, and p* = beta / alpha."""

    def __init__(self, setting: Setting, T: int, alpha: sp.Expr, beta: sp.Expr, gamma: sp.Expr):
        self.setting, self.T = setting, T
        self.alpha, self.beta, self.gamma = alpha, beta, gamma

    @property
    def ab_star(self) -> sp.Expr:
        """p* = beta / alpha: the mesa-optimizer's step-size product."""
        if self.alpha == 0:
            raise ZeroDivisionError("alpha = 0: the loss does not depend on a b (x_1 = 0 almost surely?)")
        if self.alpha.has(ProgressionSum) or self.beta.has(ProgressionSum):
            return self.beta / self.alpha  # exact; factor() would only slow down past ~2000 positions
        return sp.factor(self.beta / self.alpha)

    @property
    def error_per_position(self) -> sp.Expr:
        """The trained model's mean squared error per trained position and coordinate at p*:
        L(p*) = d f(p*) = d (gamma - beta^2 / alpha) / 2 is sum_t omega_t E||y_t - x_{t+1}||^2 / 2,
        so the error is (gamma - beta^2 / alpha) / sum_t omega_t."""
        positions = self.setting.positions
        if positions in ("all", "last"):  # sum_t omega_t without building every weight
            total = Fraction(self.T - 2 if positions == "all" else 1)
        else:
            total = sum(self.setting.position_weights(self.T).values())
        error = (self.gamma - self.beta**2 / self.alpha) / sp.Rational(total.numerator, total.denominator)
        return error if error.has(ProgressionSum) else sp.factor(error)

    def __repr__(self):
        return f"SymmetricLine(T={self.T}, alpha={self.alpha}, beta={self.beta}, gamma={self.gamma})"


def _patterns(n: int):
    """Set partitions of n labelled slots as restricted growth strings."""
    seen = set()
    for labels in itertools.product(range(n), repeat=n):
        canonical = {}
        key = tuple(canonical.setdefault(x, len(canonical)) for x in labels)
        if key not in seen:
            seen.add(key)
            yield key


def exchangeable(law: Distribution, degree: int = 6) -> bool:
    """Whether the moments of total degree <= ``degree`` supported on the first min(d, degree)
    coordinates are unchanged by swapping two coordinates and by a cyclic shift (which generate
    every permutation): a necessary condition for exchangeability, exact on those moments."""
    d = law.d
    if d == 1:
        return True
    span = min(d, degree)
    transposition = [1, 0] + list(range(2, d))
    cycle = list(range(1, d)) + [0]
    for total in range(1, degree + 1):
        for split in itertools.product(range(total + 1), repeat=span):
            if sum(split) != total:
                continue
            for conjugated in (
                itertools.product(*(range(e + 1) for e in split)) if not law.real else [(0,) * span]
            ):
                alpha = tuple(e - c for e, c in zip(split, conjugated)) + (0,) * (d - span)
                beta = tuple(conjugated) + (0,) * (d - span)
                value = law.moment(alpha, beta)
                for perm in (transposition, cycle):
                    moved_alpha = tuple(alpha[perm[k]] for k in range(d))
                    moved_beta = tuple(beta[perm[k]] for k in range(d))
                    if sp.expand(law.moment(moved_alpha, moved_beta) - value) != 0:
                        return False
    return True


def symmetric_line(setting, T: int) -> SymmetricLine:
    """alpha, beta, gamma exactly for ``setting`` (or a bare law in the paper's setting) at
    length T. The sums over coordinates (r, k, l) run over their equality patterns, each with
    its number of tuples d (d-1) ..., so the cost does not grow with d; this needs an
    exchangeable law, which is checked.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> symmetric_line(gaussian(3, 1), 5).ab_star  # (T-2)/(5(T-2) + (d-1) H_{T-2}) at T = 5
    9/56
    """
    setting = as_setting(setting)
    law = setting.law
    if not isinstance(T, int) or isinstance(T, bool) or T < 3:
        raise ValueError(f"the sequence length T must be an integer >= 3, got {T!r}")
    if not exchangeable(law):
        raise ValueError(
            f"the moments of {law.name} change when coordinates are permuted: the flow leaves the "
            "symmetric line, so p* = beta / alpha does not describe it"
        )
    d = law.d
    quadratic = sp.S.Zero
    for pattern in _patterns(3):  # (r, k, l)
        classes = max(pattern) + 1
        if classes > d:
            continue
        r, k, l = pattern
        quadratic += math.perm(d, classes) * quadratic_coefficient(setting, T, (r, d + k, k), (r, d + l, l))
    linear = sp.S.Zero
    for pattern in _patterns(2):  # (r, k)
        classes = max(pattern) + 1
        if classes > d:
            continue
        r, k = pattern
        linear += math.perm(d, classes) * linear_coefficient(setting, T, r, (r, d + k, k))
    return SymmetricLine(
        setting,
        T,
        sp.expand(quadratic / d),
        sp.expand(sp.re(linear) / d),
        sp.expand(target_moment(setting, T) / d),
    )
