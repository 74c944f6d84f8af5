"""Stationary points, the closed-form limit and the trajectory, checked by substitution and
against the integrated flow."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import integrate_flow
from mesacheck.symbolic.flow import gradient_flow
from mesacheck.symbolic.moments import Atoms, c, full_one, gaussian, sigma, sparse
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.stationary import (
    NotExchangeableError,
    ab_limit,
    emergence_limit,
    reduced_flow,
    stationary_points,
    tau,
)
from tests.strategies import examples, initializations


def test_gaussian_limit_in_closed_form():
    """The derived limit equals (T-2) / (sigma^2 (5(T-2) + (d-1) H_{T-2})) for d = 1..4."""
    for d in range(1, 5):
        expected = (T - 2) / (sigma**2 * (5 * (T - 2) + (d - 1) * sp.harmonic(T - 2)))
        assert sp.simplify(ab_limit(gaussian(d)) - expected) == 0


def test_sparse_limit_is_one_over_c_squared_for_every_T():
    assert sp.simplify(ab_limit(sparse(4)) - 1 / c**2) == 0


def test_limit_tends_to_the_papers_line_as_T_grows():
    assert sp.limit(ab_limit(gaussian(5)), T, sp.oo) == 1 / (5 * sigma**2)
    assert sp.limit(ab_limit(full_one(5)), T, sp.oo) == 1


# a limit derived and substituted per example (~0.2 s): 6 in the ci profile, the profile's own
# count otherwise
@settings(max_examples=examples(6))
@given(st.integers(1, 4), initializations())
def test_limit_point_is_stationary_and_keeps_the_conserved_quantity(d, start):
    """Substitution: every gradient entry vanishes at (a_inf, b_inf), and a^2 - b^2 is kept."""
    a0, b0 = start
    law = gaussian(d)
    limit = emergence_limit(law, a0, b0)
    flow = gradient_flow(law)
    point = {p: (limit.a if k < d else limit.b) for k, p in enumerate(flow.parameters)}
    values = {T: 17, sigma: sp.Rational(3, 2)}
    for velocity in flow.velocity:
        assert abs(evaluate(velocity.xreplace(point), values)) < 1e-12
    a_, b_ = sp.nsimplify(a0), sp.nsimplify(b0)
    assert abs(evaluate(limit.a**2 - limit.b**2 - (a_**2 - b_**2), values)) < 1e-12


def test_stationary_points_are_classified_by_their_hessian():
    points = stationary_points(gaussian(3), {T: 12, sigma: 1})
    kinds = [(p["name"], p["kind"]) for p in points]
    assert kinds == [
        ("origin", "strict saddle"),
        ("1 of 3 coordinates active", "strict saddle"),
        ("2 of 3 coordinates active", "strict saddle"),
        ("3 of 3 coordinates active", "minimum"),
    ]
    assert points[-1]["inertia"]["zero"] == 1  # the single conserved direction
    assert points[0]["inertia"] == {"negative": 3, "zero": 0, "positive": 3}


def test_saddle_half_line_flows_into_the_origin():
    limit = emergence_limit(gaussian(2), 0.5, -0.5)
    assert limit.kind == "saddle" and limit.ab == 0
    solution = integrate_flow(gaussian(2), 0.5, -0.5, values={T: 10, sigma: 1})
    assert abs(solution.ab[-1]) < 1e-8


def test_origin_is_rejected_with_an_explanation():
    with pytest.raises(ValueError, match="stationary point"):
        emergence_limit(gaussian(2), 0, 0)


def test_balanced_trajectory_solves_the_reduced_flow():
    """p(tau) from the closed form satisfies p' = -2 p (alpha p - beta) (C = 0)."""
    reduced = reduced_flow(gaussian(3))
    p_tau = reduced.trajectory(sp.Rational(1, 10), sp.Rational(1, 10))
    residual = sp.diff(p_tau, tau) - reduced.p_velocity(0).subs(sp.Symbol("p", real=True), p_tau)
    for value in (0, sp.Rational(1, 100), 1):
        assert abs(sp.N(residual.subs({tau: value, T: 20, sigma: 1}), 30)) < 1e-25


def test_balanced_trajectory_matches_the_integrated_flow():
    law, values = gaussian(5), {T: 100, sigma: 1}
    p_tau = reduced_flow(law).trajectory(sp.Rational(1, 10), sp.Rational(1, 10))
    solution = integrate_flow(law, 0.1, 0.1, values=values)
    times = np.linspace(0, solution.tau[-1], 7)
    closed = [evaluate(p_tau.subs(tau, sp.nsimplify(x)), values) for x in times]
    # dense output of DOP853 at rtol 1e-12; 1e-9 leaves a 1000x margin
    np.testing.assert_allclose(solution.ab_at(times), closed, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(
    "a0, b0, side",
    [
        # balanced (C = 0): p' is a polynomial, its integral ~0.3 s; the flow rises to p* (1 - eps)
        ("1/10", "1/10", -1),
        # unbalanced (C = -2): sqrt(C^2 + 4 p^2) in p', ~6 s of SymPy's integral; the flow comes
        # down to p* (1 + eps). In the slow run (MESACHECK_SLOW=1)
        pytest.param("1/2", "3/2", 1, marks=pytest.mark.slow),
    ],
    ids=["balanced", "unbalanced"],
)
def test_time_to_reach_matches_the_integrated_flow(a0, b0, side):
    """tau_eps from SymPy's exact integral of 1/p' vs the flow's dense output."""
    law, values = gaussian(3), {T: 30, sigma: 1}
    reduced = reduced_flow(law)
    specific = type(reduced)(
        reduced.flow, *(x.subs(values) for x in (reduced.alpha, reduced.beta, reduced.gamma))
    )
    eps = sp.Rational(1, 100)
    a0, b0 = sp.Rational(a0), sp.Rational(b0)
    tau_eps = float(sp.N(specific.time_to_reach(a0, b0, eps)))
    solution = integrate_flow(law, float(a0), float(b0), values=values)
    star = float(sp.N(specific.ab_star))
    assert (float(a0 * b0) - star) * side > 0  # the flow first meets p* (1 + side eps)
    target = star * (1 + side * float(eps))
    # dense output of DOP853 at rtol 1e-12, 1000x margin
    assert abs(solution.ab_at(tau_eps)[0] - target) < 1e-9 * star


def test_non_exchangeable_law_has_no_reduced_flow():
    law = Atoms([[1, 0], [0, 2]], ["1/2", "1/2"])
    with pytest.raises(NotExchangeableError):
        reduced_flow(law)
