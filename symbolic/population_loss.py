"""The model, the sequence process and the exact population loss, derived by SymPy.

Setting (``shared/spec/model.md``): x_{i} = W^(i-1) x_1 with W = diag(lambda_1..lambda_d),
embedding e_i = (x_i; x_{i-1}) with x_0 = 0, and the linear causal self-attention prediction

    y_t = W^PV (sum_{i<=t} e_i e_i^H) W^KQ e_t / (t - 1),     t = 2 .. T-1,

trained on L = E sum_{t=2}^{T-1} 1/2 ||y_t - x_{t+1}||^2.            (eq-population-loss)

The loss is derived, never typed in: the prediction is built from the matrices, the squared
error is expanded, the phases are averaged exactly (:mod:`mesacheck.symbolic.phase_average`), the x_1
moments are taken (:mod:`mesacheck.symbolic.moments`) and the positions are summed in closed form.
"""

from __future__ import annotations

import sympy as sp

from ._cache import disk_cached
from .moments import DEFAULT_RHO, Distribution, expectation, token
from .phase_average import PositionSum, sum_over_positions

__all__ = [
    "t",
    "T",
    "phases",
    "prediction_block_symbols",
    "diagonal_parameters",
    "embed_prediction_blocks",
    "prediction",
    "population_loss",
    "position_loss",
]

t = sp.Symbol("t", integer=True, positive=True)  # the predicting position, t >= 2
T = sp.Symbol("T", integer=True, positive=True)  # the sequence length, T >= 3
_i = sp.Symbol("i", integer=True)  # the attended position


def phases(d: int) -> tuple[sp.Symbol, ...]:
    """lambda_1..lambda_d, the diagonal of W; on the unit circle."""
    return sp.symbols(f"lambda_1:{d + 1}")


def diagonal_parameters(d: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """(a_1..a_d, b_1..b_d): the diagonals of the two prediction blocks, real."""
    return sp.symbols(f"a_1:{d + 1}", real=True), sp.symbols(f"b_1:{d + 1}", real=True)


def prediction_block_symbols(d: int) -> tuple[sp.Matrix, sp.Matrix]:
    """General real prediction blocks A (of W^KQ) and B (of W^PV), entries A_jk, B_jk."""
    A = sp.Matrix(d, d, lambda j, k: sp.Symbol(f"A_{j + 1}{k + 1}", real=True))
    B = sp.Matrix(d, d, lambda j, k: sp.Symbol(f"B_{j + 1}{k + 1}", real=True))
    return A, B


def embed_prediction_blocks(A: sp.Matrix, B: sp.Matrix) -> tuple[sp.Matrix, sp.Matrix]:
    """W^KQ (2d x 2d) with A in its lower-left block, W^PV (d x 2d) with B in its left block."""
    d = A.shape[0]
    W_KQ = sp.zeros(2 * d, 2 * d)
    W_KQ[d:, :d] = A
    W_PV = sp.zeros(d, 2 * d)
    W_PV[:, :d] = B
    return W_KQ, W_PV


def _token_at(position, lams, xs) -> sp.Matrix:
    return sp.Matrix([lam ** (position - 1) * x for lam, x in zip(lams, xs)])


def prediction(W_KQ: sp.Matrix, W_PV: sp.Matrix, rho: sp.Expr = DEFAULT_RHO) -> list[PositionSum]:
    """The coordinates of y_t for a symbolic position t >= 2, as sums over attended positions,
    divided by the normalization rho_t (the reference's t - 1 unless an assumption changes it)."""
    d = W_PV.shape[0]
    if W_KQ.shape != (2 * d, 2 * d) or W_PV.shape != (d, 2 * d):
        raise ValueError(f"need W_KQ 2d x 2d and W_PV d x 2d, got {W_KQ.shape}, {W_PV.shape}")
    lams, xs = phases(d), token(d)
    x_i, x_prev = _token_at(_i, lams, xs), _token_at(_i - 1, lams, xs)
    query = W_KQ * _token_at(t, lams, xs).col_join(_token_at(t - 1, lams, xs))
    P1, P2 = W_PV[:, :d], W_PV[:, d:]

    def inner(u, v):  # u^H v, with conj(lambda) = 1/lambda
        unit = {sp.conjugate(lam): 1 / lam for lam in lams}
        return sum(sp.conjugate(a).xreplace(unit) * b for a, b in zip(u, v))

    # e_1 = (x_1; 0): only the top half of e_i is present at i = 1.
    top = (P1 * x_i) * inner(x_i, query[:d, :])
    rest = (P1 * x_i) * inner(x_prev, query[d:, :]) + (P2 * x_prev) * (
        inner(x_i, query[:d, :]) + inner(x_prev, query[d:, :])
    )
    return [
        PositionSum.single(top[j], (_i, 1, t), weight=1 / rho)
        + PositionSum.single(rest[j], (_i, 2, t), weight=1 / rho)
        for j in range(d)
    ]


def position_loss(W_KQ: sp.Matrix, W_PV: sp.Matrix, rho: sp.Expr = DEFAULT_RHO) -> sp.Expr:
    """E_phases 1/2 ||y_t - x_{t+1}||^2 at a symbolic position t >= 2, a polynomial in x_1."""
    d = W_PV.shape[0]
    lams, xs = phases(d), token(d)
    target = _token_at(t + 1, lams, xs)
    loss = sp.S.Zero
    for j, y_j in enumerate(prediction(W_KQ, W_PV, rho)):
        error = y_j - PositionSum.single(target[j])
        loss += (error * error.conjugate(lams)).phase_average(lams, t) / 2
    return sp.expand(loss)


@disk_cached
def _diagonal_position_loss(d: int, rho: sp.Expr = DEFAULT_RHO) -> sp.Expr:
    a, b = diagonal_parameters(d)
    return position_loss(*embed_prediction_blocks(sp.diag(*a), sp.diag(*b)), rho)


@disk_cached
def _prediction_block_position_loss(d: int, rho: sp.Expr = DEFAULT_RHO) -> sp.Expr:
    return position_loss(*embed_prediction_blocks(*prediction_block_symbols(d)), rho)


def population_loss(law: Distribution, *, parameters: str = "diagonal") -> sp.Expr:
    """The exact population loss L as a closed form in the parameters, T and the law's moments,
    for a law of x_1 (the paper's setting) or a setting of the paper's process with its rho_t.

    ``parameters="diagonal"``: prediction blocks diag(a_1..a_d), diag(b_1..b_d), other blocks
    zero (the paper's diagonal model). ``parameters="prediction-blocks"``: general real
    prediction blocks A, B (see :func:`prediction_block_symbols`), other blocks zero.

    >>> from mesacheck.symbolic.moments import full_one
    >>> sp.factor(population_loss(full_one(1)))
    (T - 2)*(a_1*b_1 - 1)**2/2
    """
    if parameters not in ("diagonal", "prediction-blocks"):
        raise ValueError(f"parameters must be 'diagonal' or 'prediction-blocks', got {parameters!r}")
    from .setting import as_setting

    setting = as_setting(law)
    if not setting.is_paper_process:
        raise NotImplementedError(
            f"the closed-form loss is derived for the paper's process (any rho_t), not for: "
            f"{setting.describe()}; mesacheck.symbolic.symmetric_line gives this setting's exact limit"
        )
    return _population_loss(setting, parameters)


@disk_cached(key=lambda setting, parameters: (setting.identity, parameters))
def _population_loss(setting, parameters: str) -> sp.Expr:
    if parameters == "diagonal":
        per_position = _diagonal_position_loss(setting.d, setting.rho)
    else:
        per_position = _prediction_block_position_loss(setting.d, setting.rho)
    averaged = expectation(per_position, setting.law)
    return sp.expand(sum_over_positions(averaged, t, 2, T - 1))
