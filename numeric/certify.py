"""Certified results: balls that provably contain an exact value, and boxes that provably
contain exactly one stationary point of the exact population loss.

Everything here is interval arithmetic in FLINT's Arb (python-flint): every operation returns
a ball that contains the exact result, so a statement proven on balls holds for the exact
numbers. Two jobs:

* :func:`certified_value` turns an exact algebraic number (a rational, or the only real root of
  an integer polynomial between two rationals, as :func:`mesacheck.numeric.bridge.algebraic_data`
  gives it) into a ball with a proven radius (FLINT's certified complex root isolation).
* :func:`certify_stationary` runs the Krawczyk test of interval Newton on the exact gradient of
  the full model (its coefficients are exact rationals,
  :func:`mesacheck.numeric.bridge.full_model_rationals`) around a numeric limit of the full flow,
  on the real parameters (the flow of a real law from a real start stays real,
  thm-real-subspace). The loss is invariant under the rescaling (c W^PV, W^KQ / c), so every
  stationary point lies on a curve of them and the Jacobian of the gradient is singular: the
  test runs on the bordered system g(y) + mu grad h(y) = 0, h(y) = h_0, with h the conserved
  ||W^PV||^2 - ||W^KQ||^2 and h_0 its value at the flow's start. At a zero, dotting with the
  rescaling's generator t(y) (g . t = 0 identically, grad h . t = 2 ||y||^2 > 0) gives mu = 0,
  so a unique zero of the bordered system in the box is a unique stationary point of the loss
  in the box on the level set h = h_0. The Hessian's inertia is then proven by congruence
  (Sylvester's law) with Gershgorin discs: positive definite on a fixed complement of t, and
  H t = 0 exactly (differentiate g(c P, Q / c) = 0 in c), so the point is a strict minimum in
  every real direction except the rescaling. The imaginary directions are tested the same way;
  there the phase rotation (e^{i phi} W^PV, e^{-i phi} W^KQ) is the exact zero mode, and any
  further near-zero eigenvalue is reported as undecided, not passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from flint import arb, arb_mat, ctx, fmpq, fmpz_poly

__all__ = [
    "CertifiedValue",
    "certified_value",
    "encloses",
    "ExactFullModel",
    "exact_full_model",
    "StationaryCertificate",
    "certify_stationary",
    "conserved_quantity",
    "CERTIFY_MAX_D",
    "StabilityThreshold",
    "stability_threshold",
    "balanced_mesa_optimizer",
]

CERTIFY_MAX_D = 5  # K has (2d)^6 entries: 1e6 Arb balls at d = 5 (~5 s), 1.7e7 at d = 8

PRECISION = 128  # bits: balls of values have radius ~1e-38 relative


class _precision:
    """Arb's working precision for a block (python-flint keeps it in a global context)."""

    def __init__(self, bits: int):
        self.bits = bits

    def __enter__(self):
        self.saved, ctx.prec = ctx.prec, self.bits

    def __exit__(self, *exc):
        ctx.prec = self.saved


def _fmpq(q: Fraction | int) -> fmpq:
    q = Fraction(q)
    return fmpq(q.numerator, q.denominator)


@dataclass(frozen=True)
class CertifiedValue:
    """A ball [mid +/- radius] proven to contain an exact algebraic number; ``how`` says why
    (an exact rational, or the unique real root of ``polynomial`` in ``interval``)."""

    mid: str  # 40 significant digits
    radius: float  # an upper bound (rounded up)
    lower: str
    upper: str
    how: str
    polynomial: tuple | None = None  # integer coefficients, constant term first
    interval: tuple | None = None  # (lo, hi) as strings of exact rationals

    def ball(self) -> arb:
        with _precision(PRECISION + 64):  # the ends are 45-digit decimals: no wider than the ball
            return arb(self.lower).union(arb(self.upper))

    def contains(self, value, *, radius: float | str = 0) -> bool:
        """Whether the ball meets [value +/- radius] (``value`` a decimal string, float,
        Fraction or mpmath number; pass an mpmath value's own error as ``radius``)."""
        with _precision(PRECISION):
            if isinstance(value, Fraction | int):
                point = arb(_fmpq(value))
            elif isinstance(value, float):
                point = arb(value)  # a float is an exact dyadic rational
            else:
                point = arb(str(value))
            return self.ball().overlaps(point + arb(0, arb(str(radius))))

    def as_dict(self) -> dict:
        out = {"ball": f"[{self.mid} +/- {self.radius:.3g}]", "radius": self.radius, "how": self.how}
        if self.polynomial is not None:
            out["polynomial"] = list(self.polynomial)
            out["interval"] = list(self.interval)
        return out


def certified_value(data: tuple, *, precision: int = PRECISION) -> CertifiedValue:
    """The ball of an algebraic number given as :func:`mesacheck.numeric.bridge.algebraic_data`
    returns it: ("rational", q) or ("root", coefficients, (lo, hi)). A root is isolated by
    FLINT (every root of the polynomial in a disjoint ball, real roots proven real); exactly
    one real root's ball must meet [lo, hi] and lie inside it, else ArithmeticError.

    >>> certified_value(("rational", Fraction(1, 3))).mid[:12]
    '0.3333333333'
    >>> value = certified_value(("root", (-2, 0, 1), (Fraction(1), Fraction(2))))
    >>> value.contains("1.41421356237309504880168872420969807856967"), value.contains("1.4142135")
    (True, False)
    """
    with _precision(precision):
        if data[0] == "rational":
            ball = arb(_fmpq(data[1]))
            return _as_value(ball, f"the exact rational {data[1]}")
        if data[0] == "function of root":
            _, numerator, denominator, base = data
            root = certified_value(base, precision=precision).ball()
            value = _horner(numerator, root) / _horner(denominator, root)
            if not value.is_finite():
                raise ArithmeticError("the denominator's ball contains 0")
            return _as_value(value, f"a rational function of {base[1]}'s real root in {base[2]}")
        if data[0] != "root":
            raise ValueError(f"unknown algebraic data {data[0]!r}")
        _, coefficients, (lo, hi) = data
        polynomial = fmpz_poly(list(coefficients))
        bits = precision
        while True:  # more bits until the root's ball fits in the interval (SymPy may have refined it)
            with _precision(bits):
                lo_ball, hi_ball = arb(_fmpq(lo)), arb(_fmpq(hi))
                found = [
                    root.real
                    for root, _ in polynomial.complex_roots()
                    if root.imag.is_zero() and root.real.overlaps(lo_ball.union(hi_ball))
                ]
                if len(found) == 1 and found[0] > lo_ball and found[0] < hi_ball:
                    break
            if not found or bits >= 64 * precision:
                raise ArithmeticError(
                    f"{len(found)} real roots of {polynomial} meet [{lo}, {hi}]: not isolated"
                )
            bits *= 2
        return _as_value(
            found[0],
            "the unique real root in the interval (FLINT root isolation)",
            tuple(coefficients),
            (str(lo), str(hi)),
        )


def encloses(factors: list, value: CertifiedValue) -> bool:
    """Whether the product of the float intervals ``factors`` ([lower, upper] each, e.g. entries
    of a certified box) provably contains the exact number that ``value`` encloses.

    >>> encloses([[0.5, 0.6], [2.0, 2.0]], certified_value(("rational", Fraction(11, 10))))
    True
    """
    with _precision(PRECISION):
        product = arb(1)
        for lower, upper in factors:
            product = product * arb(lower).union(arb(upper))
        return bool(product.contains(value.ball()))


def _horner(coefficients, x: arb) -> arb:
    out = arb(0)
    for c in reversed(coefficients):
        out = out * x + arb(_fmpq(c))
    return out


def _as_value(ball: arb, how: str, polynomial=None, interval=None) -> CertifiedValue:
    radius = float(arb(ball.rad()).upper()) if not ball.is_exact() else 0.0
    return CertifiedValue(
        mid=ball.mid().str(40, radius=False),
        radius=radius,
        lower=ball.lower().str(45, radius=False),
        upper=ball.upper().str(45, radius=False),
        how=how,
        polynomial=polynomial,
        interval=interval,
    )


def conserved_quantity(W_KQ: np.ndarray, W_PV: np.ndarray) -> Fraction:
    """||W^PV||^2 - ||W^KQ||^2 exactly at a real float point (a float is an exact rational):
    the flow's conserved quantity at its start, the level set :func:`certify_stationary` uses.

    >>> conserved_quantity(np.eye(2) * 0.5, np.eye(2))
    Fraction(3, 2)
    """
    square = sum(Fraction(float(v)) ** 2 for v in np.real(W_PV).ravel())
    return square - sum(Fraction(float(v)) ** 2 for v in np.real(W_KQ).ravel())


# -- the exact full model in interval arithmetic (real parameters) ------------------------------


@dataclass(frozen=True)
class ExactFullModel:
    """The full model's loss L = 1/2 sum_r z_r K z_r - sum_r J_r z_r + constant on real
    parameters (z_r = W^PV[r, :] (x) W^KQ), with K and J exact: integer matrices over one
    common denominator, held as Arb matrices (balls around the integers)."""

    d: int
    K: arb_mat  # numerators, (n^3, n^3), n = 2d
    K_by_blocks: arb_mat  # K[c ab, c' a'b'] rearranged as [(ab, a'b'), (c, c')]
    J: arb_mat  # numerators, (d, n^3)
    denominator: int

    @property
    def n(self) -> int:
        return 2 * self.d

    @property
    def size(self) -> int:
        """Real parameters: W^KQ (n x n) then W^PV (d x n), row-major."""
        return self.n * self.n + self.d * self.n


def exact_full_model(setting, T: int, values: dict | None = None, *, precision: int = 106) -> ExactFullModel:
    """The exact coefficients of the full loss of ``setting`` at length ``T``, as Arb balls
    at ``precision`` bits (an integer numerator longer than that is a ball around it)."""
    from .bridge import full_model_rationals

    K, J, denominator, _ = full_model_rationals(setting, T, values or {})
    d = J.shape[0]
    n = 2 * d
    blocks = K.reshape(n, n * n, n, n * n).transpose(1, 3, 0, 2).reshape(n**4, n * n)
    if np.any(K != K.T):
        raise ArithmeticError("K is not symmetric: the law is not real")
    with _precision(precision):
        return ExactFullModel(
            d, arb_mat(K.tolist()), arb_mat(blocks.tolist()), arb_mat(J.tolist()), denominator
        )


def _split(model: ExactFullModel, y: list) -> tuple[list, list]:
    n, d = model.n, model.d
    q = y[: n * n]
    P = [y[n * n + r * n : n * n + (r + 1) * n] for r in range(d)]
    return q, P


def _pieces(model: ExactFullModel, y: list):
    """G = z K - J (d x n^3, divided by the denominator) and K (x) q, shared by the gradient
    and the Hessian."""
    n, d = model.n, model.d
    q, P = _split(model, y)
    N = n * n
    z = arb_mat(d, n * N)
    for r in range(d):
        for c in range(n):
            for ab in range(N):
                z[r, c * N + ab] = P[r][c] * q[ab]
    scale = arb(1) / model.denominator
    G = (z * model.K - model.J) * scale
    return q, P, G, scale


def gradient(model: ExactFullModel, y: list) -> list:
    """dL/dy at the real point (or box) y, a list of arb: (W^KQ row-major, W^PV row-major)."""
    n, d = model.n, model.d
    N = n * n
    q, P, G, _ = _pieces(model, y)
    g_q = [sum((G[r, c * N + ab] * P[r][c] for r in range(d) for c in range(n)), arb(0)) for ab in range(N)]
    g_P = [sum((G[r, c * N + ab] * q[ab] for ab in range(N)), arb(0)) for r in range(d) for c in range(n)]
    return g_q + g_P


def hessian_blocks(model: ExactFullModel, y: list) -> tuple[arb_mat, arb_mat]:
    """The Hessian of L at y (a point or a box) on the real parts and on the imaginary parts of
    the parameters, at real parameters of a real law (where the two decouple): the linear part
    through K plus or minus the term G (x) d z from the product z = W^PV (x) W^KQ."""
    n, d = model.n, model.d
    N = n * n
    q, P, G, scale = _pieces(model, y)
    # M[c, c'] = q . K[c ., c' .] . q, with Kq[i, c'] = sum_a'b' K[i, c' a'b'] q[a'b']
    Bq = arb_mat(n * N, n)
    for c in range(n):
        for ab in range(N):
            Bq[c * N + ab, c] = q[ab]
    Kq = model.K * Bq * scale
    M = Bq.transpose() * Kq
    # d^2 L / dq dq = sum_{c c'} (P^T P)[c, c'] K[c ., c' .]
    S = arb_mat(n * n, 1)
    for c in range(n):
        for c2 in range(n):
            S[c * n + c2, 0] = sum((P[r][c] * P[r][c2] for r in range(d)), arb(0))
    QQ_flat = model.K_by_blocks * S * scale
    size = model.size
    H_re, H_im = arb_mat(size, size), arb_mat(size, size)
    for i in range(N):
        for j in range(N):
            H_re[i, j] = H_im[i, j] = QQ_flat[i * N + j, 0]
    for r in range(d):
        for c in range(n):
            for c2 in range(n):
                H_re[N + r * n + c, N + r * n + c2] = H_im[N + r * n + c, N + r * n + c2] = M[c, c2]
    # d^2 L / dP[r, c] dq[a'b'] = sum_c' P[r, c'] (q . K)[c, c' a'b'] +- G[r, c a'b']
    for r in range(d):
        for c in range(n):
            row = N + r * n + c
            for ab in range(N):
                linear = sum((P[r][c2] * Kq[c2 * N + ab, c] for c2 in range(n)), arb(0))
                anti = G[r, c * N + ab]
                H_re[row, ab] = H_re[ab, row] = linear + anti
                H_im[row, ab] = H_im[ab, row] = linear - anti
    return H_re, H_im


# -- Krawczyk's test and the inertia ------------------------------------------------------------


@dataclass(frozen=True)
class StationaryCertificate:
    """The verdict of :func:`certify_stationary` and what it rests on.

    ``unique_zero``: True when Krawczyk's operator maps the box into its interior (a unique
    stationary point in the box on the level set h = ``conserved``), False when it maps the box
    off itself in some coordinate (proven: no stationary point there), None when undecided.
    ``real_inertia`` and ``imaginary_inertia``: (proven positive, exact zero modes, undecided)
    eigenvalue counts of the Hessian on the real and on the imaginary parts."""

    radius: float
    unique_zero: bool | None
    contraction: float | None  # max |K(X) - x| / radius: < 1 proves the zero; None: not run
    real_inertia: tuple | None
    imaginary_inertia: tuple | None
    real_lower_bound: float | None  # Gershgorin lower bound on V^T H V off the zero modes
    imaginary_lower_bound: float | None
    conserved: str
    products: list = field(default_factory=list)  # enclosures of a_j b_j (diagonal entries)
    reason: str = ""
    # [lower, upper] of every real parameter (W^KQ, then W^PV, row-major) in the proven box
    enclosures: list = field(default_factory=list, repr=False)

    @property
    def strict_minimum_real(self) -> bool:
        """A unique stationary point, a strict minimum on the real parameters modulo the
        rescaling."""
        return bool(self.unique_zero) and self.real_inertia is not None and self.real_inertia[2] == 0

    @property
    def strict_minimum_complex(self) -> bool:
        """Also a strict minimum in the imaginary directions modulo the phase rotation."""
        imaginary = self.imaginary_inertia
        return self.strict_minimum_real and imaginary is not None and imaginary[2] == 0

    @property
    def verdict(self) -> str:
        if self.unique_zero is False:
            return "refused: proven that no stationary point lies in the box"
        if self.unique_zero is None:
            return "not certified: " + (self.reason or "Krawczyk's test is inconclusive in this box")
        if not self.strict_minimum_real:
            return "unique stationary point certified; not a certified strict minimum (degenerate Hessian)"
        if self.strict_minimum_complex:
            return "certified: unique stationary point, strict minimum modulo rescaling and phase"
        undecided = self.imaginary_inertia[2] if self.imaginary_inertia else "?"
        return (
            "certified on the real parameters: unique stationary point, strict minimum modulo the "
            f"rescaling; {undecided} imaginary directions beyond the phase rotation are degenerate "
            "(Hessian eigenvalue ~0), not certified"
        )

    def as_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "radius": self.radius,
            "unique_zero": self.unique_zero,
            "contraction": self.contraction,
            "real_inertia": list(self.real_inertia) if self.real_inertia else None,
            "imaginary_inertia": list(self.imaginary_inertia) if self.imaginary_inertia else None,
            "real_lower_bound": self.real_lower_bound,
            "imaginary_lower_bound": self.imaginary_lower_bound,
            "conserved": self.conserved,
            "products": self.products,
        }


def certify_stationary(
    model: ExactFullModel,
    W_KQ: np.ndarray,
    W_PV: np.ndarray,
    *,
    conserved: Fraction | int | str = 0,
    radius: float = 1e-9,
    precision: int = 106,
) -> StationaryCertificate:
    """Krawczyk's test around the real point (W_KQ, W_PV) in the box of half-width ``radius``
    (every real parameter, and the multiplier mu of the level set h = ``conserved``, the exact
    conserved quantity of the flow's start), then the Hessian's inertia in that box."""
    W_KQ, W_PV = np.asarray(W_KQ), np.asarray(W_PV)
    n, d = model.n, model.d
    if W_KQ.shape != (n, n) or W_PV.shape != (d, n):
        raise ValueError(f"W^KQ must be {n} x {n} and W^PV {d} x {n}")
    if np.any(np.imag(W_KQ)) or np.any(np.imag(W_PV)):
        raise ValueError("the certificate runs on real parameters (a real law from a real start)")
    if not (radius > 0 and np.isfinite(radius)):
        raise ValueError("the radius must be positive and finite")
    center = np.concatenate([np.real(W_KQ).ravel(), np.real(W_PV).ravel()]).astype(float)
    if not np.all(np.isfinite(center)):
        raise ValueError("the point must be finite")
    h0 = _fmpq(Fraction(conserved))
    with _precision(precision):
        return _certify(model, center, h0, radius, str(Fraction(conserved)))


def _bordered(model, y: list, mu: arb, h0: fmpq):
    """F(y, mu) = (g(y) + mu grad h(y), h(y) - h0) and its Jacobian, h = ||P||^2 - ||Q||^2."""
    N, size = model.n**2, model.size
    sign = [-1] * N + [1] * (size - N)
    g = gradient(model, y)
    H_re, H_im = hessian_blocks(model, y)
    F = arb_mat(size + 1, 1)
    JF = arb_mat(size + 1, size + 1)
    for i in range(size):
        F[i, 0] = g[i] + mu * 2 * sign[i] * y[i]
        for j in range(size):
            JF[i, j] = H_re[i, j]
        JF[i, i] += 2 * sign[i] * mu
        JF[i, size] = JF[size, i] = 2 * sign[i] * y[i]
    F[size, 0] = sum((sign[i] * y[i] * y[i] for i in range(size)), arb(0)) - h0
    return F, JF, H_re, H_im


def _certify(model, center: np.ndarray, h0: fmpq, radius: float, conserved: str) -> StationaryCertificate:
    size = model.size
    point = [arb(float(v)) for v in center]  # floats are exact dyadic rationals
    F0, J0, _, _ = _bordered(model, point, arb(0), h0)
    box = [arb(float(v), radius) for v in center]
    mu_box = arb(0, radius)
    _, JX, H_re, H_im = _bordered(model, box, mu_box, h0)
    J_mid = np.array([[float(J0[i, j].mid()) for j in range(size + 1)] for i in range(size + 1)])
    try:
        C_float = np.linalg.inv(J_mid)
    except np.linalg.LinAlgError:
        return _undecided(radius, conserved, "the bordered Jacobian is singular at the point (degenerate)")
    C = arb_mat(C_float.tolist())
    identity = arb_mat(size + 1, size + 1)
    for i in range(size + 1):
        identity[i, i] = 1
    width = arb_mat(size + 1, 1)
    for i in range(size + 1):
        width[i, 0] = arb(0, radius)
    image = -(C * F0) + (identity - C * JX) * width  # K(X) - x
    reach = max(float(abs(image[i, 0]).upper()) for i in range(size + 1))
    outside = any(
        float(image[i, 0].lower()) > radius or float(image[i, 0].upper()) < -radius for i in range(size + 1)
    )
    inside = all(float(abs(image[i, 0]).upper()) < radius for i in range(size + 1))
    unique = True if inside else (False if outside else None)
    # the zero lies in K(X), a tighter box than X once the test passes
    tight = [arb(float(v)) + image[i, 0] for i, v in enumerate(center)] if unique else box
    products = _products(model, tight)
    enclosures = [[float(v.lower()), float(v.upper())] for v in tight]
    if not unique:
        return StationaryCertificate(
            radius, unique, reach / radius, None, None, None, None, conserved, products, "", enclosures
        )
    q, P = _split(model, center.tolist())
    real_zero = np.concatenate([-np.asarray(q), np.ravel(P)])  # rescaling (c P, Q / c)
    real = _inertia(H_re, real_zero)
    imaginary = _inertia(H_im, real_zero)  # the phase (e^{i phi} P, e^{-i phi} Q): same vector
    return StationaryCertificate(
        radius,
        True,
        reach / radius,
        real[0],
        imaginary[0],
        real[1],
        imaginary[1],
        conserved,
        products,
        "",
        enclosures,
    )


def _undecided(radius, conserved, reason) -> StationaryCertificate:
    return StationaryCertificate(radius, None, None, None, None, None, None, conserved, [], reason)


def _products(model, box) -> list:
    """Enclosures of a_j b_j = W^KQ[d+j, j] W^PV[j, j] over the box, as [lower, upper]."""
    n, d = model.n, model.d
    out = []
    for j in range(d):
        value = box[(d + j) * n + j] * box[n * n + j * n + j]
        out.append([float(value.lower()), float(value.upper())])
    return out


def _inertia(H: arb_mat, zero_mode: np.ndarray, *, relative: float = 1e-7):
    """(positive, exact zero modes, undecided) for the symmetric interval matrix H whose
    Hessians have ``zero_mode`` (evaluated at the point: the exact mode at the stationary
    point is within the box of it) in their kernel, and the smallest Gershgorin lower bound.

    V holds the float eigenvectors of H's midpoint with |eigenvalue| > relative * max, except
    the one nearest the zero mode; W = V^T H V is congruent to H on range(V), so every disc of
    W in (0, inf) proves H positive definite there (Sylvester). With H t = 0 exactly, a vector
    of range(V) cannot be a multiple of t, so the rest of the spectrum is the zero mode plus the
    eigenvalues left out of V (undecided)."""
    size = H.nrows()
    mid = np.array([[float(H[i, j].mid()) for j in range(size)] for i in range(size)])
    values, vectors = np.linalg.eigh(0.5 * (mid + mid.T))
    t = zero_mode / np.linalg.norm(zero_mode)
    nearest = int(np.argmax(np.abs(vectors.T @ t)))
    keep = [k for k in range(size) if k != nearest and abs(values[k]) > relative * np.max(np.abs(values))]
    V = arb_mat(vectors[:, keep].tolist())
    W = V.transpose() * H * V
    lower = []
    for i in range(len(keep)):
        off = sum((abs(W[i, j]) for j in range(len(keep)) if j != i), arb(0))
        lower.append(float((W[i, i] - off).lower()))
    proven = sum(value > 0 for value in lower)
    undecided = size - 1 - proven
    return (proven, 1, undecided), min(lower)


# -- the step size at which discrete gradient descent keeps the mesa-optimizer ------------------


@dataclass(frozen=True)
class StabilityThreshold:
    """A proven enclosure [lower, upper] of the Hessian's largest eigenvalue at a point (every
    real and imaginary direction), and of eta* = 2 / lambda_max: gradient descent
    theta <- theta - eta grad L keeps a strict minimum for eta < eta* and leaves it for
    eta > eta* (the linearized map I - eta H has the eigenvalue 1 - eta lambda_max < -1)."""

    lambda_max: tuple[float, float]
    eta_star: tuple[float, float]
    directions: str  # "real" or "imaginary": the block holding the largest eigenvalue

    def as_dict(self) -> dict:
        return {
            "lambda_max": list(self.lambda_max),
            "eta_star": list(self.eta_star),
            "block": self.directions,
        }


def balanced_mesa_optimizer(d: int, p_star: Fraction, *, precision: int = 106) -> list:
    """The diagonal point a_j = b_j = sqrt(p*) (the full flow's limit from a0 = b0) as Arb
    balls, in the packing of :func:`certify_stationary` (W^KQ then W^PV, row-major)."""
    n = 2 * d
    with _precision(precision):
        root = arb(_fmpq(p_star)).sqrt()
        point = [arb(0)] * (n * n + d * n)
        for j in range(d):
            point[(d + j) * n + j] = root
            point[n * n + j * n + j] = root
    return point


def stability_threshold(model: ExactFullModel, point: list, *, precision: int = 106) -> StabilityThreshold:
    """eta* = 2 / lambda_max of the exact Hessian at ``point`` (Arb balls, a real point), proven.

    With V the float eigenvectors of each block's midpoint and M = V^T H V (in Arb), the largest
    eigenvalue of M lies in [max_i M_ii, max_i (M_ii + sum_j!=i |M_ij|)] (a Rayleigh quotient
    and Gershgorin), and by Ostrowski's theorem lambda_k(H) = lambda_k(M) / theta with theta in
    [1 - e, 1 + e], e = ||V^T V - I||_F (proven small: V is orthogonal to rounding)."""
    with _precision(precision):
        H_re, H_im = hessian_blocks(model, point)
        bounds = {name: _largest_eigenvalue(H) for name, H in (("real", H_re), ("imaginary", H_im))}
    name = max(bounds, key=lambda k: bounds[k][1])
    lower = max(b[0] for b in bounds.values())
    upper = max(b[1] for b in bounds.values())
    if not lower > 0:
        raise ArithmeticError("the Hessian's largest eigenvalue is not proven positive")
    with _precision(precision):
        eta_lower = float((arb(2) / arb(upper)).lower())
        eta_upper = float((arb(2) / arb(lower)).upper())
    return StabilityThreshold((lower, upper), (eta_lower, eta_upper), name)


def _largest_eigenvalue(H: arb_mat) -> tuple[float, float]:
    size = H.nrows()
    mid = np.array([[float(H[i, j].mid()) for j in range(size)] for i in range(size)])
    _, vectors = np.linalg.eigh(0.5 * (mid + mid.T))
    V = arb_mat(vectors.tolist())
    M = V.transpose() * H * V
    gram = V.transpose() * V
    e = arb(0)
    for i in range(size):
        for j in range(size):
            deviation = gram[i, j] - (1 if i == j else 0)
            e += deviation * deviation
    e = e.sqrt()
    if not e < 0.5:
        raise ArithmeticError("the float eigenvectors are not orthogonal enough")
    top_lower = max((M[i, i] for i in range(size)), key=lambda v: float(v.lower())).lower()
    top_upper = arb(0)
    for i in range(size):
        disc = M[i, i] + sum((abs(M[i, j]) for j in range(size) if j != i), arb(0))
        top_upper = top_upper.max(disc) if i else disc
    lower = arb(top_lower) / (1 + e) if top_lower > 0 else arb(top_lower) / (1 - e)
    upper = top_upper / (1 - e) if top_upper > 0 else top_upper / (1 + e)
    return float(lower.lower()), float(upper.upper())
