"""The full flow of an exchangeable token (e.g. full-one) reduced by permutation symmetry.

If the law of x_1 is unchanged by permuting coordinates, the loss is unchanged by
(W^KQ, W^PV) -> (Pi W^KQ Pi^T, Pi W^PV Pi^T) for block-diagonal permutations Pi, so the
subspace where every block is alpha I + beta 11^T is invariant under the full flow. From the
diagonal initialization only the prediction blocks move (block invariance), so the flow is
four-dimensional (thm-symmetric-flow):

    W^KQ lower-left block A = a I + a' 11^T,   W^PV left block B = b I + b' 11^T.

The loss is invariant under (A, B) -> (A / s, s B), so its stationary points come in orbits.
With b != 0 fix b = 1: the loss is quadratic in (a, a'), which the linear equations
dL/da = dL/da' = 0 give as rational functions of the gauge-free ratio r = b'/b; dL/db' = 0
is then one polynomial equation in r. The flow keeps ||B||_F^2 - ||A||_F^2 fixed, which picks
the point of the orbit that it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ._cache import disk_cached
from .full_loss import full_population_loss
from .moments import Distribution, exact_number

__all__ = [
    "a",
    "a_",
    "b",
    "b_",
    "r",
    "symmetric_blocks",
    "symmetric_loss",
    "SymmetricStationaryPoint",
    "symmetric_stationary_points",
    "symmetric_limit",
]

a, a_, b, b_ = sp.symbols("a a' b b'", real=True)
r = sp.Symbol("r", real=True)  # b'/b, free of the scaling gauge


def symmetric_blocks(d: int, a_value=a, a_prime=a_, b_value=b, b_prime=b_) -> tuple[sp.Matrix, sp.Matrix]:
    """W^KQ and W^PV with prediction blocks a I + a' 11^T and b I + b' 11^T, zero elsewhere."""
    ones = sp.ones(d, d)
    W_KQ, W_PV = sp.zeros(2 * d, 2 * d), sp.zeros(d, 2 * d)
    W_KQ[d:, :d] = a_value * sp.eye(d) + a_prime * ones
    W_PV[:, :d] = b_value * sp.eye(d) + b_prime * ones
    return W_KQ, W_PV


@disk_cached(key=lambda law, T: (law.identity, T))
def symmetric_loss(law: Distribution, T: int) -> sp.Expr:
    """The exact loss on the symmetric prediction blocks, a polynomial in a, a', b, b'."""
    return sp.expand(full_population_loss(law, T, *symmetric_blocks(law.d)))


@dataclass(frozen=True)
class SymmetricStationaryPoint:
    """A stationary orbit in the gauge b = 1: A = a I + a' 11^T, B = I + r 11^T, exact.
    ``ratio_equation`` is the irreducible polynomial whose root ``r`` is."""

    r: sp.Expr
    a: sp.Expr
    a_prime: sp.Expr
    ratio_equation: sp.Expr
    loss: sp.Float  # the loss on the orbit, to 40 digits


@disk_cached(key=lambda law, T: (law.identity, T))
def symmetric_stationary_points(law: Distribution, T: int) -> list[SymmetricStationaryPoint]:
    """Every real stationary orbit with b != 0 of the symmetric flow, in closed form (roots of
    irreducible polynomials over Q, as ``CRootOf``). Each is checked by substitution: the
    gradient at the point vanishes to 60 digits."""
    loss = symmetric_loss(law, T)
    gauge = loss.xreplace({b: 1, b_: r})
    linear = sp.solve([sp.diff(gauge, a), sp.diff(gauge, a_)], [a, a_], dict=True)
    if len(linear) != 1:
        raise ArithmeticError("the loss is not strictly quadratic in (a, a') at b = 1")
    linear = linear[0]
    numerator = sp.numer(sp.together(sp.diff(gauge, r).xreplace(linear)))
    points = []
    for factor, _ in sp.factor_list(numerator, r)[1]:
        poly = sp.Poly(factor, r)
        for root in poly.real_roots():
            point = {r: root, a: linear[a].xreplace({r: root}), a_: linear[a_].xreplace({r: root})}
            residual = [sp.N(sp.diff(gauge, v).xreplace(point), 60) for v in (a, a_, r)]
            if any(abs(v) > sp.Float(10) ** -40 for v in residual):
                raise ArithmeticError(
                    f"the stationary point at r = {sp.N(root)} fails substitution: {residual}"
                )
            points.append(
                SymmetricStationaryPoint(
                    root, point[a], point[a_], poly.as_expr(), sp.N(gauge.xreplace(point), 40)
                )
            )
    return points


def symmetric_limit(point: SymmetricStationaryPoint, d: int, conserved) -> dict:
    """The point of the orbit with ||B||_F^2 - ||A||_F^2 = ``conserved``: the scale s with
    A = A_1 / s, B = s B_1 solves s^2 |B_1|^2 - |A_1|^2 / s^2 = conserved. Returns the exact
    (a, a', b, b') as SymPy numbers."""
    conserved = exact_number(conserved)

    def frobenius2(diagonal_part, ones_part):  # ||x I + y 11^T||_F^2
        return d * (diagonal_part + ones_part) ** 2 + d * (d - 1) * ones_part**2

    B1, A1 = frobenius2(1, point.r), frobenius2(point.a, point.a_prime)
    if A1 == 0:
        raise ValueError(
            "on this orbit A = 0: the prediction vanishes and the scale is not fixed by the flow"
        )
    s2 = (conserved + sp.sqrt(conserved**2 + 4 * B1 * A1)) / (2 * B1)
    s = sp.sqrt(s2)
    return {a: point.a / s, a_: point.a_prime / s, b: s, b_: s * point.r}
