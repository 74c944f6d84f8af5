"""Extension: a contractive process, |lambda| = r < 1.

Why: the paper's W is unitary, so no token fades. Real dynamics are usually stable: the
eigenvalues lie inside the unit circle and the context carries less and less of x_1. The
question is whether the mesa-optimizer still emerges, with what step size, and whether it still
recovers the sparse token.

What changes (the law of W): lambda_k = r e^{i theta_k}, theta_k uniform. Then
E[lambda^n conj(lambda)^m] = r^(n+m) [n = m]: the same solutions of the phase equations as on
the unit circle, each weighted by q^(i + j + t + const), q = r^2 (:mod:`mesacheck.symbolic.process_counts`).
The sums over positions are exact finite sums (sum_t q^t / (t-1)^2 is a partial Lerch sum, with
no closed form in T); p* = beta / alpha on the symmetric line is one exact rational per T.

What survives: the emergence condition (the full model keeps the diagonal, exactly: the
off-diagonal gradient is 0 at every diagonal point for Gaussian and sparse tokens) and one
step of gradient descent. What changes: the step size depends on r and is not monotone in it
(at T = 100: 0.1748 at r = 0.9, 0.1986 at 0.95, 0.2294 at 0.99, back to 0.1919 at r = 1), and
for r < 1 it stops depending on T once r^(2T) is negligible. The sparse token is no longer
recovered: for one active coordinate the in-context estimate sum_i x_i conj(x_(i-1)) / (t-1) =
lambda c^2 (sum_(i<t) q^(i-1)) / (t-1) depends on t, so no single step fits every position
(p* = 1.2580 / c^2 at r = 0.9 rather than 1 / c^2).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from mesacheck.numeric.full_flow import full_model
from mesacheck.numeric.simulate import diagonal_initialization, sampled_loss
from mesacheck.symbolic.moments import Distribution, gaussian, sparse
from mesacheck.symbolic.setting import Setting, circle

from ..check import Check
from ._shared import setting_against_quadrature, setting_limit_against_flows

NAME = "contraction"
CHANGES = "law of W"
RADIUS = sp.Rational(9, 10)


def law(d: int = 5) -> Distribution:
    """The worked example's x_1: the paper's Gaussian token, sigma = 1."""
    return gaussian(d, 1)


def setting(d: int = 5, radius=RADIUS, base: Distribution | None = None) -> Setting:
    """x_1 (default the Gaussian token) with W's entries uniform on the circle of radius r."""
    return Setting(law(d) if base is None else base, circle(radius))


def contraction_limit(quick: bool = False) -> Check:
    """Claim: with |lambda| = r = 9/10 the flow of the Gaussian token (sigma = 1) from (0.1, 0.1)
    reaches the exact p* = beta / alpha = 0.174821 at T = 100 (d = 5), against 0.191905 on the
    unit circle, and the full flow of every entry stays diagonal and reaches it too.

    Derivation: eq-reduced-loss

    Guarantee: p* is an exact rational (exact finite sums over positions); the flows of the
    diagonal model and of all entries, integrated on the exact loss, agree with it to 1e-10.

    Reference: Theorem 4.1, under a contractive W.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "contraction_limit",
        f"r = 9/10, Gaussian: lim ab = exact beta/alpha (d = {d}, T = {T}); the full flow stays diagonal",
        setting(d),
        T,
    )


def contraction_sparse_limit(quick: bool = False) -> Check:
    """Claim: with r = 9/10 the sparse token (c = 1) is not recovered: the flow reaches the exact
    p* = 1.2580 at T = 100 (d = 5), above the 1 / c^2 that recovers it on the unit circle.

    Derivation: eq-reduced-loss

    Guarantee: as for contraction_limit; the evidence gives p* - 1.

    Reference: Theorem 4.2 and Example 4.1, under a contractive W.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "contraction_sparse_limit",
        f"r = 9/10, sparse: lim ab = exact beta/alpha > 1/c^2 (d = {d}, T = {T}): no recovery",
        setting(d, base=sparse(d, 1)),
        T,
    )


def contraction_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with r = 9/10 the exact full-model loss and both gradients equal brute-force
    quadrature over a grid of 3T - 5 phases on the circle of radius r (d = 2, T = 6).

    Derivation: eq-full-loss

    Guarantee: two independent routes, exact up to rounding: relative 1e-12.

    Reference: spec, "Data", under a contractive W.
    """
    return setting_against_quadrature(
        "contraction_loss_matches_quadrature",
        "r = 9/10: exact loss and gradients = torus quadrature on the circle of radius r (d = 2, T = 6)",
        setting(2),
        6,
    )


def contraction_simulator_matches(quick: bool = False) -> Check:
    """Claim: the finite-sample simulator's process with |lambda| = 9/10 has the exact loss: its
    mean loss over m sampled sequences at a diagonal point lies within 4 standard errors of the
    exact population loss (d = 3, T = 12).

    Derivation: eq-full-loss

    Guarantee: |z| <= 4 (a false alarm has probability 6e-5); the unit-circle loss at the same
    point is in the evidence, many standard errors away.

    Reference: spec, "Training", under a contractive W.
    """
    d, T, m = 3, 12, 1000 if quick else 4000
    example = setting(d)
    point = diagonal_initialization(d, 0.4, 0.3)
    mean, error = sampled_loss(example, T, *point, m, np.random.default_rng(3))
    exact = full_model(example, T).loss(*point)
    unit = full_model(law(d), T).loss(*point)
    return Check(
        "contraction_simulator_matches",
        f"r = 9/10: sampled mean loss within 4 standard errors of the exact loss (m = {m})",
        "upper_bound",
        4.0,
        abs(mean - exact) / error,
        0.0,
        0.0,
        "4 standard errors of the sample mean",
        {"exact_loss": exact, "sampled_loss": mean, "unit_circle_loss": unit, "m": m},
    )


CLAIMS = (
    contraction_limit,
    contraction_sparse_limit,
    contraction_loss_matches_quadrature,
    contraction_simulator_matches,
)
