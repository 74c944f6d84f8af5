"""Stationary points, the closed-form limit, the trajectory and the local rate of the flow.

From the paper's diagonal initialization (a_j = a_0, b_j = b_0 for all j) and a law whose
moments are invariant under permuting coordinates, the flow stays on the symmetric manifold
a_j = a, b_j = b (the permutations are symmetries of L). There the loss depends on the
product p = a b only (checked, not assumed):

    L = d f(p),  f(p) = (alpha p^2 - 2 beta p + gamma) / 2,                 (eq-reduced-loss)

so a' = -b f'(p), b' = -a f'(p), a^2 - b^2 = C is conserved and

    p' = -sqrt(C^2 + 4 p^2) (alpha p - beta).                              (eq-reduced-flow)

The mesa-optimizer is p* = beta / alpha (thm-emergence): the flow reaches it from every
(a_0, b_0) except the origin and the half-line a_0 = -b_0 != 0, which flows into the strict
saddle at the origin.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ._cache import disk_cached
from .flow import GradientFlow, gradient_flow
from .moments import Distribution, exact_number, marginal
from .population_loss import T, diagonal_parameters, population_loss

__all__ = [
    "NotExchangeableError",
    "ReducedFlow",
    "Limit",
    "reduced_flow",
    "ab_limit",
    "ab_limit_as_T_grows",
    "emergence_limit",
    "stationary_points",
    "a",
    "b",
    "p",
    "a_0",
    "b_0",
    "tau",
    "epsilon",
]

a, b = sp.symbols("a b", real=True)
p = sp.Symbol("p", real=True)
a_0, b_0 = sp.symbols("a_0 b_0", real=True)
tau = sp.Symbol("tau", nonnegative=True)
epsilon = sp.Symbol("epsilon", positive=True)


class NotExchangeableError(ValueError):
    """The law's moments are not invariant under permuting coordinates: no reduced flow."""


@dataclass(frozen=True)
class ReducedFlow:
    """The flow on the symmetric manifold a_j = a, b_j = b (eq-reduced-flow). ``flow`` is the
    diagonal flow it reduces, or None where it was reduced without expanding the loss in all
    d coordinates (an exchangeable law, d > 3: :func:`reduced_flow`)."""

    flow: GradientFlow | None
    alpha: sp.Expr
    beta: sp.Expr
    gamma: sp.Expr

    @property
    def ab_star(self) -> sp.Expr:
        """p* = beta / alpha, the step-size product of the mesa-optimizer."""
        return sp.factor(self.beta / self.alpha)

    def loss(self) -> sp.Expr:
        """f(p) with L = d f(p) on the symmetric manifold."""
        return (self.alpha * p**2 - 2 * self.beta * p + self.gamma) / 2

    def p_velocity(self, C: sp.Expr = sp.S.Zero) -> sp.Expr:
        """dp/dtau on the hyperbola a^2 - b^2 = C."""
        return -sp.sqrt(C**2 + 4 * p**2) * (self.alpha * p - self.beta)

    def local_rate(self, C: sp.Expr) -> sp.Expr:
        """-d p'/d p at p*: the exponential rate of convergence along p."""
        return sp.sqrt(C**2 + 4 * self.ab_star**2) * self.alpha

    def trajectory(self, a_init, b_init) -> sp.Expr | None:
        """p(tau) in closed form on a balanced start (C = 0, a_0 = b_0 != 0): a logistic curve.

        None where SymPy has no explicit inverse (C != 0; see :meth:`time_to_reach`).
        """
        a_init, b_init = exact_number(a_init), exact_number(b_init)
        C, p_init = a_init**2 - b_init**2, a_init * b_init
        if C != 0 or not p_init > 0:
            return None
        star = self.ab_star
        return star / (1 + (star / p_init - 1) * sp.exp(-2 * self.beta * tau))

    def time_to_reach(self, a_init, b_init, eps) -> sp.Expr:
        """The time at which |p - p*| = eps |p*| first holds, as an exact integral of
        1 / p' evaluated in closed form by SymPy."""
        a_init, b_init = exact_number(a_init), exact_number(b_init)
        C, p_init = a_init**2 - b_init**2, a_init * b_init
        star = self.ab_star
        target = star * (1 - eps) if p_init < star else star * (1 + eps)
        q = sp.Symbol("q", real=True)
        integrand = 1 / self.p_velocity(C).subs(p, q)
        return sp.integrate(integrand, (q, p_init, target))


@dataclass(frozen=True)
class Limit:
    """Where the flow from (a_0, b_0) ends: a mesa-optimizer or the saddle at the origin."""

    ab: sp.Expr
    a: sp.Expr
    b: sp.Expr
    kind: str  # "mesa-optimizer" or "saddle"
    conserved: sp.Expr  # C = a^2 - b^2, the same at both ends
    rate: sp.Expr  # local exponential rate of convergence of p (0 at the saddle: sublinear)


def reduced_flow(law: Distribution) -> ReducedFlow:
    """Reduce the diagonal flow to eq-reduced-flow; raise :class:`NotExchangeableError`
    when the law's moments are not permutation invariant.

    A law exchangeable by construction (:attr:`Distribution.exchangeable`) in d > 3
    coordinates is reduced from its marginal on 2 coordinates (:func:`_reduced_by_patterns`),
    at a cost that does not grow with d; otherwise the loss is expanded in all 2d parameters
    and its symmetry checked.
    """
    if law.exchangeable and law.d > _PATTERN_FROM:  # (with its rho_t, for a setting)
        return _reduced_by_patterns(law)
    return _reduced_by_expansion(law)


@functools.cache  # a law is immutable; the closed form, its limit and the compiled flow all ask
def _reduced_by_expansion(law: Distribution) -> ReducedFlow:
    flow = gradient_flow(law)
    d = law.d
    A, B = flow.parameters[:d], flow.parameters[d:]
    for perm in _generators(d):
        swapped = flow.loss.xreplace(
            {**{A[j]: A[k] for j, k in enumerate(perm)}, **{B[j]: B[k] for j, k in enumerate(perm)}}
        )
        if sp.expand(swapped - flow.loss) != 0:
            raise NotExchangeableError(
                f"the moments of {law.name} are not invariant under permuting coordinates; "
                "the flow leaves the symmetric manifold, so no closed form is given"
            )
    symmetric = {**{x: a for x in A}, **{y: b for y in B}}
    per_coordinate = sp.expand(flow.loss.xreplace(symmetric) / d)
    f = sp.expand(per_coordinate.subs(b, p / a))
    if f.has(a):
        raise ArithmeticError("the reduced loss does not depend on a b alone")
    poly = sp.Poly(f, p)
    if poly.degree() > 2:
        raise ArithmeticError("the reduced loss is not quadratic in a b")
    alpha, half_beta, gamma = (
        2 * poly.coeff_monomial(p**2),
        -poly.coeff_monomial(p),
        2 * poly.coeff_monomial(1),
    )
    reduced = ReducedFlow(flow, sp.factor(alpha), sp.factor(half_beta), sp.factor(gamma))
    # substitution check: the first coordinate's velocity on the manifold is -b f'(p)
    velocity = flow.velocity[0].xreplace(symmetric)
    if sp.expand(velocity + b * sp.diff(reduced.loss(), p).subs(p, a * b)) != 0:
        raise ArithmeticError("the symmetric manifold is not invariant")
    return reduced


_PATTERN_D = 2  # a term of the diagonal loss that survives the phase average has <= 2 coordinates
_PATTERN_FROM = 3  # up to d = 3 the loss is expanded in every coordinate, as before (cheap there)


def _three_coordinate_terms_vanish() -> bool:
    """The coefficient of b_r^2 a_k a_l, r, k, l distinct, is K[(r, d+k, k), (r, d+l, l)]: its
    phase count is 0 at every T (lambda_k appears only as conj(x_{i-1}[k]) x_t[k], phase
    lambda_k^(t-i+1) != 1 for i <= t), checked here on the exact count; then so is every other
    monomial in three coordinates (b_r^2 a_r a_l, b_r a_k have at most two)."""
    from .full_model import set_partition, vanishes_at_every_length

    key = (set_partition((0, 1, 1, 0, 2, 2)), (0, 1, 0, 0, 1, 0))  # slots of conj(v[r,d+k,k]) v[r,d+l,l]
    return vanishes_at_every_length("quadratic", key)


def _law_identity(law) -> tuple:
    from .setting import as_setting

    return as_setting(law).identity


@disk_cached(key=_law_identity)
def _reduced_by_patterns(law: Distribution) -> ReducedFlow:
    """eq-reduced-flow for an exchangeable law in d > 3 coordinates, from the diagonal loss
    of its marginal on 2 coordinates.

    A monomial of the loss in k distinct coordinates has a coefficient that depends only on
    the moments of those coordinates, the same for every choice of them. Its orbit under
    relabelling has d!/(d-k)! / |stabilizer| members at d and 3!/(3-k)! / |stabilizer| at 3,
    so on a_j = a, b_j = b the loss at d is that at 2 with each monomial weighted by
    d!/(d-k)! / (2!/(2-k)!) (the constant, one term per coordinate, by d/2). Every monomial
    has at most one b coordinate and two a ones (the prediction of x_{t+1}[r] is b_r times a
    linear form in a: checked), and the one kind in three coordinates vanishes for every law
    (:func:`_three_coordinate_terms_vanish`), so k <= 2.
    """
    if not _three_coordinate_terms_vanish():
        raise ArithmeticError("a term of the diagonal loss in three coordinates survives the phases")
    d = law.d
    small = marginal(law, _PATTERN_D)
    A, B = diagonal_parameters(_PATTERN_D)
    poly = sp.Poly(population_loss(small), *A, *B)
    total = sp.S.Zero
    for monomial, coefficient in poly.terms():
        powers_a, powers_b = monomial[:_PATTERN_D], monomial[_PATTERN_D:]
        if sum(1 for e in powers_b if e) > 1 or sum(1 for e in powers_a if e) > 2:
            raise ArithmeticError(f"a term of the diagonal loss has two b's or three a's: {monomial}")
        k = sum(1 for ea, eb in zip(powers_a, powers_b) if ea or eb)
        # the constant, (1/2) sum_t E||x_{t+1}||^2, is a sum of one term per coordinate
        weight = sp.ff(d, k) / sp.ff(_PATTERN_D, k) if k else sp.Rational(d, _PATTERN_D)
        total += weight * coefficient * a ** sum(powers_a) * b ** sum(powers_b)
    f = sp.expand((total / d).subs(b, p / a))
    if f.has(a):
        raise ArithmeticError("the reduced loss does not depend on a b alone")
    poly_p = sp.Poly(f, p)
    if poly_p.degree() > 2:
        raise ArithmeticError("the reduced loss is not quadratic in a b")
    return ReducedFlow(
        None,
        sp.factor(2 * poly_p.coeff_monomial(p**2)),
        sp.factor(-poly_p.coeff_monomial(p)),
        sp.factor(2 * poly_p.coeff_monomial(1)),
    )


def _generators(d: int):
    """A transposition and a d-cycle generate every permutation of coordinates."""
    if d < 2:
        return []
    transposition = [1, 0] + list(range(2, d))
    cycle = list(range(1, d)) + [0]
    return [transposition, cycle]


def emergence_limit(law: Distribution, a_init, b_init, *, T_value=None) -> Limit:
    """The limit of the flow from the diagonal initialization (a_init, b_init).

    ``T_value`` substitutes the sequence length; left None, the answer is a function of T.
    """
    a_init, b_init = _exact_real(a_init, "a0"), _exact_real(b_init, "b0")
    if a_init == 0 and b_init == 0:
        raise ValueError(
            "(a0, b0) = (0, 0) is a stationary point (every gradient vanishes there: the "
            "prediction is identically 0), so the flow never leaves it"
        )
    reduced = reduced_flow(law)
    C = a_init**2 - b_init**2
    star = reduced.ab_star if T_value is None else reduced.ab_star.subs(T, T_value)
    if C == 0 and a_init == -b_init:
        zero = sp.S.Zero
        return Limit(zero, zero, zero, "saddle", C, zero)
    sign = sp.sign(a_init) if C > 0 else sp.sign(b_init) if C < 0 else sp.sign(a_init)
    a_limit = sign * sp.sqrt((C + sp.sqrt(C**2 + 4 * star**2)) / 2)
    b_limit = sign * sp.sqrt((-C + sp.sqrt(C**2 + 4 * star**2)) / 2)
    rate = reduced.local_rate(C)
    if T_value is not None:
        rate = rate.subs(T, T_value)
    return Limit(star, a_limit, b_limit, "mesa-optimizer", C, rate)


def ab_limit(law: Distribution) -> sp.Expr:
    """p* = lim a(tau) b(tau) from any start that reaches the mesa-optimizer (thm-emergence).

    >>> from mesacheck.symbolic.moments import gaussian, sigma
    >>> ab_limit(gaussian(2))
    (T - 2)/(sigma**2*(5*T + harmonic(T - 2) - 10))
    """
    return reduced_flow(law).ab_star


@disk_cached(key=_law_identity)
def ab_limit_as_T_grows(law: Distribution) -> sp.Expr:
    """lim_{T -> oo} of :func:`ab_limit` (derived once per law: SymPy's limit takes ~0.1 s).

    >>> from mesacheck.symbolic.moments import gaussian
    >>> ab_limit_as_T_grows(gaussian(5))
    1/(5*sigma**2)
    """
    return sp.limit(ab_limit(law), T, sp.oo)


def stationary_points(law: Distribution, values: dict) -> list[dict]:
    """Every stationary point of the reduced flow, and of the diagonal flow with s of the d
    coordinates active (a_j b_j = p_s for j active, a_j = b_j = 0 otherwise), classified by
    the inertia of the exact Hessian of L in all 2d diagonal parameters at a balanced
    representative (a_j = b_j). ``values`` substitutes T and the law's parameters.

    Kinds: "strict saddle" (a negative Hessian eigenvalue: almost every start escapes it) or
    "minimum" (no negative eigenvalue; the zero eigenvalues are the conserved directions,
    along which L is constant).
    """
    flow = gradient_flow(law)
    loss = flow.loss.subs(values)
    if loss.free_symbols - set(flow.parameters):
        missing = sorted(map(str, loss.free_symbols - set(flow.parameters)))
        raise ValueError(f"give values for {missing} to classify the stationary points")
    d = law.d
    A, B = flow.parameters[:d], flow.parameters[d:]
    gradient = [sp.diff(loss, x) for x in flow.parameters]
    hessian = sp.hessian(loss, flow.parameters)
    points = [_classified("origin", sp.S.Zero, {x: 0 for x in flow.parameters}, gradient, hessian, flow)]
    for active in range(1, d + 1):
        off = {**{x: 0 for x in A[active:]}, **{y: 0 for y in B[active:]}}
        on = {**{x: a for x in A[:active]}, **{y: b for y in B[:active]}}
        f = sp.Poly(sp.expand(loss.xreplace(off).xreplace(on).subs(b, p / a)), p)
        product = -f.coeff_monomial(p) / (2 * f.coeff_monomial(p**2))
        root = sp.sqrt(product)
        point = {**{x: root for x in A[:active]}, **{y: root for y in B[:active]}, **off}
        points.append(
            _classified(f"{active} of {d} coordinates active", product, point, gradient, hessian, flow)
        )
    return points


def _classified(name, product, point, gradient, hessian, flow) -> dict:
    if any(sp.simplify(g.xreplace(point)) != 0 for g in gradient):  # substitution check
        raise ArithmeticError(f"the point '{name}' is not stationary")
    characteristic = hessian.xreplace(point).charpoly(sp.Symbol("mu"))
    zero = min(k for (k,), c in characteristic.terms() if c != 0)  # multiplicity of the root 0
    roots = characteristic.real_roots()  # all real: the Hessian is symmetric
    positive = sum(1 for r in roots if r > 0)
    negative = sum(1 for r in roots if r < 0)
    kind = "strict saddle" if negative else "minimum"
    return {
        "name": name,
        "ab": product,
        "kind": kind,
        "inertia": {"negative": negative, "zero": zero, "positive": positive},
        "conserved_directions": len(flow.conserved),
    }


def _exact_real(value, name: str) -> sp.Expr:
    try:
        out = exact_number(value)
    except ValueError as error:
        raise ValueError(f"{name} must be a finite real number, got {value!r}") from error
    if not (out.is_real and out.is_finite):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return out
