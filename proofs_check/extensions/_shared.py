"""What extension claims share (not an extension: the leading underscore keeps it out of the
registry)."""

from __future__ import annotations

import sympy as sp

from mesacheck.numeric.bridge import evaluate, exact_value
from mesacheck.numeric.flow import integrate_flow
from mesacheck.symbolic.stationary import ab_limit

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
        exact=exact_value(formula, values),
    )


def setting_limit_against_flows(claim: str, statement: str, setting, T: int, *, mask: bool = False) -> Check:
    """p* = beta / alpha on the symmetric line of ``setting`` (exact, an exact finite sum over
    positions) against the integrated flow of the diagonal model from (0.1, 0.1); where the full
    model keeps the diagonal, the full flow's limit joins the evidence (and must agree too)."""
    import numpy as np

    from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow, off_diagonal_gradient
    from mesacheck.numeric.full_flow import full_model, integrate_full_flow
    from mesacheck.numeric.simulate import diagonal_initialization
    from mesacheck.symbolic.symmetric_line import symmetric_line

    d = setting.d
    line = symmetric_line(setting, T)
    p_star = float(line.ab_star)
    model = full_model(setting, T)
    diagonal = integrate_diagonal_flow(model, 0.1, 0.1)
    start = diagonal_initialization(d, 0.1, 0.1)
    off, keeps = off_diagonal_gradient(model, 0.1, 0.1, mask=mask)
    evidence = {
        "p_star_exact": str(line.ab_star),
        "T": T,
        "d": d,
        "off_diagonal_gradient_at_start": off,
        "diagonal_flow_gradient_norm": diagonal.gradient_norm,
    }
    measured = float(np.mean(diagonal.ab))
    if keeps:
        full = integrate_full_flow(model, *start, mask=mask)
        evidence["full_flow_ab"] = float(full.ab[-1])
        evidence["full_flow_structure"] = structure_of_limit(full)
        # report the worse of the two flows: both must agree with p*
        if abs(full.ab[-1] - p_star) > abs(measured - p_star):
            measured = float(full.ab[-1])
    return Check(
        claim,
        statement,
        "equal",
        p_star,
        measured,
        1e-10,  # both flows stop at |grad L| <= 1e-11 or below (relative units), curvature O(1)
        1e-12,
        "the flows' stopping rule; p* is exact",
        evidence,
        exact=line.ab_star,
    )


def structure_of_limit(solution) -> str:
    from mesacheck.numeric.full_flow import structure_of

    return structure_of(*solution.limit)


def setting_against_quadrature(claim: str, statement: str, setting, T: int, seed: int = 5) -> Check:
    """The exact loss and both gradients under ``setting`` against torus quadrature (an
    independent average over W, through the simulator's forward pass) at random complex
    matrices: the largest relative difference must vanish to rounding."""
    import numpy as np

    from mesacheck.numeric.full_flow import full_model
    from mesacheck.numeric.quadrature import quadrature_loss_and_gradient

    d = setting.d
    rng = np.random.default_rng(seed)
    W_KQ = (rng.standard_normal((2 * d, 2 * d)) + 1j * rng.standard_normal((2 * d, 2 * d))) / 2
    W_PV = (rng.standard_normal((d, 2 * d)) + 1j * rng.standard_normal((d, 2 * d))) / 2
    model = full_model(setting, T)
    g_KQ, g_PV = model.gradient(W_KQ, W_PV)
    q_loss, q_KQ, q_PV = quadrature_loss_and_gradient(setting, T, W_KQ, W_PV)
    differences = [
        abs(model.loss(W_KQ, W_PV) - q_loss) / abs(q_loss),
        float(np.abs(g_KQ - q_KQ).max() / np.abs(q_KQ).max()),
        float(np.abs(g_PV - q_PV).max() / np.abs(q_PV).max()),
    ]
    return Check(
        claim,
        statement,
        "vanishes",
        0.0,
        max(differences),
        0.0,
        1e-12,  # two exact routes, each a sum of O(T^3) terms in doubles
        "rounding of two exact routes",
        {"loss": q_loss, "relative_differences": differences, "d": d, "T": T},
    )
