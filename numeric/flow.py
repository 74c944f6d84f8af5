"""Integrate the exact population gradient flow with SciPy, and confirm its limit in mpmath."""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from mesacheck.symbolic.moments import Distribution

from ._compiled_flow import FlowDidNotConverge, FlowSolution, integrate_compiled, start_state
from .bridge import compile_flow, compile_symmetric_flow

__all__ = [
    "FlowDidNotConverge",
    "FlowSolution",
    "integrate_flow",
    "descend_population",
    "HighPrecisionLimit",
    "refine_limit",
]


def _diagonal_start(d: int, a0: float, b0: float) -> np.ndarray:
    return np.concatenate([np.full(d, float(a0)), np.full(d, float(b0))])


def integrate_flow(
    law: Distribution,
    a0: float,
    b0: float,
    *,
    values: dict,
    method: str = "LSODA",
    rtol: float = 1e-12,
    atol: float = 1e-14,
    xtol: float = 1e-13,
    tau_max: float = 1e6,
    start: np.ndarray | None = None,
    symmetric: bool = False,
) -> FlowSolution:
    """Integrate d theta/d tau = -grad L from the diagonal initialization (a0, b0) until the
    state is stationary to relative precision ``xtol``, or the gradient reaches the floor that
    double-precision rounding allows (a terminal event), or raise.

    Stationarity is measured by the Newton step: |H(y)^+ grad L(y)| / max(|y|, |y0|), the distance to the
    nearest stationary point as the local quadratic model sees it (H^+ ignores the flat,
    conserved directions). Unlike a bare gradient threshold it does not depend on the scale
    of the loss. ``values`` fixes T and the law's parameters, e.g. {T: 100, sigma: 1}.
    ``start`` overrides the diagonal initialization with any state (a_1..a_d, b_1..b_d).
    The default solver is LSODA: near the limit the flow is stiff at large T or for uneven
    scales, where the explicit DOP853 took 7.5-9 s against 0.03-0.17 s (same limit to 1e-15).

    ``symmetric=True`` (an exchangeable law, where the diagonal start never leaves a_j = a,
    b_j = b: permuting coordinates is a symmetry of L) integrates the flow on that manifold,
    state (a, b) (:func:`mesacheck.numeric.bridge.compile_symmetric_flow`): its cost does not grow with
    d, and the solution's ``ab`` is the mean of a_j b_j as before.
    """
    if symmetric and not law.exchangeable:
        raise ValueError(f"{law.name} is not exchangeable: the diagonal flow leaves a_j = a, b_j = b")
    if symmetric and start is not None:
        raise ValueError("the symmetric flow starts on a_j = a0, b_j = b0")
    y0 = start_state(law.d, a0, b0, symmetric=symmetric) if start is None else np.asarray(start, dtype=float)
    if not np.all(np.isfinite(y0)):
        raise ValueError("the initialization must be finite")
    flow = compile_symmetric_flow(law, values) if symmetric else compile_flow(law, values)
    return integrate_compiled(
        flow, y0, symmetric=symmetric, method=method, rtol=rtol, atol=atol, xtol=xtol, tau_max=tau_max
    )


def descend_population(
    law: Distribution, a0: float, b0: float, *, values: dict, eta: float, steps: int
) -> np.ndarray:
    """Gradient descent with step eta on the exact population loss (the reference's update
    without its sampling): the states after 0..steps steps, shape (steps + 1, 2d)."""
    flow = compile_flow(law, values)
    states = [_diagonal_start(law.d, a0, b0)]
    for _ in range(steps):
        states.append(states[-1] - eta * flow.gradient(states[-1]))
    return np.array(states)


@dataclass(frozen=True)
class HighPrecisionLimit:
    """A stationary point refined by Newton's method in mpmath, with its residual."""

    state: list  # mpf, (a_1..a_d, b_1..b_d)
    ab: mpmath.mpf
    residual: mpmath.mpf
    dps: int


def refine_limit(
    law: Distribution, solution: FlowSolution, *, values: dict, dps: int = 50
) -> HighPrecisionLimit:
    """Refine the end of a flow to ``dps`` digits: solve grad L = 0 together with the
    conserved quantities held at their starting values (they pin the point on its orbit of
    stationary points), by mpmath's Newton iteration on the (overdetermined) system."""
    with mpmath.workdps(dps):
        flow = compile_flow(law, values, module="mpmath")
        start = [mpmath.mpf(float(v)) for v in solution.states[0]]
        pinned = [mpmath.mpf(0) + v for v in flow.conserved(start)]

        def system(*y):
            return list(flow.gradient(y)) + [q - q0 for q, q0 in zip(flow.conserved(y), pinned)]

        guess = [mpmath.mpf(float(v)) for v in solution.limit]
        root = mpmath.findroot(system, guess, tol=mpmath.mpf(10) ** (-2 * dps + 10))
        state = [root[k] for k in range(2 * law.d)]
        residual = mpmath.norm(mpmath.matrix(system(*state)))
        ab = mpmath.fsum(state[j] * state[law.d + j] for j in range(law.d)) / law.d
        return HighPrecisionLimit(state, +ab, residual, dps)
