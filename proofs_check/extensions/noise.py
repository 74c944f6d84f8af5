"""Extension: additive noise, x_{t+1} = W x_t + xi_t.

Why: recent work on in-context learning of linear dynamical systems with linear attention
trains on noisy processes, where the optimum that single-layer linear attention reaches is
reported to be one step of gradient descent on the window-1 autoregressive least-squares
objective. The question here is exact: under noise, does the mesa-optimizer still emerge, with
what step size, what error does it leave, and is it that GD step?

What changes (the noise): xi_t i.i.d., independent of W and x_1, circular complex CN(0, s^2 I)
on the paper's unit circle, or real N(0, s^2 I) on the real process W = diag(+-1). On |lambda| =
1 the noise's phase cancels in every Wick pair, so the noise acts as a Gaussian random walk
B_tau added to x_1 and the averages are exact (:mod:`mesacheck.symbolic.noise_counts`): one exact
rational function of s per T.

What survives: with complex noise the full model keeps the diagonal for the Gaussian and sparse
tokens (the off-diagonal gradient is 0), the flow reaches p* = beta / alpha on the symmetric
line, and the learned predictor is exactly one step of GD on the window-1 least-squares
objective from W = 0, with step p* / (t - 1). What changes: the process is a random walk on the
unit circle (E|x_t|^2 = sigma^2 + s^2 (t - 1)), so no fixed step fits every position and p*
falls like 1 / (s^2 T) (p* T = 3.92 at s = 1/2, T = 100, and 4.33 at T = 1000). The sparse token
is no longer recovered, and the error per position and coordinate stays far above the
innovation's s^2 (the floor of a predictor that knows W).

On a contraction, |lambda| = r < 1, complex noise is exact too (an exact finite sum over
positions, each block's geometric sum over its noise time in closed form) and the full model
still keeps the diagonal. The process no longer fades but becomes stationary (E|x_t|^2 ->
s^2 / (1 - r^2)), so p* is not monotone in s (at r = 9/10, T = 100: 0.1748, 0.3310, 0.4110,
0.1365 at s = 0, 1/4, 1/2, 1), is about 0.74 (1 - r^2) / s^2 at large s, and grows with T
(0.3219, 0.4110, 0.4655 at T = 50, 100, 150 for r = 9/10, s = 1/2).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from mesacheck.numeric.bridge import normalization
from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.simulate import diagonal_initialization, predict, sample_sequences, sampled_loss
from mesacheck.symbolic.moments import Distribution, gaussian, sparse
from mesacheck.symbolic.setting import Noise, Setting, circle, roots_of_unity
from mesacheck.symbolic.symmetric_line import symmetric_line

from ..check import Check
from ._shared import setting_against_quadrature, setting_limit_against_flows

NAME = "noise"
CHANGES = "noise"
SCALE = sp.Rational(1, 2)
CONTRACTION = sp.Rational(19, 20)  # the radius r of the noisy contraction


def law(d: int = 5) -> Distribution:
    """The worked example's x_1: the paper's Gaussian token, sigma = 1."""
    return gaussian(d, 1)


def setting(
    d: int = 5, scale=SCALE, kind: str = "complex", base: Distribution | None = None, radius=1
) -> Setting:
    """x_1 (default the Gaussian token) with additive noise of scale s: circular complex on the
    circle of radius r (default the unit circle; r < 1 is a noisy contraction), or real on the
    real process W = diag(+-1)."""
    x1 = law(d) if base is None else base
    noise = Noise(kind, scale)  # real noise needs a real process, W = diag(+-1)
    return Setting(x1, circle(radius) if noise.circular else roots_of_unity(2), noise)


def error_per_position(example: Setting, T: int) -> dict:
    """At the mesa-optimizer p*: the mean squared error per position and coordinate,
    (gamma - beta^2 / alpha) / (T - 2), against the innovation's s^2 (a predictor that knows
    W) and the zero predictor's gamma / (T - 2); exact."""
    line = symmetric_line(example, T)
    positions = sp.Integer(T - 2)
    return {
        "p_star": line.ab_star,
        "error": sp.nsimplify(line.gamma - line.beta**2 / line.alpha) / positions,
        "innovation": example.noise.scale**2,
        "zero_predictor": line.gamma / positions,
    }


def noise_limit(quick: bool = False) -> Check:
    """Claim: with circular complex noise s = 1/2 on the unit circle, the flow of the Gaussian
    token from (0.1, 0.1) reaches the exact p* = beta / alpha = 0.0392449 at T = 100 (d = 5),
    against 0.191905 without noise, and the full flow of every entry stays diagonal.

    Derivation: eq-reduced-loss

    Guarantee: p* is exact (a rational function of s at each T); the flows of the diagonal model
    and of all entries, integrated on the exact loss, agree with it to 1e-10.

    Reference: Theorem 4.1, with additive noise.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "noise_limit",
        f"complex noise s = 1/2: lim ab = exact beta/alpha (d = {d}, T = {T}); the full flow stays diagonal",
        setting(d),
        T,
    )


def noise_sparse_limit(quick: bool = False) -> Check:
    """Claim: with complex noise s = 1/2 the sparse token (c = 1) is not recovered: the flow
    reaches the exact p* = 0.0423 at T = 100 (d = 5), far below the 1 / c^2 that recovers it
    without noise.

    Derivation: eq-reduced-loss

    Guarantee: as for noise_limit.

    Reference: Theorem 4.2 and Example 4.1, with additive noise.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "noise_sparse_limit",
        f"complex noise s = 1/2, sparse: lim ab = exact beta/alpha << 1/c^2 (d = {d}, T = {T}): no recovery",
        setting(d, base=sparse(d, 1)),
        T,
    )


def noise_real_process_limit(quick: bool = False) -> Check:
    """Claim: with real noise s = 1/2 on the real process W = diag(+-1), the flow of the
    diagonal model reaches the exact p* = beta / alpha (d = 5, T = 100). The full model leaves
    the diagonal there, as it does without noise on this process (extension roots-of-unity):
    the evidence gives the off-diagonal gradient.

    Derivation: eq-reduced-loss

    Guarantee: p* exact; the diagonal flow on the exact loss agrees with it to 1e-10.

    Reference: Theorem 4.1, with real noise on a real process.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "noise_real_process_limit",
        "real noise s = 1/2 on W = diag(+-1): lim ab of the diagonal model = exact beta/alpha "
        f"(d = {d}, T = {T})",
        setting(d, kind="real"),
        T,
    )


def noise_contraction_limit(quick: bool = False) -> Check:
    """Claim: with circular complex noise s = 1/2 on a contraction, |lambda| = r = 19/20, the
    full flow of the Gaussian token from (0.1, 0.1) stays diagonal and reaches the exact p* =
    beta / alpha = 0.248524 at T = 100 (d = 5): above both the noise-free contraction's 0.198612
    and the noisy unit circle's 0.039245.

    Derivation: eq-reduced-loss

    Guarantee: p* is exact, an exact finite sum over positions (each noise block's geometric sum
    over its noise time in closed form; no closed form in T); the flows of the diagonal model
    and of all entries, integrated on the exact loss, agree with it to 1e-10. The evidence gives
    the off-diagonal gradient at the start and the structure of the full flow's limit.

    Reference: Theorem 4.1, with additive noise on a contractive W.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "noise_contraction_limit",
        f"complex noise s = 1/2, r = 19/20: lim ab = exact beta/alpha (d = {d}, T = {T}); "
        "the full flow stays diagonal",
        setting(d, radius=CONTRACTION),
        T,
    )


def noise_contraction_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with complex noise s = 1/2 on the contraction r = 19/20 the exact full-model loss
    and both gradients equal quadrature: 3T - 5 phases on the circle of radius r and the tensor
    Gauss-Hermite rule over every noise variable (d = 1, T = 4).

    Derivation: eq-full-loss

    Guarantee: as for noise_loss_matches_quadrature: relative 1e-12.

    Reference: spec, "Data", with additive noise on a contractive W.
    """
    return setting_against_quadrature(
        "noise_contraction_loss_matches_quadrature",
        "complex noise s = 1/2, r = 19/20: exact loss and gradients = quadrature (d = 1, T = 4)",
        setting(1, radius=CONTRACTION),
        4,
    )


def noise_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with complex noise s = 1/2 the exact full-model loss and both gradients equal
    brute-force quadrature: a grid of 3T - 5 phases and the tensor Gauss-Hermite rule over every
    noise variable (d = 1, T = 4: 3 complex noise variables, 4^6 nodes).

    Derivation: eq-full-loss

    Guarantee: two independent routes, exact up to rounding (the rule is exact through degree
    7 per noise variable; the loss has degree 6): relative 1e-12.

    Reference: spec, "Data", with additive noise.
    """
    return setting_against_quadrature(
        "noise_loss_matches_quadrature",
        "complex noise s = 1/2: exact loss and gradients = phases x Gauss-Hermite quadrature (d = 1, T = 4)",
        setting(1),
        4,
    )


def noise_real_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with real noise s = 1/2 on W = diag(+-1) the exact full-model loss and both
    gradients equal quadrature over the two signs and Gauss-Hermite nodes (d = 2, T = 4).

    Derivation: eq-full-loss

    Guarantee: as for noise_loss_matches_quadrature.

    Reference: spec, "Data", with real noise on a real process.
    """
    return setting_against_quadrature(
        "noise_real_loss_matches_quadrature",
        "real noise s = 1/2 on diag(+-1): exact loss and gradients = quadrature (d = 2, T = 4)",
        setting(2, kind="real"),
        4,
    )


def noise_simulator_matches(quick: bool = False) -> Check:
    """Claim: the finite-sample simulator's noisy process has the exact loss: its mean loss over
    m sampled sequences at a diagonal point lies within 4 standard errors of the exact
    population loss (complex noise s = 1/2, d = 3, T = 12).

    Derivation: eq-full-loss

    Guarantee: |z| <= 4 (a false alarm has probability 6e-5); the noise-free loss at the same
    point is in the evidence, many standard errors away.

    Reference: spec, "Training", with additive noise.
    """
    d, T, m = 3, 12, 1000 if quick else 4000
    example = setting(d)
    point = diagonal_initialization(d, 0.4, 0.3)
    mean, error = sampled_loss(example, T, *point, m, np.random.default_rng(4))
    exact = full_model(example, T).loss(*point)
    return Check(
        "noise_simulator_matches",
        f"complex noise s = 1/2: sampled mean loss within 4 standard errors of the exact loss (m = {m})",
        "upper_bound",
        4.0,
        abs(mean - exact) / error,
        0.0,
        0.0,
        "4 standard errors of the sample mean",
        {"exact_loss": exact, "sampled_loss": mean, "noise_free_loss": full_model(law(d), T).loss(*point)},
    )


def noise_predictor_is_one_gd_step(quick: bool = False) -> Check:
    """Claim: under complex noise s = 1/2 the trained model (the full flow's limit from the
    paper's start, Gaussian token, d = 3, T = 30) predicts exactly one step of gradient descent
    from W = 0 on the window-1 least-squares objective 1/2 sum_{i<=t} ||x_i - W x_(i-1)||^2,
    with step p* / (t - 1): y_t = p* / (t - 1) sum_i x_i x_(i-1)^H x_t, on sampled noisy
    sequences.

    Derivation: eq-mesa-optimizer

    Guarantee: the model's forward pass at the integrated limit against the GD step written out
    with the exact p*: the largest relative difference is below 1e-8 (the flow stops at a
    relative gradient of 1e-11; predictions are cubic in the parameters).

    Reference: Theorem 4.1 (one step of GD), with additive noise; the noisy-LDS literature's
    optimum for single-layer linear attention.
    """
    d, T = 3, 30
    example = setting(d)
    p_star = float(symmetric_line(example, T).ab_star)
    model = full_model(example, T)
    W_KQ, W_PV = integrate_full_flow(model, *diagonal_initialization(d, 0.1, 0.1)).limit
    X = sample_sequences(example, T, 64, np.random.default_rng(5))
    learned = predict(W_KQ, W_PV, X, rho=normalization(example, T))  # (m, T - 2, d): t = 2..T-1
    gd = np.empty_like(learned)
    for t in range(2, T):  # W_1 = eta sum_{i=2}^{t} x_i x_(i-1)^H, eta = p* / (t - 1), y_t = W_1 x_t
        tokens, previous = X[:, 1:t], X[:, : t - 1]  # x_2..x_t and x_1..x_(t-1) (1-based)
        W1 = p_star / (t - 1) * np.einsum("mia,mib->mab", tokens, previous.conj())
        gd[:, t - 2] = np.einsum("mab,mb->ma", W1, X[:, t - 1])
    difference = float(np.abs(learned - gd).max() / np.abs(gd).max())
    return Check(
        "noise_predictor_is_one_gd_step",
        "complex noise s = 1/2: the trained model's prediction = one GD step on window-1 least squares",
        "vanishes",
        0.0,
        difference,
        0.0,
        1e-8,
        "the flow's stopping rule (relative gradient 1e-11), through a cubic forward pass",
        {"p_star": p_star, "d": d, "T": T, "sequences": len(X)},
    )


CLAIMS = (
    noise_limit,
    noise_sparse_limit,
    noise_real_process_limit,
    noise_contraction_limit,
    noise_loss_matches_quadrature,
    noise_contraction_loss_matches_quadrature,
    noise_real_loss_matches_quadrature,
    noise_simulator_matches,
    noise_predictor_is_one_gd_step,
)
