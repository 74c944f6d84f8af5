"""The loss of any model (:class:`mesacheck.symbolic.parameterization.Model`): L(theta) = Q(z(theta)).

The quadratic form Q is the full model's (:class:`mesacheck.numeric.full_flow.FullModel`: the
exact K and J of a setting, or the sampled ones of a training set, :func:`sampled_model`), and
z = sum_h P_h (x) W^KQ_h is the only part the model changes. z is a polynomial in the complex
parameters with no conjugates (holomorphic), so with G = 2 dL/d conj(z) = z K^T - conj(J):

- the gradient is 2 dL/d conj(theta) = (dz/d theta)^H G: per head g_P = G . conj(W^KQ),
  g_KQ = conj(P) . G, and for W^KQ = W_K^T W_Q, g_K = conj(W_Q) g_KQ^T, g_Q = conj(W_K) g_KQ;
- the Hessian in real coordinates is the merged heads' Hessian (the full model's closed form,
  with the cross-head blocks) pulled back by the real Jacobian of theta -> (W^KQ_h, P_h), plus
  the curvature of W_K^T W_Q weighted by g_KQ. All exact: no differences anywhere
  (:meth:`ParameterizedLoss.hessian_by_differences` is the independent route the tests use).

Real coordinates: each parameter matrix as (Re X, Im X), the matrices in the order of
:meth:`Model.shapes`. For the paper's model this is the full flow's packing (Re W^KQ, Im W^KQ,
Re W^PV, Im W^PV), and every number is computed by the same operations, so its flow is the
full flow to the last bit (tests/numeric/test_parameterized.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.integrate import solve_ivp

from mesacheck.symbolic.parameterization import PAPER_MODEL, InvalidModel, Model

from .bridge import FullModelArrays
from .full_flow import FullModel, _flow_ended, _real_block, gradient_tolerance, prediction_block_mask

__all__ = [
    "ParameterizedLoss",
    "parameterized_loss",
    "sampled_model",
    "initialize",
    "ModelFlowSolution",
    "integrate_model_flow",
    "ModelTrainingRun",
    "train_model",
]


@dataclass(frozen=True)
class ParameterizedLoss:
    """L(theta) = Q(z(theta)) for ``model`` over the quadratic form ``base``."""

    model: Model
    base: FullModel

    @property
    def d(self) -> int:
        return self.base.d

    @cached_property
    def shapes(self) -> tuple:
        return self.model.shapes(self.d)

    @cached_property
    def _offsets(self) -> list[tuple[int, int, tuple[int, int]]]:
        """(start, size, shape) of each matrix in the real packing (Re block, then Im block)."""
        out, start = [], 0
        for _, shape in self.shapes:
            size = shape[0] * shape[1]
            out.append((start, size, shape))
            start += 2 * size
        return out

    @property
    def size(self) -> int:
        """Real coordinates."""
        return 2 * self.model.size(self.d)

    @property
    def _per_head(self) -> int:
        return 2 if self.model.parameterization == "merged" else 3

    # -- packing ---------------------------------------------------------------------------
    def unpack(self, theta) -> list[np.ndarray]:
        return [
            (theta[s : s + n] + 1j * theta[s + n : s + 2 * n]).reshape(shape) for s, n, shape in self._offsets
        ]

    def pack(self, matrices) -> np.ndarray:
        return np.concatenate([part for M in matrices for part in (M.real.ravel(), M.imag.ravel())])

    def heads(self, theta) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W^KQ_h, W^PV_h) of every head: the merged matrices the loss sees."""
        matrices = self.unpack(theta)
        k = self._per_head
        if k == 2:
            return [(matrices[k * h], matrices[k * h + 1]) for h in range(self.model.heads)]
        return [
            (matrices[k * h].T @ matrices[k * h + 1], matrices[k * h + 2]) for h in range(self.model.heads)
        ]

    # -- z and the loss ---------------------------------------------------------------------
    def _z_of(self, heads) -> np.ndarray:
        z = None
        for Q, P in heads:
            term = self.base._z(Q, P)
            z = term if z is None else z + term
        return z

    def z(self, theta) -> np.ndarray:
        """z_r = sum_h W^PV_h[r, :] (x) W^KQ_h, shape (d, (2d)^3)."""
        return self._z_of(self.heads(theta))

    def z_jacobian(self, theta) -> np.ndarray:
        """dz / d w for the complex parameters w (z is holomorphic in them), shape
        (d (2d)^3, number of complex parameters), by the product rule on each factor."""
        d, n = self.d, 2 * self.d
        columns = []
        matrices = self.unpack(theta)
        k = self._per_head
        for h in range(self.model.heads):
            group = matrices[k * h : k * h + k]
            P = group[-1]
            Q = group[0] if k == 2 else group[0].T @ group[1]
            # d z_r[c, a, b] / d P[r', c'] = [r = r'] [c = c'] Q[a, b]
            dP = np.einsum("rs,cf,ab->rcabsf", np.eye(d), np.eye(n), Q).reshape(d * n**3, d * n)
            # d z_r[c, a, b] / d Q[a', b'] = P[r, c] [a = a'] [b = b']
            dQ = np.einsum("rc,ae,bf->rcabef", P, np.eye(n), np.eye(n)).reshape(d * n**3, n * n)
            if k == 2:
                columns += [dQ, dP]
            else:
                W_K, W_Q = group[0], group[1]
                # Q[a, b] = sum_k W_K[k, a] W_Q[k, b]
                A_K = np.einsum("ae,kb->abke", np.eye(n), W_Q).reshape(n * n, -1)
                A_Q = np.einsum("bf,ka->abkf", np.eye(n), W_K).reshape(n * n, -1)
                columns += [dQ @ A_K, dQ @ A_Q, dP]
        return np.concatenate(columns, axis=1)

    def loss(self, theta) -> float:
        z = self.z(theta)
        arrays = self.base.arrays
        quadratic = np.einsum("ri,ri->", z.conj(), self.base._apply_K(z)).real
        return float(0.5 * quadratic - np.sum(arrays.J * z).real + arrays.constant)

    def losses(self, thetas, chunk: int = 256) -> np.ndarray:
        """:meth:`loss` along a path (n, size)."""
        if self.model.is_paper:
            matrices = [self.unpack(t) for t in thetas]
            return self.base.losses(
                np.array([m[0] for m in matrices]), np.array([m[1] for m in matrices]), chunk
            )
        arrays, out = self.base.arrays, []
        for start in range(0, len(thetas), chunk):
            z = np.array([self.z(t) for t in thetas[start : start + chunk]])
            Kz = self.base._apply_K(z.reshape(-1, z.shape[-1])).reshape(z.shape)
            quadratic = np.einsum("sri,sri->s", z.conj(), Kz).real
            out.append(0.5 * quadratic - np.einsum("ri,sri->s", arrays.J, z).real + arrays.constant)
        return np.concatenate(out)

    # -- gradient --------------------------------------------------------------------------
    def _G(self, heads) -> np.ndarray:
        """2 dL/d conj(z), shape (d, 2d, 2d, 2d)."""
        n = 2 * self.d
        return (self.base._apply_K(self._z_of(heads)) - self.base.arrays.J.conj()).reshape(self.d, n, n, n)

    def gradient_matrices(self, theta) -> list[np.ndarray]:
        """2 dL/d conj(X) for every parameter matrix X: its real part is dL/d Re X, its
        imaginary part dL/d Im X (the full model's convention)."""
        matrices = self.unpack(theta)
        heads = self.heads(theta)
        g = self._G(heads)
        out = []
        k = self._per_head
        for h, (Q, P) in enumerate(heads):
            g_PV = np.einsum("rcab,ab->rc", g, Q.conj())
            g_KQ = np.einsum("rcab,rc->ab", g, P.conj())
            if k == 2:
                out += [g_KQ, g_PV]
            else:
                W_K, W_Q = matrices[k * h], matrices[k * h + 1]
                out += [W_Q.conj() @ g_KQ.T, W_K.conj() @ g_KQ, g_PV]
        return out

    def gradient(self, theta) -> np.ndarray:
        """The gradient in real coordinates."""
        return self.pack(self.gradient_matrices(theta))

    # -- Hessian ---------------------------------------------------------------------------
    def hessian(self, theta) -> np.ndarray:
        """The exact Hessian in real coordinates, by the chain rule (module docstring). The
        paper's model takes :meth:`FullModel.jacobian` itself."""
        if self.model.is_paper:
            return self.base.jacobian(theta)
        heads = self.heads(theta)
        merged = self._merged_hessian(heads, real=False)
        if self.model.parameterization == "merged":
            return merged
        return self._separate_hessian(theta, heads, merged, real=False)

    def real_hessian(self, theta) -> np.ndarray:
        """The Hessian's block on the real coordinates (:meth:`real_coordinates`), for a real law
        at a real point, where the imaginary parts stay 0: the same chain rule on real blocks
        only (a quarter of the merged work, an eighth of the pull-back's)."""
        if not self.base.real_subspace_invariant or np.any(theta[~self.real_coordinates()]):
            raise ValueError(
                "the real block alone is the flow's Jacobian only for a real law at a real point"
            )
        if self.model.is_paper:
            keep = self.real_coordinates()
            return self.base.jacobian(theta)[np.ix_(keep, keep)]
        heads = [(Q.real, P.real) for Q, P in self.heads(theta)]
        merged = self._merged_hessian(heads, real=True)
        if self.model.parameterization == "merged":
            return merged
        return self._separate_hessian(theta, heads, merged, real=True)

    def _merged_hessian(self, heads, real: bool) -> np.ndarray:
        """The Hessian in the merged heads' real coordinates (Re W^KQ_h, Im W^KQ_h, Re P_h,
        Im P_h) for h = 1..H (``real``: Re W^KQ_h, Re P_h only): the full model's closed form
        (:meth:`FullModel.jacobian`), whose blocks between heads h and h' are its blocks with
        (W^KQ, P) of h on the gradient's side and of h' on the step's side; the antilinear
        parts (from conj(W) in the gradient) exist only within a head. The contractions run
        as matrix products (tensordot), not einsum loops."""
        d, n = self.d, 2 * self.d
        G = self._G(heads).reshape(d, n, n * n)
        K = self.base.arrays.K
        if real or (
            self.base.real_subspace_invariant
            and not any(np.any(Q.imag) for Q, _ in heads)
            and not any(np.any(P.imag) for _, P in heads)
        ):  # a real law at a real point: every block is real
            K, G = K.real, G.real
            heads = [(Q.real, P.real) for Q, P in heads]
        K4 = K.reshape(n, n * n, n, n * n)  # [c, ab, c', a'b']
        K_pairs = K4.transpose(1, 3, 0, 2).reshape((n * n) ** 2, n * n)  # [(ab, a'b'), (c, c')]
        qs = [Q.reshape(n * n) for Q, _ in heads]
        K_q = [np.tensordot(K4, q, axes=(3, 0)) for q in qs]  # [c, ab, c']: K applied to e_c' (x) Q_h
        qK = [np.tensordot(q.conj(), K4, axes=(0, 1)) for q in qs]  # [c, c', a'b']: conj(Q_h) . K
        zero_kq, zero_pv = np.zeros((n * n, n * n)), np.zeros((d * n, d * n))
        rows = []
        for h, (_, P) in enumerate(heads):
            kq_row, pv_row = [], []
            for h2, (_, P2) in enumerate(heads):
                M = np.tensordot(qs[h].conj(), K_q[h2], axes=(0, 1))  # conj(Q_h) . K . Q_h'
                pv_pv = np.kron(np.eye(d), M)
                pv_kq = np.tensordot(P2, qK[h], axes=(1, 1)).reshape(d * n, n * n)  # [r, c, a'b']
                kq_pv = np.tensordot(P.conj(), K_q[h2], axes=(1, 0)).transpose(1, 0, 2).reshape(n * n, d * n)
                kq_kq = (K_pairs @ (P.conj().T @ P2).reshape(n * n)).reshape(n * n, n * n)
                if h == h2:  # conj(W) of the head's own gradient
                    pv_kq_anti, kq_pv_anti = (
                        G.reshape(d * n, n * n),
                        G.transpose(2, 0, 1).reshape(n * n, d * n),
                    )
                else:
                    pv_kq_anti, kq_pv_anti = np.zeros_like(pv_kq), np.zeros_like(kq_pv)
                if real:  # the (Re, Re) block of each: linear + antilinear
                    kq_row += [kq_kq, kq_pv + kq_pv_anti]
                    pv_row += [pv_kq + pv_kq_anti, pv_pv]
                else:
                    kq_row += [_real_block(kq_kq, zero_kq), _real_block(kq_pv, kq_pv_anti)]
                    pv_row += [_real_block(pv_kq, pv_kq_anti), _real_block(pv_pv, zero_pv)]
            rows += [kq_row, pv_row]
        return np.block(rows)

    def _separate_hessian(self, theta, heads, merged, real: bool) -> np.ndarray:
        """J^T H_merged J + C: J is the real Jacobian of (W_K, W_Q, P) -> (W_K^T W_Q, P) per
        head (block-diagonal, applied as a sparse matrix), C the curvature of W_K^T W_Q: for
        directions (dK, dQ) its second derivative is dK^T dQ, so C couples Re/Im W_K[k, a] with
        Re/Im W_Q[k, b] through g_KQ[a, b] = gr + i gi as [[gr, gi], [gi, -gr]] (``real``: the
        real coordinates alone, where J's blocks are A and C's is gr)."""
        from scipy import sparse

        d, n = self.d, 2 * self.d
        matrices = self.unpack(theta)
        g = self._G(heads)
        k = matrices[0].shape[0]
        copies = 1 if real else 2  # Re only, or (Re, Im)
        t_size = copies * (2 * k * n + d * n)
        H = self.model.heads
        jac_blocks, curvature = [], np.zeros((H * t_size, H * t_size))
        for h, (_, P) in enumerate(heads):
            W_K, W_Q = matrices[3 * h], matrices[3 * h + 1]
            if real:
                W_K, W_Q = W_K.real, W_Q.real
            A_K = np.einsum("ae,kb->abke", np.eye(n), W_Q).reshape(n * n, k * n)
            A_Q = np.einsum("bf,ka->abkf", np.eye(n), W_K).reshape(n * n, k * n)
            g_KQ = np.einsum("rcab,rc->ab", g, P.conj())
            eye = np.eye(k)
            if real:
                top = [A_K, A_Q, np.zeros((n * n, d * n))]
                block = np.kron(eye, g_KQ.real)
            else:
                top = [_holomorphic_block(A_K), _holomorphic_block(A_Q), np.zeros((2 * n * n, 2 * d * n))]
                gr, gi = np.kron(eye, g_KQ.real), np.kron(eye, g_KQ.imag)
                block = np.block([[gr, gi], [gi, -gr]])
            bottom = [np.zeros((copies * d * n, copies * k * n))] * 2 + [np.eye(copies * d * n)]
            jac_blocks.append(sparse.csr_matrix(np.block([top, bottom])))
            c0, width = h * t_size, copies * k * n
            curvature[c0 : c0 + width, c0 + width : c0 + 2 * width] = block
            curvature[c0 + width : c0 + 2 * width, c0 : c0 + width] = block.T
        jac = sparse.block_diag(jac_blocks, format="csr")
        merged_jac = (jac.T @ merged.T).T  # merged @ jac, as sparse @ dense
        return jac.T @ merged_jac + curvature

    def hessian_by_differences(self, theta) -> np.ndarray:
        """The Hessian column by column from gradients at theta +- s u: the gradient is a
        polynomial of degree 3 (merged) or 5 (separate) along u, so the odd part
        (g(+s) - g(-s))/2 = s H u + s^3 c_3 + s^5 c_5, and three (two) step sizes cancel the
        higher terms exactly, up to rounding. The independent route to :meth:`hessian`."""
        degree = 3 if self.model.parameterization == "merged" else 5
        h = max(1.0, float(np.max(np.abs(theta))))
        steps = [h / 2**i for i in range((degree + 1) // 2)]
        powers = np.array([[s ** (2 * j + 1) for s in steps] for j in range(len(steps))])
        weights = np.linalg.solve(powers, np.eye(len(steps))[0])
        columns = []
        for u in np.eye(len(theta)):
            columns.append(
                sum(
                    w * (self.gradient(theta + s * u) - self.gradient(theta - s * u)) / 2
                    for w, s in zip(weights, steps)
                )
            )
        H = np.array(columns).T
        return 0.5 * (H + H.T)

    # -- what the flow keeps ---------------------------------------------------------------
    def keep(self) -> np.ndarray:
        """True at the real coordinates that train (all, unless the model masks)."""
        if not self.model.masked:
            return np.ones(self.size, dtype=bool)
        keep_KQ, keep_PV = prediction_block_mask(self.d)
        pattern = [keep_KQ, keep_PV] * self.model.heads
        return self.pack([M.astype(complex) * (1 + 1j) for M in pattern]) != 0

    def real_coordinates(self) -> np.ndarray:
        """True at the real parts in the packing."""
        return np.concatenate([np.r_[np.ones(n, bool), np.zeros(n, bool)] for _, n, _ in self._offsets])

    def conserved(self, theta) -> np.ndarray:
        """The quantities the flow keeps, from the symmetries of z: per merged head
        ||P_h||^2 - ||W^KQ_h||^2 (scaling); per separate head ||P_h||^2 - ||W_K,h||^2 and the
        balance W_K W_K^H - conj(W_Q W_Q^H) (W_K -> A W_K, W_Q -> A^-T W_Q), as real numbers."""
        matrices = self.unpack(theta)
        out = []
        k = self._per_head
        for h in range(self.model.heads):
            group = matrices[k * h : k * h + k]
            P = group[-1]
            out.append(np.sum(np.abs(P) ** 2) - np.sum(np.abs(group[0]) ** 2))
            if k == 3:
                balance = group[0] @ group[0].conj().T - (group[1] @ group[1].conj().T).conj()
                out += [*balance.real.ravel(), *balance.imag.ravel()]
        return np.array(out)

    def ab(self, theta) -> float:
        """The mesa-optimizer's step product: mean over j of Re z_j[j, d+j, j] = Re sum_h
        P_h[j, j] W^KQ_h[d+j, j]; for the paper's model the reference's metric, mean over j of
        Re W^KQ[d+j, j] Re W^PV[j, j] (the same for real parameters)."""
        d = self.d
        j = np.arange(d)
        heads = self.heads(theta)
        if self.model.is_paper:
            ((Q, P),) = heads
            return float(np.mean(Q[d + j, j].real * P[j, j].real))
        total = sum(P[j, j] * Q[d + j, j] for Q, P in heads)
        return float(np.mean(np.real(total)))


def parameterized_loss(
    setting, T: int, model: Model = PAPER_MODEL, values: dict | None = None
) -> ParameterizedLoss:
    """The exact population loss of ``model`` under ``setting`` at length T."""
    from .full_flow import full_model

    return ParameterizedLoss(model, full_model(setting, T, values))


def sampled_model(X: np.ndarray, rho=None, omega=None) -> FullModel:
    """The training loss on sequences X (m, T, d) as the same quadratic form in z: K and J are
    the data's moments (:func:`mesacheck.numeric.model._moments`, summed over the sequences and
    positions once) in the full model's layout, so any model trains on them by
    :class:`ParameterizedLoss`. Needs (2d)^6 complex numbers: d <= 5."""
    import hashlib

    from .model import _moments

    m, T, d = X.shape
    n = 2 * d
    key = hashlib.blake2b(digest_size=16)
    for array in (X, rho, omega):
        key.update(b"-" if array is None else np.ascontiguousarray(array).tobytes())
    key = (X.shape, X.dtype.str, key.digest())
    if _LAST_SAMPLED.get("key") == key:  # two models trained on one sample pay for its moments once
        return _LAST_SAMPLED["model"]
    if n**6 * 16 > 20e6:
        raise InvalidModel(
            f"the sampled moments of the loss take (2d)^6 numbers: d <= 5 for this model, got d = {d}"
        )
    moments = _moments(X, rho=rho, omega=omega)
    # quartic[(a, c'), (p, q)] = sum a_t conj(Z_t[a, p]) Z_t[c', q], Z_t[c, (a, b)] = G_t[c, a] e_t[b]
    # = rho_t v_t[c, a, b]; K[(c, p), (c', q)] is it with the axes (c', p) swapped
    K = moments.quartic.reshape(n, n, n * n, n * n).transpose(0, 2, 1, 3).reshape(n**3, n**3)
    J = moments.cubic.reshape(n * n * n, d).T  # cubic[c, (a, b), r] = sum b_t Z_t conj(x_{t+1}[r])
    model = FullModel(FullModelArrays(d, T, K, np.ascontiguousarray(J), float(moments.constant)))
    _LAST_SAMPLED.update(key=key, model=model)
    return model


_LAST_SAMPLED: dict = {}  # "key" (shape and digest of X, rho, omega) and its sampled "model"


def initialize(
    loss: ParameterizedLoss, init: str = "diagonal", *, a0=0.1, b0=0.1, sigma_w: float = 0.1, seed: int = 0
) -> np.ndarray:
    """A start in real coordinates. ``diagonal``: every head at the paper's Assumption 3.1,
    W^KQ_h = [[0, 0], [a0 I, 0]], P_h = [b0 I, 0]; a separate head splits a0 evenly,
    W_K = [0, sqrt(abs(a0)) I], W_Q = [sign(a0) sqrt(abs(a0)) I, 0] on its first d rows (balanced: its
    balance is 0), which needs key_dim >= d. ``random``: every entry of every matrix i.i.d.
    real N(0, sigma_w^2) (Figure 5), in the packing's order from one generator."""
    model, d = loss.model, loss.d
    if init == "random":
        rng = np.random.default_rng(seed)
        return loss.pack([rng.normal(0.0, sigma_w, shape).astype(complex) for _, shape in loss.shapes])
    if init != "diagonal":
        raise InvalidModel(f"init is 'diagonal' or 'random', got {init!r}")
    n = 2 * d
    P = np.zeros((d, n), dtype=complex)
    P[:, :d] = np.diag(np.broadcast_to(np.asarray(b0, dtype=complex), d))
    a = np.broadcast_to(np.asarray(a0, dtype=complex), d)
    if model.parameterization == "merged":
        Q = np.zeros((n, n), dtype=complex)
        Q[d:, :d] = np.diag(a)
        return loss.pack([Q, P] * model.heads)
    k = model.keys(d)
    if k < d:
        raise InvalidModel(
            f"the diagonal start W^KQ = a0 I in its lower-left block has rank d = {d}, above the key "
            f"dimension {k}: start at random (--init random)"
        )
    if np.any(a.imag):
        raise InvalidModel("the diagonal start of separate keys and queries takes a real a0")
    W_K, W_Q = np.zeros((k, n), dtype=complex), np.zeros((k, n), dtype=complex)
    root = np.sqrt(np.abs(a.real))
    W_K[np.arange(d), d + np.arange(d)] = root
    W_Q[np.arange(d), np.arange(d)] = np.sign(a.real) * root
    return loss.pack([W_K, W_Q, P] * model.heads)


@dataclass(frozen=True)
class ModelFlowSolution:
    """A trajectory of the flow of any model and its certificate: the final gradient norm and
    the largest drift of the conserved quantities (:meth:`ParameterizedLoss.conserved`)."""

    tau: np.ndarray
    theta: np.ndarray  # (n_times, real coordinates)
    loss: np.ndarray
    ab: np.ndarray
    gradient_norm: float
    conserved_drift: float
    rtol: float
    atol: float
    gtol: float
    stationary: bool = True
    interpolant: Callable | None = field(default=None, repr=False, compare=False)  # tau -> theta

    @property
    def limit(self) -> np.ndarray:
        return self.theta[-1]


def integrate_model_flow(
    loss: ParameterizedLoss,
    theta0: np.ndarray,
    *,
    method: str = "LSODA",
    rtol: float = 1e-12,
    atol: float = 1e-14,
    gtol: float | None = None,
    tau_max: float = 1e7,
    blow_up: float = 1e6,
    allow_unfinished: bool = False,
    dense: bool = False,
    progress: Callable[[float, float], None] | None = None,
) -> ModelFlowSolution:
    """Integrate d theta / d tau = -grad L(theta) until the gradient's norm is <= ``gtol`` (default
    :func:`gradient_tolerance`), as :func:`mesacheck.numeric.full_flow.integrate_full_flow`
    does for the paper's model, with the same steps: LSODA with the exact Hessian as its
    Jacobian, only the coordinates that move integrated (the model's mask; the real parts when
    the law is real and the start real). ``dense`` keeps the solver's interpolant as
    ``tau -> theta`` (returned in place of the path's sampling: the plateau times need it).
    Raises :class:`FlowDidNotConverge` as the full flow does."""
    theta0 = np.asarray(theta0, dtype=float)
    if theta0.shape != (loss.size,):
        raise ValueError(f"the start must have {loss.size} real coordinates for {loss.model.describe()}")
    if not np.all(np.isfinite(theta0)):
        raise ValueError("the initialization must be finite")
    gtol = gradient_tolerance(loss.base) if gtol is None else gtol
    keep = loss.keep()
    if np.any(theta0[~keep]):
        raise ValueError("with masking, the off-diagonal entries of the prediction blocks must start at 0")
    active = keep.copy()
    if loss.base.real_subspace_invariant and not np.any(theta0[~loss.real_coordinates()]):
        active &= loss.real_coordinates()

    def full_state(y):
        state = theta0.copy()
        state[active] = y
        return state

    def velocity(_, y):
        return -loss.gradient(full_state(y))[active]

    real_only = not np.any(active & ~loss.real_coordinates())
    if real_only:  # the real block alone: a real law from a real start
        active_in_real = active[loss.real_coordinates()]

    def jacobian(_, y):
        if real_only:
            return -loss.real_hessian(full_state(y))[np.ix_(active_in_real, active_in_real)]
        return -loss.hessian(full_state(y))[np.ix_(active, active)]

    reported = [-1.0]

    def converged(tau, y):
        norm = np.linalg.norm(loss.gradient(full_state(y)) * keep)
        if progress is not None and tau > reported[0]:
            reported[0] = tau
            progress(float(tau), float(norm))
        return norm - gtol

    def exploded(_, y):
        return blow_up - np.max(np.abs(y))

    converged.terminal = exploded.terminal = True
    stationary = True
    interpolant = None
    if np.linalg.norm(loss.gradient(theta0) * keep) <= gtol:
        states, tau = theta0[None, :], np.zeros(1)
    else:
        result = solve_ivp(
            velocity,
            (0.0, tau_max),
            theta0[active],
            method=method,
            rtol=rtol,
            atol=atol,
            events=(converged, exploded),
            dense_output=dense,
            **({"jac": jacobian} if method in ("LSODA", "BDF", "Radau") else {}),
        )
        stationary = _flow_ended(
            result,
            velocity,
            tau_max=tau_max,
            gtol=gtol,
            blow_up=blow_up,
            allow_unfinished=allow_unfinished,
            name="the flow",
        )
        states, tau = np.array([full_state(y) for y in result.y.T]), result.t
        interpolant = result.sol
    conserved = np.array([loss.conserved(s) for s in states])
    return ModelFlowSolution(
        tau,
        states,
        loss.losses(states),
        np.array([loss.ab(s) for s in states]),
        float(np.linalg.norm(loss.gradient(states[-1]) * keep)),
        float(np.max(np.abs(conserved - conserved[0]))),
        rtol,
        atol,
        gtol,
        stationary,
        None if interpolant is None else (lambda t: full_state(interpolant(t))),
    )


@dataclass(frozen=True)
class ModelTrainingRun:
    """The logged metrics of a finite-sample run of any model (arrays indexed like ``steps``),
    as :class:`mesacheck.numeric.simulate.TrainingRun` logs the paper's model."""

    steps: np.ndarray
    ab: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    ratio: np.ndarray
    theta: np.ndarray  # the last parameters
    settings: dict

    def as_records(self) -> list[dict]:
        names = ("step", "ab", "train_loss", "test_loss", "ratio")
        columns = (self.steps, self.ab, self.train_loss, self.test_loss, self.ratio)
        return [dict(zip(names, (int(row[0]), *map(float, row[1:])))) for row in zip(*columns)]


def _test_metrics(loss: ParameterizedLoss, theta, X, rho, omega) -> tuple[float, float]:
    """The test loss and the reference's ratio by the forward pass on the test sequences (not
    the moments): y_t = sum_h of each head's prediction."""
    from .model import predict

    y = sum(predict(Q, P, X, rho=rho) for Q, P in loss.heads(theta))
    weights = np.ones(X.shape[1] - 2) if omega is None else np.asarray(omega, dtype=float)
    test = 0.5 * float(np.sum(weights[None, :, None] * np.abs(y - X[:, 2:]) ** 2)) / len(X)
    ratio = float(np.mean((y[:, -1] / (X[:, -1] + 1e-5)).real))
    return test, ratio


def train_model(
    setting,
    model: Model,
    theta0: np.ndarray,
    *,
    T: int,
    eta: float,
    steps: int,
    m: int = 10_000,
    m_test: int = 10_000,
    seed: int = 0,
    log_every: int = 10,
) -> ModelTrainingRun:
    """Full-batch gradient descent on m sampled sequences for any model, from ``theta0``: the
    reference's training (complex parameters, every entry trainable unless the model masks)
    with the loss as the sampled quadratic form (:func:`sampled_model`). Training and test
    sequences come from one generator, in that order, as in
    :func:`mesacheck.numeric.simulate.simulate_training`."""
    from mesacheck.symbolic.setting import as_setting

    from .bridge import normalization, position_weights
    from .simulate import sample_sequences

    setting = as_setting(setting)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"the step size eta must be a finite positive number, got {eta!r}")
    rng = np.random.default_rng(seed)
    X_train = sample_sequences(setting, T, m, rng)
    X_test = sample_sequences(setting, T, m_test, rng)
    rho, omega = normalization(setting, T), position_weights(setting, T)
    loss = ParameterizedLoss(model, sampled_model(X_train, rho, omega))
    keep = loss.keep()
    theta = np.asarray(theta0, dtype=float).copy()
    log = {"steps": [], "ab": [], "train_loss": [], "test_loss": [], "ratio": []}
    for step in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss.loss(theta)
        if not np.isfinite(value):
            raise FloatingPointError(f"training diverged at step {step}: lower eta (now {eta:g})")
        if step % log_every == 0 or step == steps:
            test, ratio = _test_metrics(loss, theta, X_test, rho, omega)
            for key, v in zip(log, (step, loss.ab(theta), value, test, ratio)):
                log[key].append(v)
        if step == steps:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            theta = theta - eta * loss.gradient(theta) * keep
    settings = {
        "model": model.as_dict(),
        "T": T,
        "eta": eta,
        "steps": steps,
        "m": m,
        "m_test": m_test,
        "seed": seed,
    }
    return ModelTrainingRun(**{k: np.asarray(v) for k, v in log.items()}, theta=theta, settings=settings)


def _holomorphic_block(A: np.ndarray) -> np.ndarray:
    """The real matrix of w -> A w on (Re w, Im w)."""
    return np.block([[A.real, -A.imag], [A.imag, A.real]])
