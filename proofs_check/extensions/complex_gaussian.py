"""Extension: a circularly symmetric complex Gaussian initial token, x_1 ~ CN(0, sigma^2 I_d).

Why first: the model, the process and the parameters are complex, but the paper's tokens are
real. A complex token is the most natural input for a unitary process, and it tests whether the
theory leans on x_1 being real.

What changes (a new x_1 law): E[x^alpha conj(x)^beta] = prod_k [alpha_k = beta_k] alpha_k!
sigma^(2 alpha_k). So m_2 = E|x_j|^2 = sigma^2, m_4 = E|x_j|^4 = 2 sigma^4, m_6 = 6 sigma^6 and
m_{4,2} = E|x_j|^4 |x_k|^2 = 2 sigma^6, against 3 sigma^4, 15 sigma^6 and 3 sigma^6 for the real
Gaussian. Every odd or unbalanced moment vanishes, so the emergence condition holds and the
learned step is vanilla gradient descent, with step

    p*(T) = (T - 2) m_4 / ((T - 2) m_6 + (d - 1) H_{T-2} m_{4,2})
          = (T - 2) / (sigma^2 (3 (T - 2) + (d - 1) H_{T-2}))  ->  1 / (3 sigma^2),

(eq-complex-gaussian-limit), larger than the real Gaussian's 1 / (5 sigma^2): a complex
coordinate carries two real degrees of freedom, and its modulus has lighter tails
(m_6 / m_4 = 3 sigma^2 against 5 sigma^2). The recovery condition m_4^2 = m_2 m_6 fails
(4 sigma^8 against 6 sigma^8): the error tends to sigma^2 / 3 per coordinate (real: 2 sigma^2 / 5).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from mesacheck.numeric.full_flow import full_model, integrate_full_flow, structure_of
from mesacheck.numeric.quadrature import quadrature_loss
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.conditions import emergence_condition
from mesacheck.symbolic.moments import Distribution, sigma
from mesacheck.symbolic.population_loss import T

from ..check import Check
from ..claims.capability import trained_metrics
from ._shared import formula_against_flow

NAME = "complex-gaussian"
CHANGES = "x_1 law"

_LAGUERRE_NODES = 4  # exact through degree 7 in |x|^2; the loss needs 3
_PHASE_NODES = 7  # exact for exp(i n phi), |n| <= 6: the loss has degree <= 6 in (x, conj x)


def law(d: int = 5, scale=1) -> Distribution:
    """x_1 ~ CN(0, scale^2 I_d): real and imaginary parts independent N(0, scale^2 / 2); pass
    ``scale=sigma`` (mesacheck.symbolic.moments.sigma) for closed forms in sigma."""
    scale = sp.sympify(scale)
    if scale.is_number and not scale.is_positive:
        raise ValueError(f"the scale must be positive, got {scale}")

    def moment(alpha, beta):
        if tuple(alpha) != tuple(beta):
            return sp.S.Zero
        return sp.Mul(*(sp.factorial(n) * scale ** (2 * n) for n in alpha))

    def sampler(m, rng):
        return float(scale) * (rng.standard_normal((m, d)) + 1j * rng.standard_normal((m, d))) / np.sqrt(2)

    def nodes(values):
        value = float(scale.subs({s: values[str(s)] for s in scale.free_symbols}))
        radial, weights = np.polynomial.laguerre.laggauss(_LAGUERRE_NODES)  # |x|^2 / scale^2 ~ Exp(1)
        angles = np.exp(2j * np.pi * np.arange(_PHASE_NODES) / _PHASE_NODES)
        points = (value * np.sqrt(radial)[:, None] * angles[None, :]).ravel()
        point_weights = np.repeat(weights, _PHASE_NODES) / _PHASE_NODES
        grid = np.array(list(itertools.product(points, repeat=d)))
        grid_weights = np.prod(np.array(list(itertools.product(point_weights, repeat=d))), axis=1)
        return grid, grid_weights

    return Distribution(
        NAME,
        d,
        moment,
        real=False,
        parameters=tuple(scale.free_symbols),
        key=(scale,),
        sampler=sampler,
        nodes=nodes,
    )


def limit_formula(d: int) -> sp.Expr:
    """eq-complex-gaussian-limit: p*(T), written from the moments above by hand."""
    return (T - 2) / (sigma**2 * (3 * (T - 2) + (d - 1) * sp.harmonic(T - 2)))


def complex_gaussian_limit(quick: bool = False) -> Check:
    """Claim: for x_1 ~ CN(0, sigma^2 I) the flow from (a_0, b_0) = (0.1, 0.1) reaches
    a b = (T - 2) / (sigma^2 (3 (T - 2) + (d - 1) H_{T-2})), which tends to 1 / (3 sigma^2),
    not the real Gaussian's 1 / (5 sigma^2) (d = 5, T = 100, sigma = 1).

    Derivation: eq-complex-gaussian-limit

    Guarantee: the formula written by hand from the complex moments, and the limit of the flow
    the library derives and integrates, agree to 1e-10; the library's own closed form must
    equal the formula symbolically.

    Reference: Theorem 4.1, with a complex initial token.
    """
    d = 5
    return formula_against_flow(
        "complex_gaussian_limit",
        "CN(0, I) x_1: lim ab = (T-2)/(3(T-2) + (d-1) H_{T-2}) -> 1/3 (real: 1/5)",
        law(d, sigma),
        limit_formula(d),
        {T: 100, sigma: 1},
        evidence={"T_to_infinity": 1 / 3, "real_gaussian_at_T": 0.191905088526},
    )


def complex_gaussian_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: the exact full-model loss for x_1 ~ CN(0, sigma^2 I), at random complex W^KQ and
    W^PV, equals brute-force quadrature: a product of Gauss-Laguerre (modulus) and equispaced
    (angle) rules for x_1, and the torus grid for the phases of W (d = 2, T = 5, sigma = 1.3).

    Derivation: eq-full-loss

    Guarantee: both routes are exact up to rounding: relative 1e-10 on a loss of order 10-100.

    Reference: spec, "Model" and "Training", with a complex initial token.
    """
    d, T_value, scale = 2, 5, sp.Rational(13, 10)
    example = law(d, scale)
    rng = np.random.default_rng(7)
    W_KQ = (rng.standard_normal((2 * d, 2 * d)) + 1j * rng.standard_normal((2 * d, 2 * d))) / 2
    W_PV = (rng.standard_normal((d, 2 * d)) + 1j * rng.standard_normal((d, 2 * d))) / 2
    predicted = full_model(example, T_value).loss(W_KQ, W_PV)
    measured = quadrature_loss(example, T_value, W_KQ, W_PV)
    return Check(
        claim="complex_gaussian_loss_matches_quadrature",
        statement="CN(0, sigma^2 I): full-model loss = Laguerre x angle x torus quadrature (d = 2, T = 5)",
        kind="equal",
        predicted=predicted,
        measured=measured,
        rtol=1e-10,  # ~1e5 quadrature terms summed in double precision: rounding ~1e-13 relative
        atol=1e-12,
        tolerance="rounding of two exact routes; 1000x margin",
    )


def complex_gaussian_stays_diagonal(quick: bool = False) -> Check:
    """Claim: x_1 ~ CN(0, sigma^2 I) satisfies the emergence condition (every coefficient of the
    off-manifold gradient vanishes) and the full flow of every entry from the diagonal start
    stays on the diagonal model with equal a_j b_j (d = 3, T = 10).

    Derivation: thm-emergence-condition

    Guarantee: the symbolic verdicts (emergence, equal diagonal) against the structure of the
    full flow's limit (off-diagonal entries below 1e-8, a_j b_j equal to 1e-9).

    Reference: Assumption 4.1, with a complex initial token.
    """
    d, T_value = 3, 10
    example = law(d, 1)
    predicted = (not emergence_condition(example, T_value), True)
    solution = integrate_full_flow(full_model(example, T_value), *diagonal_initialization(d, 0.1, 0.1))
    W_KQ, W_PV = solution.limit
    products = (np.diag(W_KQ[d:, :d]) * np.diag(W_PV[:, :d])).real
    measured = (structure_of(W_KQ, W_PV, atol=1e-8) == "diagonal", bool(np.ptp(products) < 1e-9))
    return Check(
        claim="complex_gaussian_stays_diagonal",
        statement="CN(0, I): emergence condition holds <=> full flow stays diagonal, equal a_j b_j",
        kind="iff",
        predicted=predicted,
        measured=measured,
        rtol=0.0,
        atol=0.0,
        tolerance="flow gradient tolerance 1e-11 over Hessian eigenvalues O(1): entries ~1e-11",
        evidence={"a_j b_j": products.tolist(), "gradient_norm": solution.gradient_norm},
    )


def complex_gaussian_does_not_recover(quick: bool = False) -> Check:
    """Claim: for x_1 ~ CN(0, sigma^2 I) the trained model's expected ratio Re(y_{T-1} / x_T) is
    p(T) sigma^2 = 0.3114 (d = 5, T = 100, sigma = 1), and its expected test loss has the closed
    form; the simulator's metrics at the trained parameters, on sampled complex sequences,
    agree. The error tends to sigma^2 / 3 per coordinate, not 0: no recovery.

    Derivation: thm-recovery

    Guarantee: ratio and test loss each within 5 standard errors of the simulator's mean (a
    false alarm below 1e-6 each).

    Reference: Proposition 4.1, with a complex initial token.
    """
    d, m = 5, 2000 if quick else 10_000
    metrics = trained_metrics(law(d, sigma), {"T": 100, "sigma": 1}, law(d, 1), m, seed=11)
    return Check(
        claim="complex_gaussian_does_not_recover",
        statement="CN(0, I): E ratio = p(T) sigma^2 and exact test loss = simulator (5 SE); error -> 1/3",
        kind="upper_bound",
        predicted=5.0,
        measured=max(metrics["z_ratio"], metrics["z_test_loss"]),
        rtol=0.0,
        atol=0.0,
        tolerance="the larger of the two z-scores must be <= 5",
        evidence={**metrics, "error_per_coordinate_as_t_grows": 1 / 3},
    )


CLAIMS = (
    complex_gaussian_limit,
    complex_gaussian_loss_matches_quadrature,
    complex_gaussian_stays_diagonal,
    complex_gaussian_does_not_recover,
)
