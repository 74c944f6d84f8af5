"""The exact population loss of the full model at given matrices: assembled from K and J
(:mod:`mesacheck.symbolic.full_model`) entry by entry, the top of the symbolic core's layers."""

from __future__ import annotations

import sympy as sp

from .full_model import linear_coefficient, quadratic_coefficient, target_moment
from .setting import as_setting

__all__ = ["full_parameters", "full_population_loss"]


def full_parameters(d: int) -> tuple[sp.Matrix, sp.Matrix]:
    """W^KQ (2d x 2d) and W^PV (d x 2d) with complex symbol entries Q_ab and P_rc."""
    Q = sp.Matrix(2 * d, 2 * d, lambda a, b: sp.Symbol(f"Q_{a + 1}_{b + 1}", complex=True))
    P = sp.Matrix(d, 2 * d, lambda r, c: sp.Symbol(f"P_{r + 1}_{c + 1}", complex=True))
    return Q, P


def full_population_loss(setting, T: int, W_KQ: sp.Matrix, W_PV: sp.Matrix) -> sp.Expr:
    """The exact population loss at given matrices (symbols or numbers), for a given T, under a
    setting (or the paper's setting for a bare law).

    Built from K and J entry by entry, grouping the entries of z by their value, so it is
    meant for small d or for structured matrices (few distinct entries);
    :mod:`mesacheck.numeric.bridge` assembles the same coefficients as arrays for fast numerics.
    """

    setting = as_setting(setting)
    d, n = setting.d, 2 * setting.d
    if W_KQ.shape != (n, n) or W_PV.shape != (d, n):
        raise ValueError(f"need W^KQ {n} x {n} and W^PV {d} x {n} for d = {d}")
    support = [(a, b) for a in range(n) for b in range(n) if W_KQ[a, b] != 0]
    quadratic: dict = {}
    linear: dict = {}
    for r in range(d):
        zr = {(c, a, b): W_PV[r, c] * W_KQ[a, b] for c in range(n) if W_PV[r, c] != 0 for a, b in support}
        for row, zrow in zr.items():
            coefficient = linear_coefficient(setting, T, r, row)
            if coefficient != 0:
                linear[zrow] = linear.get(zrow, 0) + coefficient
            for column, zcol in zr.items():
                coefficient = quadratic_coefficient(setting, T, row, column)
                if coefficient != 0:
                    quadratic[zrow, zcol] = quadratic.get((zrow, zcol), 0) + coefficient
    loss = target_moment(setting, T) / 2
    loss += sum(sp.conjugate(u) * coefficient * v for (u, v), coefficient in quadratic.items()) / 2
    loss -= sum(sp.re(coefficient * u) for u, coefficient in linear.items())
    return loss
