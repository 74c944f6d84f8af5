"""The exact gradient flow of the full model: every entry of W^KQ and W^PV, complex.

The loss and its gradient come from the exact coefficients K and J assembled by
:func:`mesacheck.numeric.bridge.full_model_arrays`; the flow is integrated with ``solve_ivp`` on the real
and imaginary parts of all 6 d^2 entries, with the reference's optional masking of the
off-diagonal entries of the prediction blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse
from scipy.integrate import solve_ivp

from mesacheck.symbolic.moments import Distribution

from .bridge import FullModelArrays, full_model_arrays
from .flow import FlowDidNotConverge

__all__ = [
    "FullModel",
    "full_model",
    "FullFlowSolution",
    "integrate_full_flow",
    "gradient_tolerance",
    "prediction_block_mask",
    "random_initialization",
    "structure_of",
    "off_diagonal_size",
]


@dataclass(frozen=True)
class FullModel:
    """The exact population loss of one law at one T, over all parameters."""

    arrays: FullModelArrays

    @property
    def d(self) -> int:
        return self.arrays.d

    @property
    def real_subspace_invariant(self) -> bool:
        """Whether real parameters stay real under the flow: K and J are real exactly when
        every moment they hold is real (each entry is a moment times a rational), and then the
        gradient 2 dL/d conj W = (z K^T - conj J) conj(W) is real at real W (thm-real-subspace).
        True for every real law of x_1."""
        return not np.any(self.arrays.K.imag) and not np.any(self.arrays.J.imag)

    @cached_property
    def _K_operator(self):
        """K as the cheapest operator to apply: real when it is real (every real law: a real
        product costs a quarter of a complex one), and a sparse CSR matrix when under 20% of its
        entries are non-zero (at d = 5, T = 100 the Gaussian token's K has 1.1%: a product 10x
        faster than the dense one; full-one's 11%: 1.2x)."""
        K = self.arrays.K
        K = K.real if not np.any(K.imag) else K
        if np.count_nonzero(K) < _SPARSE_BELOW * K.size:
            return sparse.csr_matrix(K)
        return np.ascontiguousarray(K.T)

    def _apply_K(self, z: np.ndarray) -> np.ndarray:
        """z K^T (rows of z)."""
        K = self._K_operator
        if sparse.issparse(K):
            if not np.iscomplexobj(K.data) and not np.any(z.imag):  # a real flow: half the work
                return np.asarray((K @ z.real.T).T, dtype=complex)
            return np.asarray((K @ z.T).T, dtype=complex)
        if np.iscomplexobj(K):
            return z @ K
        out = z.real @ K
        return out + 1j * (z.imag @ K) if np.any(z.imag) else out.astype(complex)

    def _z(self, W_KQ, W_PV):
        return (W_PV[:, :, None, None] * W_KQ[None, None, :, :]).reshape(self.d, -1)

    def loss(self, W_KQ: np.ndarray, W_PV: np.ndarray) -> float:
        z = self._z(W_KQ, W_PV)
        quadratic = np.einsum("ri,ri->", z.conj(), self._apply_K(z)).real
        return float(0.5 * quadratic - np.sum(self.arrays.J * z).real + self.arrays.constant)

    def losses(self, W_KQ: np.ndarray, W_PV: np.ndarray, chunk: int = 256) -> np.ndarray:
        """:meth:`loss` at each of a stack of matrices (n, 2d, 2d) and (n, d, 2d): K is read
        once per chunk of states, not once per state (a trajectory of 1700 states: ~20x)."""
        out = []
        for start in range(0, len(W_KQ), chunk):
            Q, P = W_KQ[start : start + chunk], W_PV[start : start + chunk]
            z = (P[:, :, :, None, None] * Q[:, None, None, :, :]).reshape(len(Q), self.d, -1)
            Kz = self._apply_K(z.reshape(-1, z.shape[-1])).reshape(z.shape)
            quadratic = np.einsum("sri,sri->s", z.conj(), Kz).real
            out.append(0.5 * quadratic - np.einsum("ri,sri->s", self.arrays.J, z).real + self.arrays.constant)
        return np.concatenate(out)

    def gradient(self, W_KQ: np.ndarray, W_PV: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """2 dL/d conj(W) for each matrix: its real part is dL/d Re W, its imaginary part dL/d Im W
        (the convention of :func:`mesacheck.numeric.simulate.loss_and_gradient`)."""
        n = 2 * self.d
        z = self._z(W_KQ, W_PV)
        g = (self._apply_K(z) - self.arrays.J.conj()).reshape(self.d, n, n, n)  # 2 dL/d conj z
        g_PV = np.einsum("rcab,ab->rc", g, W_KQ.conj())
        g_KQ = np.einsum("rcab,rc->ab", g, W_PV.conj())
        return g_KQ, g_PV

    # real coordinates: (Re W^KQ, Im W^KQ, Re W^PV, Im W^PV), flattened
    def pack(self, W_KQ, W_PV) -> np.ndarray:
        return np.concatenate([W_KQ.real.ravel(), W_KQ.imag.ravel(), W_PV.real.ravel(), W_PV.imag.ravel()])

    def unpack(self, y) -> tuple[np.ndarray, np.ndarray]:
        n = 2 * self.d
        q, p = n * n, self.d * n
        W_KQ = (y[:q] + 1j * y[q : 2 * q]).reshape(n, n)
        W_PV = (y[2 * q : 2 * q + p] + 1j * y[2 * q + p :]).reshape(self.d, n)
        return W_KQ, W_PV

    def real_gradient(self, y) -> np.ndarray:
        return self.pack(*self.gradient(*self.unpack(y)))

    def hessian_vector(self, y, u) -> np.ndarray:
        """H(y) u exactly. The gradient is a cubic polynomial, so along u,
        g(y + s u) - g(y - s u) = 2 s H u + 2 s^3 G3[u]; combining s = h and h/2 cancels the
        cubic term exactly, leaving H u up to rounding."""
        h = max(1.0, float(np.max(np.abs(y))))
        far = self.real_gradient(y + h * u) - self.real_gradient(y - h * u)
        near = self.real_gradient(y + 0.5 * h * u) - self.real_gradient(y - 0.5 * h * u)
        return (8 * near - far) / (6 * h)

    def hessian(self, y) -> np.ndarray:
        """The exact Hessian in real coordinates, column by column (:meth:`hessian_vector`):
        6 d^2 x 4 gradients (0.8 s at d = 5). The independent route to :meth:`jacobian`."""
        H = np.array([self.hessian_vector(y, u) for u in np.eye(len(y))]).T
        return 0.5 * (H + H.T)

    def jacobian(self, y) -> np.ndarray:
        """The exact Hessian in real coordinates (the Jacobian of :meth:`real_gradient`), in
        closed form: ~5 ms at d = 5, for the stiff integrator.

        With G = z K^T - conj(J) (= 2 dL/d conj z), g_PV[r, c] = sum_ab G[r, c, a, b] conj(Q[a, b])
        and g_KQ[a, b] = sum_rc G[r, c, a, b] conj(P[r, c]). A step (dQ, dP) moves z by
        dP (x) Q + P (x) dQ, so each block of the derivative is a complex-linear part (through
        K) plus an antilinear part G conj(d.); :func:`_real_block` turns the pair into the
        real 2 x 2 block on (Re, Im)."""
        d, n = self.d, 2 * self.d
        Q, P = self.unpack(y)
        G = (self._apply_K(self._z(Q, P)) - self.arrays.J.conj()).reshape(d, n, n * n)
        K = self.arrays.K
        if self.real_subspace_invariant and not np.any(Q.imag) and not np.any(P.imag):
            # a real law at a real point: every block is real, a quarter of the complex work
            K, Q, P, G = K.real, Q.real, P.real, G.real
        q = Q.reshape(n * n)
        K4 = K.reshape(n, n * n, n, n * n)  # [c, ab, c', a'b']
        K_q = K4 @ q  # [c, ab, c']: K applied to e_c' (x) Q
        qK = np.einsum("x,cxdy->cdy", q.conj(), K4)  # [c, c', a'b']: conj(Q) . K
        # d g_PV / d P: (I_d (x) M), M[c, c'] = conj(Q) . K . Q
        M = np.einsum("x,cxd->cd", q.conj(), K_q)
        pv_pv = np.kron(np.eye(d), M)
        # d g_PV / d Q: linear P[r, c'] qK[c, c', a'b'], antilinear G[r, c, ab]
        pv_kq = np.einsum("rd,cdy->rcy", P, qK).reshape(d * n, n * n)
        pv_kq_anti = G.reshape(d * n, n * n)
        # d g_KQ / d P: linear conj(P[r, c]) K_q[c, ab, c'], antilinear G[r, c, ab]
        kq_pv = np.einsum("rc,cxd->xrd", P.conj(), K_q).reshape(n * n, d * n)
        kq_pv_anti = G.transpose(2, 0, 1).reshape(n * n, d * n)
        # d g_KQ / d Q: sum_{c c'} (P^H P)[c, c'] K[c ab, c' a'b']
        kq_kq = np.einsum("cd,cxdy->xy", P.conj().T @ P, K4)
        zero_kq, zero_pv = np.zeros((n * n, n * n)), np.zeros((d * n, d * n))
        # real coordinates (Re Q, Im Q, Re P, Im P)
        return np.block(
            [
                [_real_block(kq_kq, zero_kq), _real_block(kq_pv, kq_pv_anti)],
                [_real_block(pv_kq, pv_kq_anti), _real_block(pv_pv, zero_pv)],
            ]
        )

    def largest_curvature(self, y) -> float:
        """The largest eigenvalue of the Hessian at y (Lanczos on Hessian-vector products)."""
        from scipy.sparse.linalg import LinearOperator, eigsh

        n = len(y)
        operator = LinearOperator((n, n), matvec=lambda u: self.hessian_vector(y, u), dtype=float)
        return float(eigsh(operator, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0])


_SPARSE_BELOW = 0.2  # the density under which K is applied as a sparse matrix (measured above)


def _real_block(linear: np.ndarray, antilinear: np.ndarray) -> np.ndarray:
    """The real matrix of w -> linear w + antilinear conj(w) on (Re w, Im w)."""
    return np.block(
        [
            [linear.real + antilinear.real, antilinear.imag - linear.imag],
            [linear.imag + antilinear.imag, linear.real - antilinear.real],
        ]
    )


def full_model(law: Distribution, T: int, values: dict | None = None) -> FullModel:
    """The exact full-parameter loss of ``law`` at length ``T``."""
    return FullModel(full_model_arrays(law, T, values or {}))


def prediction_block_mask(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the entries the reference's --clip keeps trainable: everything except
    the off-diagonal entries of the two prediction blocks."""
    keep_KQ = np.ones((2 * d, 2 * d), dtype=bool)
    keep_PV = np.ones((d, 2 * d), dtype=bool)
    off = ~np.eye(d, dtype=bool)
    keep_KQ[d:, :d][off] = False
    keep_PV[:, :d][off] = False
    return keep_KQ, keep_PV


def random_initialization(d: int, sigma_w: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every entry of both matrices i.i.d. real N(0, sigma_w^2) (the paper's Figure 5 setting)."""
    W_KQ = rng.normal(0.0, sigma_w, (2 * d, 2 * d))
    return W_KQ.astype(complex), rng.normal(0.0, sigma_w, (d, 2 * d)).astype(complex)


@dataclass(frozen=True)
class FullFlowSolution:
    """A trajectory of the full flow and its certificate: the final gradient norm and the
    drift of the conserved quantity ||W^PV||_F^2 - ||W^KQ||_F^2 (the loss only sees products
    W^PV[r, c] W^KQ[a, b], so the scaling (s W^PV, W^KQ / s) is a symmetry)."""

    tau: np.ndarray
    W_KQ: np.ndarray  # (n_times, 2d, 2d)
    W_PV: np.ndarray  # (n_times, d, 2d)
    loss: np.ndarray
    gradient_norm: float
    conserved_drift: float
    masked: bool
    rtol: float
    atol: float
    gtol: float
    stationary: bool = True  # False: the state at tau_max of a run allowed to end unfinished

    @property
    def limit(self) -> tuple[np.ndarray, np.ndarray]:
        return self.W_KQ[-1], self.W_PV[-1]

    @property
    def ab(self) -> np.ndarray:
        """The reference's metric: mean over j of Re W^KQ[d+j, j] Re W^PV[j, j]."""
        d = self.W_PV.shape[1]
        j = np.arange(d)
        return np.mean(self.W_KQ[:, d + j, j].real * self.W_PV[:, j, j].real, axis=1)


def gradient_tolerance(model: FullModel) -> float:
    """The default stopping rule: |grad L| <= 1e-11 in the units of the paper's loss, where
    ||J|| <= 1e3 (657 for the Gaussian token at d = 5, T = 100), and proportionally more when
    the loss is larger: with noise the energy of the process grows with t, and at s = 1
    (||J|| ~ 6e5) the gradient's rounding floor is above 1e-11. Measured there: lim ab is
    then within 1e-13 relative of p*, as for the paper at 1e-11."""
    return 1e-11 * max(1.0, float(np.linalg.norm(model.arrays.J)) / 1e3)


def integrate_full_flow(
    model: FullModel,
    W_KQ: np.ndarray,
    W_PV: np.ndarray,
    *,
    mask: bool = False,
    method: str = "LSODA",
    rtol: float = 1e-12,
    atol: float = 1e-14,
    gtol: float | None = None,
    tau_max: float = 1e7,
    blow_up: float = 1e6,
    allow_unfinished: bool = False,
    exact_jacobian: bool = True,
    progress: Callable[[float, float], None] | None = None,
) -> FullFlowSolution:
    """Integrate d W / d tau = -grad L on all entries (real and imaginary parts) until the
    gradient norm is below ``gtol`` (default :func:`gradient_tolerance`); with ``mask``, the
    off-diagonal entries of the prediction
    blocks are held at their starting values (the continuous form of the reference's --clip,
    which zeroes them after every step). The default solver is LSODA: after the fast transient
    the Hessian spans ~1e3 down to ~1e-3 (d = 5, T = 100), and an explicit method such as
    DOP853 then needs millions of tiny steps to reach ``gtol``; LSODA switches to BDF.
    The stiff solver gets the exact Hessian (:meth:`FullModel.jacobian`) as its Jacobian
    instead of differencing the gradient 6 d^2 times per Jacobian (``exact_jacobian=False``
    restores the differenced one, for benchmarks). ``progress(tau, gradient_norm)``, if
    given, is called after every accepted step, e.g. to drive a progress bar towards ``gtol``.
    Raises :class:`FlowDidNotConverge` when the budget
    ``tau_max`` runs out (unless ``allow_unfinished``: then the state at ``tau_max``), and
    when the parameters grow past ``blow_up``."""
    W_KQ, W_PV = np.asarray(W_KQ, dtype=complex), np.asarray(W_PV, dtype=complex)
    gtol = gradient_tolerance(model) if gtol is None else gtol
    n = 2 * model.d
    if W_KQ.shape != (n, n) or W_PV.shape != (model.d, n):
        raise ValueError(f"W^KQ must be {n} x {n} and W^PV {model.d} x {n} for d = {model.d}")
    y0 = model.pack(W_KQ, W_PV)
    if not np.all(np.isfinite(y0)):
        raise ValueError("the initialization must be finite")
    if mask:
        keep_KQ, keep_PV = prediction_block_mask(model.d)
        if np.any(W_KQ[~keep_KQ]) or np.any(W_PV[~keep_PV]):
            raise ValueError(
                "with masking, the off-diagonal entries of the prediction blocks must start at 0"
            )
        keep = model.pack(keep_KQ.astype(complex) * (1 + 1j), keep_PV.astype(complex) * (1 + 1j)) != 0
    else:
        keep = np.ones_like(y0, dtype=bool)
    # Integrate only the coordinates that can move: not the masked ones, and not the imaginary
    # parts when the real subspace is invariant and the start is real (half the dimension).
    active = keep.copy()
    if model.real_subspace_invariant and not np.any(W_KQ.imag) and not np.any(W_PV.imag):
        active &= _real_coordinates(model, len(y0))

    def full_state(y):
        state = y0.copy()
        state[active] = y
        return state

    def velocity(_, y):
        return -model.real_gradient(full_state(y))[active]

    def jacobian(_, y):
        return -model.jacobian(full_state(y))[np.ix_(active, active)]

    reported = [-1.0]  # the last tau passed to progress: root finding re-evaluates earlier taus

    def converged(tau, y):  # evaluated once per accepted step (and during the final root finding)
        norm = np.linalg.norm(model.real_gradient(full_state(y)) * keep)
        if progress is not None and tau > reported[0]:
            reported[0] = tau
            progress(float(tau), float(norm))
        return norm - gtol

    def exploded(_, y):
        return blow_up - np.max(np.abs(y))

    converged.terminal = exploded.terminal = True
    stationary = True
    if np.linalg.norm(model.real_gradient(y0) * keep) <= gtol:
        states = y0[None, :]
        tau = np.zeros(1)
    else:
        result = solve_ivp(
            velocity,
            (0.0, tau_max),
            y0[active],
            method=method,
            rtol=rtol,
            atol=atol,
            events=(converged, exploded),
            **({"jac": jacobian} if exact_jacobian and method in ("LSODA", "BDF", "Radau") else {}),
        )
        stationary = _flow_ended(
            result, velocity, tau_max=tau_max, gtol=gtol, blow_up=blow_up, allow_unfinished=allow_unfinished
        )
        states, tau = np.array([full_state(y) for y in result.y.T]), result.t
    matrices = [model.unpack(y) for y in states]
    conserved = np.array([np.sum(np.abs(P) ** 2) - np.sum(np.abs(Q) ** 2) for Q, P in matrices])
    W_KQ_path, W_PV_path = np.array([Q for Q, _ in matrices]), np.array([P for _, P in matrices])
    return FullFlowSolution(
        tau,
        W_KQ_path,
        W_PV_path,
        model.losses(W_KQ_path, W_PV_path),
        float(np.linalg.norm(model.real_gradient(states[-1]) * keep)),  # imaginary parts included
        float(np.max(np.abs(conserved - conserved[0]))),
        mask,
        rtol,
        atol,
        gtol,
        stationary,
    )


def _flow_ended(result, velocity, *, tau_max, gtol, blow_up, allow_unfinished, name="the full flow") -> bool:
    """Read ``solve_ivp``'s result of a flow run with the events (stationary, blown up): raise
    :class:`FlowDidNotConverge` on a solver failure, a blow-up, or (unless ``allow_unfinished``)
    a flow still moving at ``tau_max``; return whether it became stationary."""
    if result.status == -1:
        raise FlowDidNotConverge(f"the ODE solver failed: {result.message}")
    if result.t_events[1].size:
        raise FlowDidNotConverge(
            f"the flow blows up: an entry exceeds {blow_up:g} in magnitude at tau = {result.t[-1]:.3g}"
        )
    if result.status != 1 and not allow_unfinished:
        g = np.linalg.norm(velocity(0, result.y[:, -1]))
        raise FlowDidNotConverge(
            f"{name} did not become stationary by tau = {tau_max:g} (gradient norm {g:.3e} > {gtol:.1e})"
        )
    return result.status == 1


def _real_coordinates(model: FullModel, size: int) -> np.ndarray:
    """True at the real parts in the packing (Re W^KQ, Im W^KQ, Re W^PV, Im W^PV)."""
    q, p = (2 * model.d) ** 2, model.d * 2 * model.d
    return np.concatenate([np.ones(q), np.zeros(q), np.ones(p), np.zeros(p)]).astype(bool)[:size]


def off_diagonal_size(W_KQ: np.ndarray, W_PV: np.ndarray) -> float:
    """The largest entry outside the diagonal model's pattern (the diagonals of the prediction
    blocks W^KQ[d:, :d] and W^PV[:, :d]): 0 on the diagonal manifold."""
    d = W_PV.shape[0]
    inside_KQ, inside_PV = np.zeros(W_KQ.shape, dtype=bool), np.zeros(W_PV.shape, dtype=bool)
    inside_KQ[d + np.arange(d), np.arange(d)] = True
    inside_PV[np.arange(d), np.arange(d)] = True
    return float(
        max(np.max(np.abs(W_KQ[~inside_KQ]), initial=0.0), np.max(np.abs(W_PV[~inside_PV]), initial=0.0))
    )


def structure_of(W_KQ: np.ndarray, W_PV: np.ndarray, *, atol: float = 1e-8) -> str:
    """ "diagonal" when only the diagonals of the prediction blocks are non-zero (to ``atol``),
    "symmetric" when both prediction blocks are alpha I + beta 11^T and the other blocks of
    the same form, else "general"."""
    d = W_PV.shape[0]
    blocks = [W_KQ[:d, :d], W_KQ[:d, d:], W_KQ[d:, :d], W_KQ[d:, d:], W_PV[:, :d], W_PV[:, d:]]
    off = ~np.eye(d, dtype=bool)
    if off_diagonal_size(W_KQ, W_PV) <= atol:
        return "diagonal"

    def identity_plus_ones(B):
        diagonal, rest = np.diag(B), B[off] if d > 1 else np.zeros(1)
        return np.ptp(diagonal) <= atol and (d == 1 or np.ptp(rest) <= atol)

    return "symmetric" if all(identity_plus_ones(B) for B in blocks) else "general"
