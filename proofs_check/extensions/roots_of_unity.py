"""Extension: W's entries on the N-th roots of unity; N = 2 is the real process W = diag(+-1).

Why: the paper's phases are uniform on the circle, so E[lambda^n] = [n = 0]. A real process
(random signs) or a periodic one (phases in the N-th roots of unity) keeps more: E[lambda^n] =
[n = 0 mod N], so phase patterns that cancel on the circle survive. The question is whether the
paper's statements lean on the continuous phase.

What changes (the law of W): every average [n_c = m_c] becomes [n_c = m_c mod N]; the counts
are exact sums over residue classes (:mod:`mesacheck.symbolic.process_counts`), one exact rational per T.

When nothing changes (derived): every phase exponent in the loss and its gradient has
|n - m| <= 3T - 6 (three positions at most T - 1, less the offsets), so for N >= 3T - 5 a
non-zero exponent is never a multiple of N: the whole loss is the paper's, entry by entry.
Enumeration shows the bound is sharp (N = 3T - 6 changes some entry, for T = 4, 5, 6); p* on
the diagonal coincides already for N >= T - 1 (observed for T = 5..12 at d = 3).

What changes for small N: with N = 2 (x_(t-1) = +-x_t) the full model LEAVES the diagonal: the
block of W^KQ that pairs the query's x_(t-1) with the keys' x_i is driven at once, and the
trained model uses two in-context statistics, not one step of GD. The diagonal model still has
p* = beta / alpha (0.13887 for the Gaussian token at d = 5, T = 100, against 0.19191). With N = 3
the full model keeps the diagonal, with p* = 0.15270.
"""

from __future__ import annotations

import numpy as np

from mesacheck.numeric.full_flow import full_model
from mesacheck.numeric.quadrature import quadrature_loss_and_gradient
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.full_model import phase_counts
from mesacheck.symbolic.moments import Distribution, gaussian
from mesacheck.symbolic.process_counts import setting_counts
from mesacheck.symbolic.setting import Setting, roots_of_unity

from ..check import Check
from ._shared import setting_against_quadrature, setting_limit_against_flows

NAME = "roots-of-unity"
CHANGES = "law of W"


def law(d: int = 5) -> Distribution:
    """The worked example's x_1: the paper's Gaussian token, sigma = 1."""
    return gaussian(d, 1)


def setting(d: int = 5, N: int = 2, base: Distribution | None = None) -> Setting:
    """x_1 (default the Gaussian token) with W's entries uniform on the N-th roots of unity."""
    return Setting(law(d) if base is None else base, roots_of_unity(N))


def coincides_with_circle(T: int, N: int) -> bool:
    """Whether every entry of K and J under N-th roots equals the paper's (exact counts)."""
    probe = setting(2, N)
    return setting_counts(probe, T, "quadratic") == phase_counts(T, "quadratic") and setting_counts(
        probe, T, "linear"
    ) == phase_counts(T, "linear")


def roots_coincide_with_circle(quick: bool = False) -> Check:
    """Claim: the whole loss under the N-th roots of unity equals the paper's if and only if
    N >= 3T - 5 (for T = 4, 5, 6 and every N = 1..3T; T = 4, 5 when quick).

    Derivation: eq-full-loss

    Guarantee: both directions: the derived bound (every phase exponent difference is at most
    3T - 6 in size) against exact equality of every coefficient of K and J, computed by residue
    classes and by the unit-circle route; no disagreement allowed.

    Reference: spec, "Data", with W's entries on the N-th roots of unity.
    """
    lengths = (4, 5) if quick else (4, 5, 6)  # T = 8 adds 15 s for the same pattern
    grid = [(T, N) for T in lengths for N in range(1, 3 * T + 1)]
    return Check(
        "roots_coincide_with_circle",
        f"roots of unity: the loss is the paper's iff N >= 3T - 5 (T in {lengths}, N = 1..3T)",
        "iff",
        tuple(N >= 3 * T - 5 for T, N in grid),
        tuple(coincides_with_circle(T, N) for T, N in grid),
        0.0,
        0.0,
        "exact: rational coefficients compared for equality",
        {"points": len(grid)},
    )


def roots_real_process_leaves_diagonal(quick: bool = False) -> Check:
    """Claim: with W = diag(+-1) (N = 2) the full model leaves the diagonal: at a diagonal point
    the gradient of the off-diagonal entries (the block pairing the query's x_(t-1) with the
    keys' x_i) is non-zero, and the exact engine's value equals brute-force quadrature over
    the signs (d = 2, T = 6).

    Derivation: eq-full-loss

    Guarantee: the engine's largest off-diagonal gradient entry against quadrature's, relative
    1e-10; the evidence gives its size (0 on the unit circle, thm-emergence-condition).

    Reference: Theorem 4.1 (emergence condition), for the real process.
    """
    d, T = 2, 6
    example = setting(d, 2)
    point = diagonal_initialization(d, 0.3, 0.2)
    off = np.ones((2 * d, 2 * d), bool)
    off[d + np.arange(d), np.arange(d)] = False
    engine = float(np.abs(full_model(example, T).gradient(*point)[0][off]).max())
    _, q_KQ, _ = quadrature_loss_and_gradient(example, T, *point)
    circle = float(np.abs(full_model(law(d), T).gradient(*point)[0][off]).max())
    return Check(
        "roots_real_process_leaves_diagonal",
        "W = diag(+-1): the off-diagonal gradient at a diagonal point is non-zero; engine = quadrature",
        "equal",
        engine,
        float(np.abs(q_KQ[off]).max()),
        1e-10,
        1e-14,
        "rounding of two exact routes",
        {"unit_circle_off_diagonal_gradient": circle},
    )


def roots_real_diagonal_limit(quick: bool = False) -> Check:
    """Claim: for W = diag(+-1) the diagonal model of the Gaussian token (sigma = 1) reaches the
    exact p* = beta / alpha = 0.138868 at T = 100 (d = 5), against 0.191905 for uniform phases.

    Derivation: eq-reduced-loss

    Guarantee: p* exact; the diagonal model's flow agrees to 1e-10 (the full model leaves the
    diagonal here: the evidence reports the off-diagonal gradient at the start).

    Reference: Theorem 4.1, for the real process.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "roots_real_diagonal_limit",
        f"W = diag(+-1), Gaussian: the diagonal model's lim ab = exact beta/alpha (d = {d}, T = {T})",
        setting(d, 2),
        T,
    )


def roots_three_limit(quick: bool = False) -> Check:
    """Claim: for W's entries on the cube roots of unity the full flow of the Gaussian token
    (sigma = 1) stays diagonal and reaches the exact p* = 0.152697 at T = 100 (d = 5).

    Derivation: eq-reduced-loss

    Guarantee: p* exact; the diagonal and the full flows agree to 1e-10.

    Reference: Theorem 4.1, for W on the cube roots of unity.
    """
    d, T = (3, 30) if quick else (5, 100)
    return setting_limit_against_flows(
        "roots_three_limit",
        f"N = 3, Gaussian: lim ab = exact beta/alpha (d = {d}, T = {T}); the full flow stays diagonal",
        setting(d, 3),
        T,
    )


def roots_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with W on the cube roots of unity the exact loss and both gradients equal the
    average over the 3^d sign patterns themselves (d = 2, T = 6).

    Derivation: eq-full-loss

    Guarantee: two independent routes, exact up to rounding: relative 1e-12.

    Reference: spec, "Data", with W's entries on the N-th roots of unity.
    """
    return setting_against_quadrature(
        "roots_loss_matches_quadrature",
        "N = 3: exact loss and gradients = the average over the roots of unity (d = 2, T = 6)",
        setting(2, 3),
        6,
    )


CLAIMS = (
    roots_coincide_with_circle,
    roots_real_process_leaves_diagonal,
    roots_real_diagonal_limit,
    roots_three_limit,
    roots_loss_matches_quadrature,
)
