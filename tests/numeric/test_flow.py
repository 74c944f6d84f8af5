"""The integrated exact flow against the closed form, across random settings (property P1),
and its metamorphic relations (P4)."""

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import FlowDidNotConverge, integrate_flow, refine_limit
from mesacheck.symbolic.moments import c, full_one, gaussian, sigma, sparse
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import emergence_limit
from tests.strategies import examples, initializations

# DOP853 at rtol 1e-12 stops within ~1e-11 of the limit: assert 1e-9 (100x margin)
RTOL, ATOL = 1e-9, 1e-13
# the properties that integrate flows of drawn laws, sizes and starts (~0.2-0.5 s an example) run 6
# examples in the ci profile (P1 and P4 in tests/test_properties.py check the limit and its scaling
# over more laws), the profile's own count otherwise

families = st.sampled_from(["gaussian", "sparse", "full-one"])


def _law(name, d):
    return {"gaussian": gaussian, "sparse": sparse, "full-one": full_one}[name](d)


@settings(max_examples=examples(6))
@given(families, st.integers(1, 5), st.integers(3, 200), st.floats(0.3, 3.0), initializations())
def test_flow_limit_matches_closed_form(family, d, length, scale, start):
    law = _law(family, d)
    values = {T: length, sigma: scale, c: scale}
    limit = emergence_limit(law, *start)
    solution = integrate_flow(law, *start, values=values)
    np.testing.assert_allclose(solution.ab[-1], evaluate(limit.ab, values), rtol=RTOL, atol=ATOL)
    d_ = law.d
    np.testing.assert_allclose(solution.limit[:d_], evaluate(limit.a, values), rtol=RTOL, atol=1e-9)
    np.testing.assert_allclose(solution.limit[d_:], evaluate(limit.b, values), rtol=RTOL, atol=1e-9)
    assert solution.conserved_drift < 1e-9


@settings(max_examples=examples(6))
@given(st.integers(1, 4), st.integers(3, 60), st.floats(0.5, 2.0), st.floats(0.5, 3.0))
def test_rescaling_x1_by_s_rescales_the_limit_by_one_over_s_squared(d, length, scale, s):
    law = gaussian(d)
    base = integrate_flow(law, 0.1, 0.1, values={T: length, sigma: scale}).ab[-1]
    scaled = integrate_flow(law, 0.1, 0.1, values={T: length, sigma: s * scale}).ab[-1]
    np.testing.assert_allclose(scaled, base / s**2, rtol=RTOL, atol=ATOL)


@given(st.permutations(range(3)))
def test_permuting_coordinates_permutes_the_solution(permutation):
    """An unequal start: the flow of the permuted start is the permuted flow."""
    law, values = gaussian(3), {T: 25, sigma: 1}
    start = np.array([0.3, 0.5, 0.9, 0.2, 0.7, 0.4])
    order = list(permutation) + [3 + k for k in permutation]
    one = integrate_flow(law, 0, 0, values=values, start=start).limit
    two = integrate_flow(law, 0, 0, values=values, start=start[order]).limit
    np.testing.assert_allclose(two, one[order], rtol=1e-8, atol=1e-10)


@settings(max_examples=examples(6))
@given(initializations(), initializations())
def test_limit_of_ab_does_not_depend_on_the_start_within_the_basin(one, two):
    law, values = gaussian(2), {T: 40, sigma: 1}
    first = integrate_flow(law, *one, values=values).ab[-1]
    second = integrate_flow(law, *two, values=values).ab[-1]
    np.testing.assert_allclose(first, second, rtol=RTOL, atol=ATOL)


def test_mpmath_refinement_confirms_the_closed_form_to_40_digits():
    law, values = sparse(3), {T: 50, c: sp.Rational(3, 2)}
    solution = integrate_flow(law, 0.5, 1.5, values=values)
    refined = refine_limit(law, solution, values=values, dps=45)
    with mpmath.workdps(45):
        exact = evaluate(emergence_limit(law, 0.5, 1.5).ab, values, dps=45)
        assert abs(refined.ab - exact) < mpmath.mpf(10) ** -40


def test_a_too_short_time_budget_raises():
    with pytest.raises(FlowDidNotConverge, match="did not reach"):
        integrate_flow(gaussian(2), 0.1, 0.1, values={T: 10, sigma: 1}, tau_max=1e-4)


def test_the_origin_is_rejected():
    with pytest.raises(ValueError, match="stationary point"):
        integrate_flow(gaussian(2), 0, 0, values={T: 10, sigma: 1})


def test_non_finite_start_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        integrate_flow(gaussian(2), float("nan"), 0.1, values={T: 10, sigma: 1})
