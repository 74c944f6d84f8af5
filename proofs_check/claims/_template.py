"""Template: copy this module to add a claim, then list the function in registry.CLAIMS.

A claim compares a prediction from :mod:`symbolic` with a measurement from an independent
numeric route (integrated flow, quadrature, Monte Carlo, the finite-sample simulator). It
never compares a value with itself, and it says where its tolerances come from.
"""

from __future__ import annotations

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import integrate_flow
from mesacheck.symbolic.moments import gaussian, sigma
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import ab_limit

from ..check import Check


def my_claim(quick: bool = False) -> Check:
    """Claim: one sentence a reader can check, in the paper's language.

    Derivation: thm-emergence (the book label of the derivation)

    Guarantee: what agreeing within the tolerance establishes.

    Reference: the paper's section, theorem or figure.
    """
    law, values = gaussian(2), {T: 10, sigma: 1}
    predicted = evaluate(ab_limit(law), values)  # route 1: the closed form
    measured = float(integrate_flow(law, 0.1, 0.1, values=values).ab[-1])  # route 2: the flow
    return Check(
        claim="my_claim",
        statement="lim ab for d = 2, T = 10",
        kind="equal",
        predicted=predicted,
        measured=measured,
        rtol=1e-10,  # the integrator runs at rtol 1e-12: 100x tighter than the claim
        atol=1e-14,
        tolerance="integrator rtol 1e-12; 100x margin",
    )
