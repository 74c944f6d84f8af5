"""Integrate the exact population gradient flow with SciPy, and confirm its limit in mpmath."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
from scipy.integrate import solve_ivp

from mesacheck.symbolic.moments import Distribution

from .bridge import compile_flow, compile_symmetric_flow

__all__ = [
    "FlowDidNotConverge",
    "FlowSolution",
    "integrate_flow",
    "descend_population",
    "HighPrecisionLimit",
    "refine_limit",
]


class FlowDidNotConverge(RuntimeError):
    """The flow did not reach a stationary point within its time budget, or the solver failed."""


@dataclass(frozen=True)
class FlowSolution:
    """A trajectory of the diagonal flow and its certificate.

    ``tau`` (n,), ``states`` (n, 2d) with columns (a_1..a_d, b_1..b_d). The certificate:
    ``gradient_norm`` and ``newton_step`` (relative distance to stationarity) at the end, and
    ``conserved_drift``, the largest change of a conserved quantity along the run.
    """

    tau: np.ndarray
    states: np.ndarray
    gradient_norm: float
    newton_step: float
    conserved_drift: float
    xtol: float
    rtol: float
    atol: float
    method: str
    interpolant: Callable | None = field(default=None, repr=False, compare=False)

    def states_at(self, tau) -> np.ndarray:
        """The state at times ``tau`` (dense output); past the end, the stationary limit."""
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        out = np.tile(self.limit, (len(tau), 1))
        inside = tau < self.tau[-1]
        if np.any(inside):
            out[inside] = self.interpolant(tau[inside]).T
        return out

    def ab_at(self, tau) -> np.ndarray:
        """The mean of a_j b_j at times ``tau``."""
        states = self.states_at(tau)
        return np.mean(states[:, : self.d] * states[:, self.d :], axis=1)

    @property
    def d(self) -> int:
        return self.states.shape[1] // 2

    @property
    def ab(self) -> np.ndarray:
        """The reference's metric: the mean over j of a_j b_j, along the trajectory."""
        return np.mean(self.states[:, : self.d] * self.states[:, self.d :], axis=1)

    @property
    def limit(self) -> np.ndarray:
        return self.states[-1]


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
    y0 = _diagonal_start(law.d, a0, b0) if start is None else np.asarray(start, dtype=float)
    if symmetric:  # the state (u, v) = (a + b, a - b) of mesacheck.numeric.bridge.compile_symmetric_flow
        y0 = np.array([float(a0) + float(b0), float(a0) - float(b0)])
    if not np.all(np.isfinite(y0)):
        raise ValueError("the initialization must be finite")
    flow = compile_symmetric_flow(law, values) if symmetric else compile_flow(law, values)
    g0 = np.linalg.norm(flow.gradient(y0))
    if not np.any(y0):
        raise ValueError(
            "(a0, b0) = (0, 0) is a stationary point: the prediction is identically 0 there, every "
            "gradient vanishes, and the flow never moves"
        )

    scale = np.linalg.norm(y0)

    def newton_step(y):  # relative to the larger of |y| and |y0|, so a limit at 0 is reachable
        step = np.linalg.pinv(flow.hessian(y), rcond=1e-9) @ flow.gradient(y)
        return np.linalg.norm(step) / max(np.linalg.norm(y), scale)

    if g0 == 0.0:  # the start is already stationary (e.g. a b = 1/c^2 for the sparse token)
        return FlowSolution(np.zeros(1), y0[None, :], 0.0, 0.0, 0.0, xtol, rtol, atol, method)

    def velocity(_, y):
        return -flow.gradient(y)

    def at_rounding_floor(y):  # the gradient is as small as double precision can resolve
        return np.linalg.norm(flow.gradient(y)) <= 1e4 * np.finfo(float).eps * np.linalg.norm(
            flow.gradient_scale(y)
        )

    def stationary(_, y):
        return -1.0 if at_rounding_floor(y) else newton_step(y) - xtol

    stationary.terminal = True
    stationary.direction = -1
    result = solve_ivp(
        velocity,
        (0.0, tau_max),
        y0,
        method=method,
        rtol=rtol,
        atol=atol,
        events=stationary,
        dense_output=True,
        # SciPy's first-step guess ignores curvature; on a steep quartic it can overshoot until
        # the cubic gradient overflows. The local time scale 1/||H(y0)|| is a safe start.
        first_step=min(1.0, tau_max, 0.1 / max(np.linalg.norm(flow.hessian(y0), 2), 1e-300)),
    )
    if result.status == -1:
        raise FlowDidNotConverge(f"the ODE solver failed: {result.message}")
    if result.status != 1:
        raise FlowDidNotConverge(
            f"the flow did not reach a stationary point by tau = {tau_max:g} (relative Newton "
            f"step {newton_step(result.y[:, -1]):.3e} > xtol {xtol:.1e}); raise tau_max or xtol"
        )
    states = result.y.T
    conserved = np.array([flow.conserved(y) for y in states])
    drift = float(np.max(np.abs(conserved - conserved[0]))) if conserved.size else 0.0
    gradient_norm = float(np.linalg.norm(flow.gradient(states[-1])))
    interpolant = result.sol
    if symmetric:  # back to (a, b); |grad f| in (a, b) is |grad 2f| in (u, v) / sqrt(2)
        to_ab = np.array([[0.5, 0.5], [0.5, -0.5]])
        states = states @ to_ab.T
        gradient_norm /= np.sqrt(2.0)
        interpolant = _mapped(result.sol, to_ab)
    return FlowSolution(
        result.t,
        states,
        gradient_norm,
        float(newton_step(result.y[:, -1])),
        drift,
        xtol,
        rtol,
        atol,
        method,
        interpolant,
    )


def _mapped(interpolant, matrix):
    return lambda tau: matrix @ interpolant(tau)


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
