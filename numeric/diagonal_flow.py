"""The gradient flow of the diagonal model under any setting, from the full model's exact loss.

The diagonal model keeps only the diagonals a_j = W^KQ[d+j, j] and b_j = W^PV[j, j] (the
paper's Section 4 model); its flow is the full gradient (:class:`mesacheck.numeric.full_flow.FullModel`,
exact under the setting) read on those 2d entries. Where the full flow stays diagonal the two
agree; where it does not (W with real entries +-1, see the roots-of-unity extension) this is
still the flow of the paper's diagonal model, the object its theorems speak of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .flow import FlowDidNotConverge
from .full_flow import FullModel, prediction_block_mask
from .simulate import diagonal_initialization

__all__ = ["DiagonalFlowSolution", "integrate_diagonal_flow", "off_diagonal_gradient"]


@dataclass(frozen=True)
class DiagonalFlowSolution:
    """The limit (a, b), its product a b per coordinate, and the certificate: the final norm of
    the diagonal gradient and the drift of the conserved sum_j (a_j^2 - b_j^2)."""

    tau: float
    a: np.ndarray
    b: np.ndarray
    gradient_norm: float
    conserved_drift: float

    @property
    def ab(self) -> np.ndarray:
        return self.a * self.b


def integrate_diagonal_flow(
    model: FullModel,
    a0,
    b0,
    *,
    rtol: float = 1e-12,
    atol: float = 1e-14,
    gtol: float = 1e-12,
    tau_max: float = 1e7,
    stop_below: float = 0.0,
) -> DiagonalFlowSolution:
    """Integrate da_j/dtau = -dL/da_j, db_j/dtau = -dL/db_j (LSODA: stiff once near the limit)
    until the gradient norm is below ``gtol`` in units where the linear coefficients J have
    norm 1; raises :class:`FlowDidNotConverge` otherwise.

    The loss is L = s L' with s = ||J||, and the flow of L is the flow of L' in the time
    s tau: so it is integrated in those units (a contraction r^T or a small x_1 scale makes s
    tiny, and an absolute tolerance would then be out of reach), and tau and the gradient norm
    are reported in the original units.

    ``stop_below``: also stop once every |a_j|, |b_j| is below it. For a start on the saddle's
    stable half-line a_0 = -b_0 this ends the approach to the origin before rounding, amplified
    by the saddle's unstable direction, sends the flow away to p*."""
    d = model.d
    K, J = _diagonal_coefficients(model)
    s = float(np.linalg.norm(J))
    if not (np.isfinite(s) and s > 0):
        raise ValueError(
            "the loss's linear coefficients J are 0 in double precision (0 exactly, or below 1e-308: "
            "powers of a small |lambda| underflow), so there is no flow to integrate; give a larger "
            "r or modulus"
        )
    K, J = K / s, J / s

    def gradient(y):
        a, b = y[:d], y[d:]
        Ka = K @ a  # (d, d): row r is K_r a
        return np.concatenate([(b**2) @ Ka - b @ J, b * (Ka @ a) - J @ a])

    def jacobian(_, y):  # of the velocity -gradient: the loss is quartic, this is exact
        a, b = y[:d], y[d:]
        Ka = K @ a
        H = np.empty((2 * d, 2 * d))
        H[:d, :d] = np.einsum("r,rkl->kl", b**2, K)
        H[:d, d:] = (2 * b * Ka - J).T
        H[d:, :d] = 2 * b[:, None] * Ka - J
        H[d:, d:] = np.diag(Ka @ a)
        return -H

    def velocity(_, y):
        return -gradient(y)

    def converged(_, y):
        return np.linalg.norm(gradient(y)) - gtol

    def collapsed(_, y):
        return np.max(np.abs(y)) - stop_below

    converged.terminal = collapsed.terminal = True
    y0 = np.concatenate(
        [np.broadcast_to(np.asarray(a0, float), d), np.broadcast_to(np.asarray(b0, float), d)]
    )
    if not np.all(np.isfinite(y0)):
        raise ValueError("the initialization must be finite")
    result = solve_ivp(
        velocity,
        (0.0, tau_max),
        y0,
        method="LSODA",
        rtol=rtol,
        atol=atol,
        events=(converged, collapsed),
        jac=jacobian,
    )
    if result.status != 1:
        raise FlowDidNotConverge(
            f"the diagonal flow did not become stationary by tau = {tau_max:g}: {result.message}"
        )
    y = result.y[:, -1]
    # every term of the loss has as many a's as b's, so sum_j a_j dL/da_j = sum_j b_j dL/db_j and
    # sum_j (a_j^2 - b_j^2) is conserved (each a_j^2 - b_j^2 only where the law is exchangeable)
    drift = abs(np.sum(y[:d] ** 2 - y[d:] ** 2) - np.sum(y0[:d] ** 2 - y0[d:] ** 2))
    return DiagonalFlowSolution(
        float(result.t[-1]) / s, y[:d], y[d:], float(np.linalg.norm(gradient(y))) * s, float(drift)
    )


def _diagonal_coefficients(model: FullModel) -> tuple[np.ndarray, np.ndarray]:
    """On real diagonal blocks z_r = b_r sum_k a_k e_(r, d+k, k), so the full loss is
    1/2 sum_r b_r^2 a^T K_r a - sum_r b_r J_r . a + constant with K_r (d x d, symmetrized real
    part) and J_r read off the full model's K and J."""
    d, n = model.d, 2 * model.d
    k = np.arange(d)
    index = np.arange(d)[:, None] * n * n + (d + k)[None, :] * n + k[None, :]  # (r, k) -> z index
    K = np.array([model.arrays.K[np.ix_(index[r], index[r])].real for r in range(d)])
    J = np.array([model.arrays.J[r, index[r]].real for r in range(d)])
    return (K + K.transpose(0, 2, 1)) / 2, J


def off_diagonal_gradient(model: FullModel, a0, b0, *, mask: bool = False) -> tuple[float, bool]:
    """The largest gradient entry of the full model off the diagonal model at the diagonal point
    (a0, b0), over the entries training can move (with ``mask``, the reference's masking holds
    the prediction blocks' off-diagonal entries), and whether the diagonal is invariant there:
    that entry is 0 up to the rounding of the assembled K and J (1e-12 of the largest)."""
    d = model.d
    g_KQ, g_PV = model.gradient(*diagonal_initialization(d, a0, b0))
    if mask:
        free_KQ, free_PV = prediction_block_mask(d)
    else:
        free_KQ, free_PV = np.ones(g_KQ.shape, bool), np.ones(g_PV.shape, bool)
    free_KQ[d + np.arange(d), np.arange(d)] = False
    free_PV[np.arange(d), np.arange(d)] = False
    off = float(max(np.abs(g_KQ[free_KQ]).max(), np.abs(g_PV[free_PV]).max()))
    scale = float(max(np.abs(g_KQ).max(), np.abs(g_PV).max()))
    return off, off <= 1e-12 * scale
