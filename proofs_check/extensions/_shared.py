"""What extension claims share (not an extension: the leading underscore keeps it out of the
registry)."""

from __future__ import annotations

import sympy as sp

from numeric.bridge import evaluate
from numeric.flow import integrate_flow
from symbolic.stationary import ab_limit

from ..check import Check


def formula_against_flow(
    claim: str, statement: str, law, formula: sp.Expr, values: dict, evidence: dict | None = None
) -> Check:
    """A limit written by hand against the flow the library derives and integrates from
    (0.1, 0.1). The library's own closed form must equal the formula symbolically first; if it
    does not, the claim fails with the difference as evidence."""
    difference = sp.simplify(ab_limit(law) - formula)
    if difference != 0:
        return Check(
            claim,
            statement,
            "equal",
            0.0,
            float("inf"),
            0,
            0,
            "closed forms differ",
            evidence={"library_minus_formula": str(difference)},
        )
    return Check(
        claim=claim,
        statement=statement,
        kind="equal",
        predicted=evaluate(formula, values),
        measured=float(integrate_flow(law, 0.1, 0.1, values=values).ab[-1]),
        rtol=1e-10,  # the integrator runs at rtol 1e-12: 100x tighter
        atol=1e-14,
        tolerance="integrator rtol 1e-12; 100x margin",
        evidence=evidence or {},
    )
