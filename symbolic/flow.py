"""The gradient flow d theta / d tau = -grad L(theta) and its conserved quantities."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ._cache import disk_cached
from .moments import Distribution
from .population_loss import diagonal_parameters, population_loss

__all__ = ["GradientFlow", "gradient_flow", "conserved_quantities"]


@dataclass(frozen=True)
class GradientFlow:
    """The exact population gradient flow of the diagonal model for one law of x_1.

    ``parameters`` is (a_1..a_d, b_1..b_d); ``velocity[k]`` = -dL/d parameters[k];
    ``conserved`` lists quadratic forms whose time derivative along the flow is 0.
    """

    law: Distribution
    loss: sp.Expr
    parameters: tuple
    velocity: tuple
    conserved: tuple

    @property
    def d(self) -> int:
        return self.law.d

    def time_derivative(self, quantity: sp.Expr) -> sp.Expr:
        """d quantity / d tau along the flow (a Lie derivative)."""
        gens = _generators(self.parameters, quantity, *self.velocity)
        q = sp.Poly(quantity, *gens)
        total = sum(
            (q.diff(p) * sp.Poly(v, *gens) for p, v in zip(self.parameters, self.velocity)), sp.Poly(0, *gens)
        )
        return total.as_expr()


def _generators(parameters, *exprs) -> tuple:
    """The parameters, then every other symbol and harmonic number as a polynomial generator,
    so that the coefficients are plain rationals (fast arithmetic)."""
    others = set()
    for expr in exprs:
        others |= expr.free_symbols | expr.atoms(sp.harmonic)
    others -= set(parameters)
    return tuple(parameters) + tuple(sorted(others, key=str))


def gradient_flow(law: Distribution) -> GradientFlow:
    """The flow of the diagonal model, with every conserved quantity of the form
    sum_j c_j (a_j^2 - b_j^2), checked by substitution.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> gradient_flow(gaussian(2)).conserved
    (a_1**2 + a_2**2 - b_1**2 - b_2**2,)
    """
    loss = population_loss(law)
    a, b = diagonal_parameters(law.d)
    return GradientFlow(law, loss, a + b, *_velocity_and_conserved(law))


def _law_identity(law) -> tuple:
    from .setting import as_setting

    return as_setting(law).identity


# ~0.1-0.2 s a law (the conserved quantities are solved for and checked), asked for by every
# compiled flow of every process: derived once per machine (the law itself is not picklable)
@disk_cached(key=_law_identity)
def _velocity_and_conserved(law: Distribution) -> tuple[tuple, tuple]:
    loss = population_loss(law)
    a, b = diagonal_parameters(law.d)
    parameters = a + b
    poly = sp.Poly(loss, *_generators(parameters, loss))  # rational coefficients: fast diff
    velocity = tuple(-poly.diff(p).as_expr() for p in parameters)
    return velocity, conserved_quantities(GradientFlow(law, loss, parameters, velocity, ()))


def conserved_quantities(flow: GradientFlow) -> tuple[sp.Expr, ...]:
    """A basis of the conserved quantities sum_j c_j (a_j^2 - b_j^2), c constant.

    Balancedness: the prediction is unchanged by (a_j, b_j) -> (s a_j, b_j / s) for all j at
    once, so sum_j (a_j^2 - b_j^2) is always conserved; when the law decouples coordinates
    (e.g. the sparse token), each a_j^2 - b_j^2 is conserved on its own.
    """
    a, b = flow.parameters[: flow.d], flow.parameters[flow.d :]
    weights = sp.symbols(f"w_1:{flow.d + 1}")
    candidate = sum(w * (x**2 - y**2) for w, x, y in zip(weights, a, b))
    rate = sp.Poly(sp.expand(flow.time_derivative(candidate)), *flow.parameters)
    solution = sp.linsolve(rate.coeffs(), weights)
    (general,) = solution
    free = sorted(set().union(*(sp.sympify(g).free_symbols for g in general)) & set(weights), key=str)
    basis = []
    for w in free:
        choice = {v: int(v == w) for v in free}
        quantity = sp.expand(candidate.xreplace(dict(zip(weights, [g.xreplace(choice) for g in general]))))
        if flow.time_derivative(quantity) != 0:  # substitution check of the solved basis
            raise ArithmeticError(f"{quantity} is not conserved")
        basis.append(quantity)
    return tuple(basis)
