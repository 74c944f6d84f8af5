"""Theorem 4.1 (emergence): the flow from the diagonal initialization reaches a
mesa-optimizer whose step-size product a b has a closed form."""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from scipy.stats import t as student_t

from mesacheck.numeric.bridge import evaluate, exact_value
from mesacheck.numeric.flow import descend_population, integrate_flow, refine_limit
from mesacheck.numeric.simulate import simulate_training
from mesacheck.symbolic.moments import c, full_one, gaussian, sigma, sparse
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import emergence_limit

from ..check import Check

__all__ = [
    "ab_limit_gaussian",
    "ab_limit_sparse",
    "ab_limit_full_one_masked",
    "ab_limit_high_precision",
    "finite_sample_training_follows_population_descent",
    "finite_sample_masked_training_follows_population_descent",
]

# The paper's setting (spec, "Published simulation settings").
D, LENGTH, A0, B0 = 5, 100, 0.1, 0.1
# solve_ivp(LSODA, rtol=1e-12) stopped at relative Newton step 1e-13 lands within ~5e-12 of
# the limit (measured: 4.4e-12 for the Gaussian, sparse and full-one tokens; DOP853 reached ~1e-12
# but took seconds on the stiff approach); asserting 1e-10 keeps a 20x margin.
FLOW_RTOL, FLOW_ATOL = 1e-10, 1e-14


def _flow_check(name, law, values, statement, reference_line) -> Check:
    limit = emergence_limit(law, A0, B0)
    predicted = evaluate(limit.ab, values)
    solution = integrate_flow(law, A0, B0, values=values)
    return Check(
        claim=name,
        statement=statement,
        kind="equal",
        predicted=predicted,
        measured=float(solution.ab[-1]),
        rtol=FLOW_RTOL,
        atol=FLOW_ATOL,
        tolerance="closed form vs solve_ivp LSODA (rtol 1e-12, stationarity 1e-13): 20x margin",
        exact=exact_value(limit.ab, values),
        evidence={
            "closed_form": sp.latex(limit.ab),
            "d": D,
            "T": LENGTH,
            "a0": A0,
            "b0": B0,
            "paper_line": reference_line,
            "tau_end": float(solution.tau[-1]),
            "gradient_norm": solution.gradient_norm,
            "conserved_drift": solution.conserved_drift,
        },
    )


def ab_limit_gaussian(quick: bool = False) -> Check:
    """Claim: for x_1 ~ N(0, sigma^2 I_d) the flow from (a_0, b_0) = (0.1, 0.1) converges to
    a b = (T-2) / (sigma^2 (5(T-2) + (d-1) H_{T-2})), H the harmonic number; at d = 5,
    T = 100, sigma = 1 this is 0.19191, 4.0% below the paper's line 1/(5 sigma^2), which is its
    T -> infinity limit.

    Derivation: thm-emergence

    Guarantee: closed form and integrated exact flow agree to 1e-10 relative.

    Reference: Theorem 4.1; Figure 1 (Gaussian panels).
    """
    return _flow_check(
        "ab_limit_gaussian",
        gaussian(D),
        {T: LENGTH, sigma: 1},
        "lim ab = (T-2)/(sigma^2 (5(T-2) + (d-1) H_{T-2})), Gaussian x_1",
        "1/(5 sigma^2)",
    )


def ab_limit_sparse(quick: bool = False) -> Check:
    """Claim: for the sparse token x_1 = s c e_k the flow converges to a b = 1/c^2 exactly,
    for every T, matching the paper's line.

    Derivation: thm-emergence

    Guarantee: closed form and integrated exact flow agree to 1e-10 relative.

    Reference: Theorem 4.1, Example 4.1; Figure 1 (sparse panels).
    """
    return _flow_check("ab_limit_sparse", sparse(D), {T: LENGTH, c: 1}, "lim ab = 1/c^2, sparse x_1", "1/c^2")


def ab_limit_full_one_masked(quick: bool = False) -> Check:
    """Claim: for x_1 = (1, ..., 1) with the off-diagonal entries of the prediction blocks
    masked, the flow converges to a b = (T-2) / ((T-2) + (d-1) H_{T-2}) (0.8258 at d = 5,
    T = 100; tends to 1 as T grows).

    Derivation: thm-emergence

    Guarantee: closed form and integrated exact flow agree to 1e-10 relative. The other blocks
    stay zero for every law (thm-block-invariance), so the masked model is the diagonal one.

    Reference: Section 5 (full-one x_1, training with masking).
    """
    return _flow_check(
        "ab_limit_full_one_masked",
        full_one(D),
        {T: LENGTH},
        "lim ab = (T-2)/((T-2) + (d-1) H_{T-2}), full-one x_1, masked",
        "none",
    )


def ab_limit_high_precision(quick: bool = False) -> Check:
    """Claim: the closed-form limit of a b for the Gaussian token holds far beyond double
    precision.

    Derivation: thm-emergence

    Guarantee: Newton's method in mpmath at 50 digits on grad L = 0 with the conserved
    quantity pinned, started from the double-precision flow limit, agrees with the closed form
    evaluated at 50 digits to 1e-40 relative.

    Reference: Theorem 4.1.
    """
    dps = 50
    law, values = gaussian(D), {T: LENGTH, sigma: 1}
    solution = integrate_flow(law, A0, B0, values=values)
    refined = refine_limit(law, solution, values=values, dps=dps)
    with mpmath.workdps(dps):
        predicted = evaluate(emergence_limit(law, A0, B0).ab, values, dps=dps)
        error = abs(refined.ab - predicted) / predicted
    return Check(
        claim="ab_limit_high_precision",
        statement="lim ab (Gaussian, d=5, T=100) confirmed at 50 digits",
        kind="vanishes",
        predicted=0.0,
        measured=float(error),
        rtol=0.0,
        atol=1e-40,  # Newton converges quadratically to the working precision of 1e-50
        tolerance="50-digit Newton refinement; 1e10 margin over the working precision",
        evidence={"ab_50_digits": mpmath.nstr(refined.ab, 45), "residual": float(refined.residual)},
    )


def _finite_sample_check(name, statement, law, population_law, values, eta, mask, quick) -> Check:
    d, length = law.d, values[T]
    steps, m, seeds = (100, 500, 8) if quick else (150, 2_000, 8)
    runs = [
        simulate_training(
            law,
            T=length,
            a0=A0,
            b0=B0,
            eta=eta,
            steps=steps,
            m=m,
            m_test=100,
            seed=s,
            log_every=steps,
            mask=mask,
        )
        for s in range(seeds)
    ]
    finite = np.array([run.ab[-1] for run in runs])
    population = descend_population(population_law, A0, B0, values=values, eta=eta, steps=steps)
    standard_error = float(np.std(finite, ddof=1) / np.sqrt(seeds))
    quantile = float(student_t.ppf(1 - 5e-5, seeds - 1))  # two-sided false-alarm rate 1e-4
    return Check(
        claim=name,
        statement=statement,
        kind="equal",
        predicted=float(np.mean(population[-1, :d] * population[-1, d:])),
        measured=float(np.mean(finite)),
        rtol=0.0,
        atol=quantile * standard_error,
        tolerance=f"{quantile:.1f} standard errors over {seeds} seeds (Student t, false alarm 1e-4)",
        evidence={
            "d": d,
            "T": length,
            "eta": eta,
            "steps": steps,
            "m": m,
            "seeds": seeds,
            "mask": mask,
            "ab_per_seed": finite.tolist(),
        },
    )


def finite_sample_training_follows_population_descent(quick: bool = False) -> Check:
    """Claim: the reference's finite-sample training (complex parameters, every entry of both
    matrices trainable, no masking) follows gradient descent on the exact population loss of
    the diagonal model, up to sampling error, for the Gaussian token.

    Derivation: thm-block-invariance

    Guarantee: the seed-averaged a b after the last step agrees with gradient descent (same
    step size) on the exact population loss within a Student-t bound on the seed-to-seed
    spread: the other blocks and the off-diagonal entries, which the population flow keeps at
    zero, stay negligible in finite samples.

    Reference: spec, "Training"; Figure 1 (Gaussian).
    """
    return _finite_sample_check(
        "finite_sample_training_follows_population_descent",
        "finite-sample GD (full complex model, Gaussian x_1) tracks exact population GD",
        gaussian(3, 1),
        gaussian(3),
        {T: 20, sigma: 1},
        2e-3,
        False,
        quick,
    )


def finite_sample_masked_training_follows_population_descent(quick: bool = False) -> Check:
    """Claim: with the reference's masking (--clip), finite-sample training on full-one x_1
    follows gradient descent on the exact population loss of the diagonal model.

    Derivation: thm-emergence

    Guarantee: as for the Gaussian token; x_1 is deterministic here, so only the phases are
    sampled and the bound is tight.

    Reference: Section 5 (full-one x_1 with masking).
    """
    return _finite_sample_check(
        "finite_sample_masked_training_follows_population_descent",
        "finite-sample GD with masking (full-one x_1) tracks exact population GD",
        full_one(3),
        full_one(3),
        {T: 20},
        5e-3,
        True,
        quick,
    )
