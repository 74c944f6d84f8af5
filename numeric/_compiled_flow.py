"""The compiled diagonal flow and its integration, in NumPy and SciPy only (no SymPy).

:mod:`mesacheck.numeric.bridge` derives a flow's functions with SymPy and keeps their generated
source (:class:`FlowSource`); :func:`flow_from_source` turns that source into functions and
:func:`integrate_compiled` integrates the flow. Both routes of ``mesacheck limit`` run this
same code: the cold one on the source it has just generated, the warm one on the source
stored in the cache (:mod:`mesacheck.proofs_check.cli._limit_warm`), which so never imports
SymPy.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

__all__ = [
    "CompiledFlow",
    "FlowDidNotConverge",
    "FlowSolution",
    "FlowSource",
    "flow_from_source",
    "integrate_compiled",
    "start_state",
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


@dataclass(frozen=True)
class CompiledFlow:
    """The diagonal flow of one law at fixed T, compiled: every function takes the state
    y = (a_1..a_d, b_1..b_d) as a 1-d array (or a sequence of mpf for ``module="mpmath"``)."""

    d: int
    loss: Callable
    gradient: Callable
    hessian: Callable
    conserved: Callable
    gradient_scale: Callable  # sum of |terms| of each gradient entry: its rounding error is ~eps times this


@dataclass(frozen=True)
class FlowSource:
    """The Python source that SymPy's ``lambdify`` generated for a flow's functions (NumPy
    module), each a function of the state as a (2d, 1) array returning a list. ``names`` are
    the global names the source uses: each is NumPy's object of that name (checked where the
    source is generated), so the source runs the same outside SymPy."""

    d: int
    loss: str
    gradient: str
    hessian: str
    conserved: str
    magnitudes: str
    n_conserved: int
    names: tuple = ()


def _function(source: str, names: tuple) -> Callable:
    namespace = {"builtins": builtins, "numpy": np, **{name: getattr(np, name) for name in names}}
    exec(compile(source, "<lambdified flow>", "exec"), namespace)  # noqa: S102 (our own generated source)
    return namespace["_lambdifygenerated"]


def flow_from_source(source: FlowSource) -> CompiledFlow:
    """The flow's functions from their generated source."""
    n = 2 * source.d

    def build(text, shape):
        f = _function(text, source.names)
        return lambda v: np.asarray(f(np.asarray(v, dtype=float).reshape(-1, 1)), dtype=float).reshape(shape)

    magnitude, loss_vector = build(source.magnitudes, (n,)), build(source.loss, (1,))
    return CompiledFlow(
        source.d,
        lambda v: loss_vector(v)[0],
        build(source.gradient, (n,)),
        build(source.hessian, (n, n)),
        build(source.conserved, (source.n_conserved,)),
        lambda v: magnitude(np.abs(np.asarray(v, dtype=float))),
    )


def start_state(d: int, a0: float, b0: float, *, symmetric: bool) -> np.ndarray:
    """The diagonal start (a_j = a0, b_j = b0) as the flow's state: (a_1..a_d, b_1..b_d), or on
    the symmetric manifold (u, v) = (a0 + b0, a0 - b0)
    (:func:`mesacheck.numeric.bridge.compile_symmetric_flow`)."""
    if symmetric:
        return np.array([float(a0) + float(b0), float(a0) - float(b0)])
    return np.concatenate([np.full(d, float(a0)), np.full(d, float(b0))])


def integrate_compiled(
    flow: CompiledFlow,
    y0: np.ndarray,
    *,
    symmetric: bool,
    method: str,
    rtol: float,
    atol: float,
    xtol: float,
    tau_max: float,
) -> FlowSolution:
    """Integrate d y/d tau = -grad L from ``y0`` (:func:`mesacheck.numeric.flow.integrate_flow`
    documents the stopping rule); ``symmetric``: the state is (u, v) = (a + b, a - b) and the
    solution is returned in (a, b)."""
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
