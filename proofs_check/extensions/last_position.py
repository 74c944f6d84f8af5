"""Extension: the loss at the last position only, L = E 1/2 ||y_(T-1) - x_T||^2.

Why: the paper trains on every prediction t = 2..T-1, as next-token training does. Much of
the in-context-learning literature trains a linear transformer on the last prediction only (a
query after a prompt of examples). The question is whether the mesa-optimizer and its step
size depend on that choice.

What changes (the loss positions): the weights omega_t = [t = T-1]. The exact averages are
those of one position (:mod:`mesacheck.symbolic.process_counts`), and here a closed form in T also
exists: the library's per-position loss (:func:`mesacheck.symbolic.population_loss.position_loss`, exact
for a symbolic t) at t = T-1. On the symmetric line it gives (eq-last-position-limit)

    p*(T) = (T - 2) / (sigma^2 (5 (T - 2) + d - 1))     (Gaussian)  ->  1 / (5 sigma^2),
    p*(T) = (T - 2) / (T - 2 + d - 1)                   (full-one, masked),
    p*(T) = 1 / c^2                                     (sparse: recovered, as in the paper).

What survives: one step of gradient descent, the same T -> infinity limit, recovery of the
sparse token. What changes: the finite-T correction, (d - 1) instead of (d - 1) H_{T-2}. The
last-position step is closer to 1/(5 sigma^2) (gap O(d/T) instead of O(d log T / T)): 0.198381
against 0.191905 at d = 5, T = 100.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from mesacheck.symbolic.moments import Distribution, c, expectation, full_one, gaussian, sigma, sparse
from mesacheck.symbolic.population_loss import diagonal_parameters, embed_prediction_blocks, position_loss, t
from mesacheck.symbolic.setting import Setting
from mesacheck.symbolic.symmetric_line import symmetric_line

from ..check import Check
from ._shared import setting_against_quadrature, setting_limit_against_flows

NAME = "last-position"
CHANGES = "loss positions"


def law(d: int = 5) -> Distribution:
    """The worked example's x_1: the paper's Gaussian token, sigma = 1."""
    return gaussian(d, 1)


def setting(d: int = 5, base: Distribution | None = None) -> Setting:
    """x_1 (default the Gaussian token) with the loss at the last position only."""
    return Setting(law(d) if base is None else base, positions="last")


def last_position_limit(base: Distribution) -> sp.Expr:
    """p*(T) in closed form: the symmetric-line minimizer of the library's per-position loss
    (symbolic position t) at t = T - 1."""
    from mesacheck.symbolic.population_loss import T

    d = base.d
    a, b = diagonal_parameters(d)
    A, B, p = sp.symbols("A B p", positive=True)
    per_position = expectation(position_loss(*embed_prediction_blocks(sp.diag(*a), sp.diag(*b))), base)
    on_line = sp.expand(per_position.xreplace({**{x: A for x in a}, **{y: B for y in b}}).subs(B, p / A))
    (star,) = sp.solve(sp.diff(on_line, p), p)
    return sp.factor(star.subs(t, T - 1))


def _closed_form_against_flows(
    claim: str,
    statement: str,
    symbolic_law: Distribution,
    numeric_law: Distribution,
    values: dict,
    T: int,
    **kw,
) -> Check:
    """The closed form (per-position loss at a symbolic t) must equal the exact finite sum on
    the symmetric line, exactly; then p* is checked against the flows."""
    from mesacheck.symbolic.population_loss import T as T_symbol

    formula = last_position_limit(symbolic_law)
    closed = formula.subs({T_symbol: T, **values})
    example = setting(numeric_law.d, numeric_law)
    exact = symmetric_line(example, T).ab_star
    if sp.simplify(closed - exact) != 0:
        evidence = {"closed_form": str(closed), "exact_sum": str(exact)}
        return Check(claim, statement, "equal", float(closed), float(exact), 0.0, 0.0, "exact", evidence)
    check = setting_limit_against_flows(claim, statement, example, T, **kw)
    return dataclasses.replace(check, evidence={**check.evidence, "closed_form": str(formula)})


def last_position_gaussian_limit(quick: bool = False) -> Check:
    """Claim: trained on the last position only, the flow of the Gaussian token from (0.1, 0.1)
    reaches p* = (T - 2) / (sigma^2 (5 (T - 2) + d - 1)) = 49/247 = 0.198381 at d = 5, T = 100
    (sigma = 1), against 0.191905 when every position is trained.

    Derivation: eq-last-position-limit

    Guarantee: the closed form (from the per-position loss at a symbolic t) equals the exact
    finite sum over the one position exactly; the diagonal and full flows agree with it to 1e-10.

    Reference: Theorem 4.1, with the loss at the last position.
    """
    d, T = (3, 30) if quick else (5, 100)
    return _closed_form_against_flows(
        "last_position_gaussian_limit",
        f"last position, Gaussian: lim ab = (T-2)/(sigma^2 (5(T-2)+d-1)) (d = {d}, T = {T})",
        gaussian(d),
        gaussian(d, 1),
        {sigma: 1},
        T,
    )


def last_position_full_one_limit(quick: bool = False) -> Check:
    """Claim: trained on the last position only, masked, the full-one token reaches
    p* = (T - 2) / (T - 2 + d - 1) = 49/51 = 0.960784 at d = 5, T = 100 (0.825826 when every
    position is trained).

    Derivation: eq-last-position-limit

    Guarantee: as for last_position_gaussian_limit, with the reference's masking.

    Reference: Section 5 (full-one token, masked), with the loss at the last position.
    """
    d, T = (3, 30) if quick else (5, 100)
    return _closed_form_against_flows(
        "last_position_full_one_limit",
        f"last position, full-one masked: lim ab = (T-2)/(T-2+d-1) (d = {d}, T = {T})",
        full_one(d),
        full_one(d),
        {},
        T,
        mask=True,
    )


def last_position_sparse_recovers(quick: bool = False) -> Check:
    """Claim: trained on the last position only, the sparse token is still recovered: the flow
    reaches p* = 1 / c^2 at every T (c = 1, d = 5, T = 100).

    Derivation: eq-last-position-limit

    Guarantee: closed form = exact sum, exactly; the flows agree to 1e-10.

    Reference: Theorem 4.2 and Example 4.1, with the loss at the last position.
    """
    d, T = (3, 30) if quick else (5, 100)
    return _closed_form_against_flows(
        "last_position_sparse_recovers",
        f"last position, sparse: lim ab = 1/c^2 (d = {d}, T = {T}): recovered",
        sparse(d),
        sparse(d, 1),
        {c: 1},
        T,
    )


def last_position_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: the exact last-position loss and both gradients equal brute-force quadrature with
    the simulator's forward pass weighted at the last position (d = 2, T = 6).

    Derivation: eq-full-loss

    Guarantee: two independent routes, exact up to rounding: relative 1e-12.

    Reference: spec, "Training", with the loss at the last position.
    """
    return setting_against_quadrature(
        "last_position_loss_matches_quadrature",
        "last position: exact loss and gradients = torus quadrature weighted at t = T-1 (d = 2, T = 6)",
        setting(2),
        6,
    )


CLAIMS = (
    last_position_gaussian_limit,
    last_position_full_one_limit,
    last_position_sparse_recovers,
    last_position_loss_matches_quadrature,
)
