"""Template: copy this module to ``proofs_check/extensions/<your_assumption>.py``.

It declares one new assumption and the claims that test the paper's statements under it. The
whole pipeline (symbolic loss, conditions, stationary points, numeric flow, simulator,
quadrature, registry, command line, book) takes the law below with no edit. Then add
``tests/extensions/test_<your_assumption>.py`` (Hypothesis properties) and
``book/extension_<your_assumption>.md`` (the chapter; the book finds it by its name).

This example: x_1 uniform on {-1, +1}^d scaled by s (Rademacher), an x_1 law given by its atoms.
"""

from __future__ import annotations

import itertools

import sympy as sp

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import integrate_flow
from mesacheck.symbolic.moments import Atoms, Distribution
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import ab_limit

from ..check import Check

NAME = "rademacher-example"  # --x1 rademacher-example
CHANGES = "x_1 law"  # or "normalization": law(d) returns Setting(token, rho=...), see normalization_by_t


def law(d: int = 5, scale=1) -> Distribution:
    """x_1 = s (e_1, ..., e_d) with independent uniform signs e_k, as exact atoms."""
    points = [[scale * e for e in signs] for signs in itertools.product((-1, 1), repeat=d)]
    return Atoms(points, [sp.Rational(1, 2**d)] * 2**d, name=NAME)


def rademacher_limit(quick: bool = False) -> Check:
    """Claim: for the Rademacher token the flow from (0.1, 0.1) reaches the closed-form limit
    of a b (d = 3, T = 20).

    Derivation: thm-emergence

    Guarantee: the closed form and the integrated flow agree to 1e-10.

    Reference: Theorem 4.1, under a new x_1 law.
    """
    example, values = law(3), {T: 20}
    predicted = evaluate(ab_limit(example), values)  # route 1: the closed form
    measured = float(integrate_flow(example, 0.1, 0.1, values=values).ab[-1])  # route 2: the flow
    return Check(
        claim="rademacher_limit",
        statement="Rademacher x_1: lim ab = closed form (d = 3, T = 20)",
        kind="equal",
        predicted=predicted,
        measured=measured,
        rtol=1e-10,  # the integrator runs at rtol 1e-12: 100x tighter than the claim
        atol=1e-14,
        tolerance="integrator rtol 1e-12; 100x margin",
    )


CLAIMS = (rademacher_limit,)
