"""The exact population loss, against Monte Carlo and against quadrature over the phases."""

from __future__ import annotations

import numpy as np
import sympy as sp

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.quadrature import phase_points, quadrature_loss
from mesacheck.numeric.simulate import diagonal_initialization, sample_sequences, sequence_losses
from mesacheck.symbolic.moments import Atoms, gaussian
from mesacheck.symbolic.population_loss import T as T_symbol
from mesacheck.symbolic.population_loss import diagonal_parameters, population_loss

from ..check import Check

__all__ = ["population_loss_matches_monte_carlo", "population_loss_matches_phase_quadrature"]


def _exact_loss(law, T, a_values, b_values):
    a, b = diagonal_parameters(law.d)
    values = {T_symbol: T, **dict(zip(a, a_values)), **dict(zip(b, b_values))}
    return evaluate(population_loss(law), {str(k): v for k, v in values.items()})


def population_loss_matches_monte_carlo(quick: bool = False) -> Check:
    """Claim: the closed-form population loss of the diagonal model, derived by SymPy with
    exact phase averaging, equals the expected loss of sampled sequences, at parameters with
    unequal diagonal entries.

    Derivation: eq-population-loss

    Guarantee: the Monte Carlo mean of the per-sequence loss lies within 5 standard errors of
    the closed form (a false alarm has probability below 1e-6).

    Reference: spec, "Training" (the loss L); Section 4 (the population analysis).
    """
    rng = np.random.default_rng(7)
    d, T, m = 3, 12, 20_000 if quick else 200_000
    law = gaussian(d, sp.Rational(7, 10))
    a_values, b_values = [0.3, -0.2, 0.5], [0.4, 0.6, -0.1]
    predicted = _exact_loss(law, T, a_values, b_values)
    losses = sequence_losses(
        *diagonal_initialization(len(a_values), a_values, b_values), sample_sequences(law, T, m, rng)
    )
    standard_error = float(np.std(losses) / np.sqrt(m))
    return Check(
        claim="population_loss_matches_monte_carlo",
        statement="E sum_t 1/2 ||y_t - x_{t+1}||^2 (closed form) = mean over sampled sequences",
        kind="equal",
        predicted=predicted,
        measured=float(np.mean(losses)),
        rtol=0.0,
        atol=5 * standard_error,
        tolerance=f"5 Monte Carlo standard errors ({standard_error:.2e}) of {m} sequences",
        evidence={
            "law": "gaussian",
            "sigma": 0.7,
            "d": d,
            "T": T,
            "sequences": m,
            "a": a_values,
            "b": b_values,
        },
    )


def population_loss_matches_phase_quadrature(quick: bool = False) -> Check:
    """Claim: the closed-form population loss equals the average of the per-sequence loss
    over an equispaced grid of N = 3T - 5 phases per coordinate and the atoms of a finite
    complex-valued x_1 law with rational weights.

    Derivation: eq-phase-average

    Guarantee: the per-sequence loss is a trigonometric polynomial with frequencies |n| <= 3(T - 2)
    in each phase, which such a grid integrates exactly (mesacheck.numeric.quadrature); the two
    routes agree to rounding.

    Reference: spec, "Data" (uniform phases, independent of x_1).
    """
    d, T = (2, 6) if quick else (3, 6)
    points = [[1, sp.I / 2, -1][:d], [sp.Rational(1, 2), 2, 1 + sp.I][:d], [-2, 1, sp.I][:d]]
    law = Atoms(points, ["1/2", "1/3", "1/6"], name="complex-atoms")
    a_values, b_values = [0.8, -0.3, 0.4][:d], [0.5, 0.9, -0.7][:d]
    predicted = _exact_loss(law, T, a_values, b_values)
    measured = quadrature_loss(law, T, *diagonal_initialization(len(a_values), a_values, b_values))
    return Check(
        claim="population_loss_matches_phase_quadrature",
        statement="closed-form L = exact torus quadrature over the phases, complex atoms",
        kind="equal",
        predicted=predicted,
        measured=measured,
        rtol=1e-12,  # sums of ~N^d * T terms in double precision: relative rounding ~1e-14
        atol=1e-14,
        tolerance="rounding of a double-precision sum of N^d T terms; exact in exact arithmetic",
        evidence={"d": d, "T": T, "grid": f"{phase_points(T)}^{d}", "atoms": len(points)},
    )
