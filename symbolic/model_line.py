"""The flow of any model (:class:`mesacheck.symbolic.parameterization.Model`) on the symmetric
diagonal line, exactly (thm-model-line).

On the diagonal line of the paper's model (a_j = a, b_j = b) the loss is L = d f(p), p = a b,
f(p) = (alpha p^2 - 2 beta p + gamma) / 2 (:mod:`mesacheck.symbolic.symmetric_line`). Every
model has the same line, since only z enters the loss: a merged head h with
W^KQ_h = [[0, 0], [a_h I, 0]], W^PV_h = [b_h I, 0] (factors a_h, b_h), a separate head with
W_K,h = [0, kappa_h I], W_Q,h = [q_h I, 0] on its first d rows (factors kappa_h, q_h, b_h;
key_dim >= d), and z = p e, p = sum_h prod(factors of h), e the mesa-optimizer's pattern. So
L = d f(p) for every model, and for an exchangeable law, where the line is invariant (the
permutations of the coordinates, applied to every head at once, are symmetries), the
derivative of L in a factor phi of coordinate j is f'(p) dp/dphi by symmetry:

    d phi / d tau = -f'(p) dp / d phi = (beta - alpha p) prod(the other factors of its head).

Hence, exactly, for every model:

- *conserved*: within each head the squares of the factors differ by constants (their time
  derivatives are all (beta - alpha p) prod(factors)); for a separate head kappa^2 - q^2 is
  the diagonal of its balance W_K W_K^T - W_Q W_Q^T;
- *stationary points*: f'(p) = 0, the mesa-optimizer p = p* = beta / alpha with loss
  d (gamma - beta^2 / alpha) / 2, or every head degenerate (dp/dphi = 0 for each factor: at
  least two factors of every head are 0), where p = 0 and the loss is
  d gamma / 2 = sum_t E||x_{t+1}||^2 / 2: the only saddle, the plateau (strict for merged
  heads, inertia (1, 0, 1) per head at the origin; of third order for separate heads, whose
  Hessian vanishes there: :meth:`ModelLine.inertia`);
- *the mesa-optimizer emerges with the same lim ab*: dp/dtau = (beta - alpha p)
  (the squared norm of grad_phi p), so from p(0) in (0, p*) p increases to p* (the same p* for every model);
- *plateau length*: from the balanced start with every factor s_0 in every head,
  p = H s^k (k = 2 merged, 3 separate) and ds/dtau = (beta - alpha H s^k) s^(k-1), so the time
  to reach p = theta p* is the integral of ds / ((beta - alpha H s^k) s^(k-1)) from s_0:
  (1 / (2 beta)) ln(u / (beta - alpha H u)) between u = s_0^2 and theta p*/H for k = 2 (a
  plateau ~ ln(1/s_0) / beta), and -1/(beta s) plus logarithms and an arctangent for k = 3
  (a plateau ~ 1 / (beta s_0): three factors escape the saddle algebraically, two
  exponentially).

Checked: :func:`plateau_time` by differentiation (tests), and every statement against the
integrated full flow of each model (tests/numeric/test_parameterized.py, the claim
``model_line``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .parameterization import InvalidModel, Model
from .symmetric_line import SymmetricLine

__all__ = [
    "HeadsLine",
    "heads_line",
    "ModelLine",
    "model_line",
    "plateau_time",
    "antiderivative_check",
    "line_factors",
    "s",
    "s_0",
    "theta",
]

s, s_0 = sp.symbols("s s_0", positive=True)
theta = sp.Symbol("theta", positive=True)  # the fraction of p* that ends the plateau


def line_factors(model: Model) -> tuple[tuple[sp.Symbol, ...], ...]:
    """The factors of each head on the line: (a_h, b_h) merged, (kappa_h, q_h, b_h) separate."""
    names = ("a", "b") if model.parameterization == "merged" else ("kappa", "q", "b")
    return tuple(
        tuple(sp.Symbol(f"{name}_{h + 1}" if model.heads > 1 else name, real=True) for name in names)
        for h in range(model.heads)
    )


@dataclass(frozen=True)
class ModelLine:
    """The reduced flow of ``model`` on the line of one setting at one T: ``factors`` per
    head, the product ``p``, the ``loss`` d f(p), the ``velocity`` of every factor, the
    ``conserved`` differences of squares (checked by substitution when built)."""

    model: Model
    line: SymmetricLine
    d: int
    factors: tuple
    p: sp.Expr
    loss: sp.Expr
    velocity: dict
    conserved: tuple

    @property
    def ab_limit(self) -> sp.Expr:
        """p* = beta / alpha: the same for every model."""
        return self.line.ab_star

    @property
    def minimum_loss(self) -> sp.Expr:
        """d (gamma - beta^2 / alpha) / 2 at p = p*."""
        line = self.line
        return sp.factor(self.d * (line.gamma - line.beta**2 / line.alpha) / 2)

    @property
    def saddle_loss(self) -> sp.Expr:
        """d gamma / 2: the loss where every head is degenerate (p = 0, the plateau)."""
        return self.d * self.line.gamma / 2

    def saddle(self) -> dict:
        """A description of the degenerate set where the flow can stall: in every head,
        the gradient of its product vanishes, i.e. at least two of its factors are 0."""
        return {"p": 0, "loss": self.saddle_loss, "condition": "in every head at least two factors are 0"}

    def hessian(self, point: dict | None = None) -> sp.Matrix:
        """The Hessian of the line's loss in the factors, at ``point`` (default: the origin)."""
        variables = [phi for head in self.factors for phi in head]
        H = sp.hessian(self.loss, variables)
        return H.subs({phi: 0 for phi in variables} if point is None else point)

    def inertia(self, point: dict | None = None) -> tuple[int, int, int]:
        """(positive, zero, negative) eigenvalues of :meth:`hessian` at ``point`` (default the
        origin, the saddle): merged heads give a strict saddle there (d beta couples a and b:
        one negative and one positive eigenvalue per head), separate heads a zero Hessian (p is
        cubic in the factors: a saddle of third order, hence the algebraic escape)."""
        eigenvalues = self.hessian(point).eigenvals(multiple=True)
        signs = [sp.sign(sp.nsimplify(v)) for v in eigenvalues]
        return (signs.count(1), signs.count(0), signs.count(-1))

    def time_derivative(self, quantity: sp.Expr) -> sp.Expr:
        return sp.expand(sum(sp.diff(quantity, phi) * v for phi, v in self.velocity.items()))

    def plateau_time(self) -> sp.Expr:
        """The time from the balanced start (every factor s_0) until p = theta p*."""
        return plateau_time(len(self.factors[0]), self.model.heads, self.line.alpha, self.line.beta)


def model_line(model: Model, line: SymmetricLine) -> ModelLine:
    """The reduced flow of ``model`` on ``line`` (:func:`mesacheck.symbolic.symmetric_line.
    symmetric_line` of an exchangeable law), with its conserved quantities checked by
    substitution.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> from mesacheck.symbolic.symmetric_line import symmetric_line
    >>> flow = model_line(Model("separate"), symmetric_line(gaussian(3, 1), 5))
    >>> flow.ab_limit, flow.conserved
    (9/56, (kappa**2 - q**2, -b**2 + kappa**2))
    """
    d = line.setting.law.d
    if model.parameterization == "separate" and model.key_dim is not None and model.key_dim < d:
        raise InvalidModel(
            f"the diagonal line needs key_dim >= d (W^KQ = a I has rank d = {d}), got {model.key_dim}"
        )
    factors = line_factors(model)
    p = sp.Add(*(sp.Mul(*head) for head in factors))
    f_prime = line.alpha * p - line.beta
    velocity = {phi: sp.expand(-f_prime * sp.diff(p, phi)) for head in factors for phi in head}
    conserved = tuple(head[0] ** 2 - other**2 for head in factors for other in head[1:])
    flow = ModelLine(
        model,
        line,
        d,
        factors,
        p,
        sp.expand(d * (line.alpha * p**2 - 2 * line.beta * p + line.gamma) / 2),
        velocity,
        conserved,
    )
    for quantity in conserved:
        if flow.time_derivative(quantity) != 0:
            raise ArithmeticError(f"{quantity} is not conserved")  # pragma: no cover (a derivation error)
    return flow


def plateau_time(k: int, heads, alpha, beta) -> sp.Expr:
    """The time for the balanced flow ds/dtau = (beta - alpha H s^k) s^(k-1) to go from s_0
    to s_1 = (theta beta / (alpha H))^(1/k), for k = 2 (merged heads) or 3 (separate heads),
    in closed form. With c = (beta / (alpha H))^(1/k) the integrand is
    1 / (beta s^(k-1) (1 - (s/c)^k)), whose antiderivative on 0 < s < c is F below.

    >>> t = plateau_time(2, 1, 1, 1)
    >>> round(float(t.subs({s_0: sp.Rational(1, 1000), theta: sp.Rational(1, 2)})), 9)  # ln(10^6 - 1) / 2
    6.907754779
    """
    if k not in (2, 3):
        raise ValueError("plateau times are derived for heads of 2 (merged) or 3 (separate) factors")
    alpha, beta, H = sp.sympify(alpha), sp.sympify(beta), sp.sympify(heads)
    c = (beta / (alpha * H)) ** sp.Rational(1, k)
    if k == 2:
        F = (sp.log(s) - sp.log(c**2 - s**2) / 2) / beta
    else:
        F = (
            -1 / s
            - sp.log(c - s) / (3 * c)
            + sp.log(c**2 + c * s + s**2) / (6 * c)
            - sp.atan((2 * s + c) / (sp.sqrt(3) * c)) / (sp.sqrt(3) * c)
        ) / beta
    s_1 = theta ** sp.Rational(1, k) * c
    return F.subs(s, s_1) - F.subs(s, s_0)


def antiderivative_check(k: int) -> sp.Expr:
    """d F / d s minus the integrand, for the tests: simplifies to 0."""
    alpha, beta, H = sp.symbols("alpha beta H", positive=True)
    time = plateau_time(k, H, alpha, beta)
    integrand = 1 / ((beta - alpha * H * s_0**k) * s_0 ** (k - 1))
    return sp.simplify(-sp.diff(time, s_0) - integrand)


@dataclass(frozen=True)
class HeadsLine:
    """The loss of diagonal heads as a function of C[r, k] = sum_h b_{h,r} a_{h,k}, on the
    exchangeable family C = p I + q (11^T - I): L = (A_pp p^2 + 2 A_pq p q + A_qq q^2)/2
    - B_p p - B_q q + const (thm-heads-line)."""

    line: SymmetricLine
    A_pp: sp.Expr
    A_pq: sp.Expr
    A_qq: sp.Expr
    B_p: sp.Expr
    B_q: sp.Expr

    @property
    def limit(self) -> tuple[sp.Expr, sp.Expr]:
        """(p*, q*): the minimum over the family, reached by H >= d heads (C has rank d)."""
        determinant = sp.simplify(self.A_pp * self.A_qq - self.A_pq**2)
        if determinant == 0:  # q does not enter (e.g. the sparse token: one coordinate at a time)
            if self.A_pq != 0 or self.B_q != 0 or self.A_pp == 0:
                raise ZeroDivisionError(
                    "the loss is not bounded below on the family, or does not depend on p"
                )
            return sp.factor(self.B_p / self.A_pp), sp.S.Zero
        p = (self.B_p * self.A_qq - self.B_q * self.A_pq) / determinant
        q = (self.A_pp * self.B_q - self.A_pq * self.B_p) / determinant
        return sp.factor(p), sp.factor(q)

    def loss(self, p, q) -> sp.Expr:
        d = self.line.setting.law.d
        constant = d * self.line.gamma / 2
        return (
            (self.A_pp * p**2 + 2 * self.A_pq * p * q + self.A_qq * q**2) / 2
            - self.B_p * p
            - self.B_q * q
            + constant
        )


def heads_line(line: SymmetricLine) -> HeadsLine:
    """The coefficients of :class:`HeadsLine` for the setting and T of ``line``: K and J summed
    over the equality patterns of (r, k, l) as :func:`mesacheck.symbolic.symmetric_line.
    symmetric_line` sums them, split by whether k = r and l = r. On the one-head line
    (p = q = a b) they give back alpha p^2 d / 2 and beta p d.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> from mesacheck.symbolic.symmetric_line import symmetric_line
    >>> heads_line(symmetric_line(gaussian(3, 1), 8)).limit  # d heads: 1/(5 sigma^2), no cross term
    (1/5, 0)
    """
    import math

    from .full_model import linear_coefficient, quadratic_coefficient
    from .symmetric_line import _patterns

    setting, T = line.setting, line.T
    d = setting.law.d
    A = {"pp": sp.S.Zero, "pq": sp.S.Zero, "qq": sp.S.Zero}
    for pattern in _patterns(3):  # (r, k, l)
        classes = max(pattern) + 1
        if classes > d:
            continue
        r, k, l = pattern
        kind = "".join("p" if index == r else "q" for index in (k, l))
        weight = sp.Rational(1, 2) if kind in ("pq", "qp") else 1  # the cross term appears twice
        A["pq" if kind == "qp" else kind] += (
            weight * math.perm(d, classes) * quadratic_coefficient(setting, T, (r, d + k, k), (r, d + l, l))
        )
    B = {"p": sp.S.Zero, "q": sp.S.Zero}
    for pattern in _patterns(2):  # (r, k)
        classes = max(pattern) + 1
        if classes > d:
            continue
        r, k = pattern
        B["p" if k == r else "q"] += math.perm(d, classes) * sp.re(
            linear_coefficient(setting, T, r, (r, d + k, k))
        )
    return HeadsLine(
        line, *(sp.expand(A[key]) for key in ("pp", "pq", "qq")), *(sp.expand(B[key]) for key in "pq")
    )
