"""Properties of the complex-Gaussian extension, across d, T and sigma (Hypothesis, ci profile)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import integrate_flow
from mesacheck.numeric.simulate import sample_initial_tokens
from mesacheck.proofs_check.extensions import complex_gaussian
from mesacheck.symbolic.conditions import emergence_condition
from mesacheck.symbolic.moments import sigma
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import ab_limit
from tests.strategies import examples

scales = st.integers(2, 24).map(lambda n: sp.Rational(n, 8))
# a flow or a limit derived per drawn law (~0.3 s an example): 6 examples in the ci profile, where
# the claims check the d = 5 limit; Monte Carlo with 200 000 draws: 4 seeds. The profile's own
# count otherwise


@settings(deadline=None, max_examples=examples(6))
@given(d=st.integers(1, 5), length=st.integers(3, 300), scale=scales)
def test_the_flow_reaches_the_hand_derived_limit(d, length, scale):
    law = complex_gaussian.law(d, scale)
    values = {T: length}
    predicted = evaluate(complex_gaussian.limit_formula(d), {**values, sigma: scale})
    measured = integrate_flow(law, 0.1, 0.1, values=values).ab[-1]
    # the integrator runs at rtol 1e-12; 100x margin
    np.testing.assert_allclose(measured, predicted, rtol=1e-10, atol=1e-14)


@settings(max_examples=examples(6))
@given(d=st.integers(1, 5), s=scales)
def test_scaling_the_token_by_s_scales_the_limit_by_one_over_s_squared(d, s):
    base = ab_limit(complex_gaussian.law(d, 1))
    scaled = ab_limit(complex_gaussian.law(d, s))
    assert sp.simplify(scaled - base / s**2) == 0


@given(d=st.integers(2, 3), length=st.integers(4, 12))
def test_the_emergence_condition_holds_at_every_d_and_T(d, length):
    assert emergence_condition(complex_gaussian.law(d, 1), length) == {}


@settings(deadline=None, max_examples=examples(4))
@given(seed=st.integers(0, 2**16), scale=scales)
def test_the_sampler_has_the_declared_moments(seed, scale):
    """Monte Carlo moments of the sampler against the law's moment function: a sampler that
    disagrees with the moments the derivation uses would make every finite-sample check lie."""
    law = complex_gaussian.law(2, scale)
    x = sample_initial_tokens(law, 200_000, np.random.default_rng(seed))
    pairs = [((1, 0), (1, 0)), ((2, 0), (2, 0)), ((1, 1), (1, 1)), ((2, 0), (0, 0)), ((1, 0), (0, 1))]
    for alpha, beta in pairs:
        samples = np.prod(x**alpha * np.conj(x) ** beta, axis=1)
        exact = complex(law.moment(alpha, beta))
        standard_error = np.std(samples) / np.sqrt(len(samples))
        assert abs(samples.mean() - exact) <= 6 * standard_error + 1e-12  # false alarm < 1e-8 each


def test_the_quadrature_nodes_integrate_the_declared_moments_exactly():
    law = complex_gaussian.law(1, sp.Rational(3, 2))
    nodes, weights = law.nodes({"sigma": 1.5})
    for a in range(4):
        for b in range(4):
            exact = complex(law.moment((a,), (b,)))
            assert np.sum(weights * nodes[:, 0] ** a * np.conj(nodes[:, 0]) ** b) == pytest.approx(
                exact, rel=1e-12, abs=1e-12
            )
