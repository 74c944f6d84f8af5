"""p* = beta / alpha on the symmetric line, for any setting: against the paper's closed form,
the integrated diagonal and full flows, and a brute-force sum over coordinates."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow
from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.full_model import linear_coefficient, quadratic_coefficient
from mesacheck.symbolic.moments import Atoms, full_one, gaussian, sparse
from mesacheck.symbolic.population_loss import T as T_symbol
from mesacheck.symbolic.setting import Setting, circle, random_modulus, roots_of_unity
from mesacheck.symbolic.stationary import ab_limit
from mesacheck.symbolic.symmetric_line import exchangeable, symmetric_line
from tests.strategies import process_settings


@pytest.mark.parametrize("d, T", [(1, 3), (2, 5), (3, 9), (5, 40)])
def test_paper_setting_gives_the_closed_form(d, T):
    for law in (gaussian(d, 1), sparse(d, 1)):
        assert symmetric_line(law, T).ab_star == ab_limit(law).subs(T_symbol, T).doit()


def test_patterns_equal_the_sum_over_every_coordinate_tuple():
    """The equality-pattern sum (cost independent of d) against the plain sum over (r, k, l)."""
    setting, T, d = Setting(gaussian(3, 1), circle(sp.Rational(3, 4)), positions="last"), 6, 3
    quadratic = sum(
        quadratic_coefficient(setting, T, (r, d + k, k), (r, d + l, l))
        for r in range(d)
        for k in range(d)
        for l in range(d)
    )
    linear = sum(linear_coefficient(setting, T, r, (r, d + k, k)) for r in range(d) for k in range(d))
    line = symmetric_line(setting, T)
    assert line.alpha == sp.expand(quadratic / d) and line.beta == sp.expand(linear / d)


@given(process_settings(gaussian(3, 1)), st.integers(3, 12))
def test_diagonal_flow_reaches_p_star(setting, T):
    line = symmetric_line(setting, T)
    p_star, alpha = float(line.ab_star), float(line.alpha)
    solution = integrate_diagonal_flow(full_model(setting, T), 0.3, 0.2)
    # on the line dL/da_j = b (alpha p - beta), so where the flow stops (|grad L| = g) the
    # product is within g / (|b| alpha) of p*; 10x that for the spread across coordinates,
    # and 1e-12 p* for the rounding of K and J (assembled in doubles)
    bound = 10 * solution.gradient_norm / (np.min(np.abs(solution.b)) * alpha) + 1e-12 * p_star
    np.testing.assert_allclose(solution.ab, p_star, rtol=0, atol=bound)
    assert solution.conserved_drift < 1e-9  # a_j^2 - b_j^2 is conserved by the flow


@pytest.mark.parametrize("phases", [circle("0.9"), roots_of_unity(3)])
def test_full_flow_reaches_p_star_where_the_diagonal_is_invariant(phases):
    setting, T = Setting(gaussian(3, 1), phases), 12
    p_star = float(symmetric_line(setting, T).ab_star)
    solution = integrate_full_flow(full_model(setting, T), *diagonal_initialization(3, 0.1, 0.1))
    # stopping rule |grad L| <= 1e-11 (integrate_full_flow's gtol) with curvature O(1)
    assert math.isclose(solution.ab[-1], p_star, rel_tol=1e-9, abs_tol=1e-12)


def test_real_process_leaves_the_diagonal():
    """W = diag(+-1): the full model's gradient has off-diagonal entries at a diagonal point
    (contrast: exactly 0 on the unit circle, thm-emergence-condition)."""
    d, T = 3, 10
    point = diagonal_initialization(d, 0.1, 0.1)
    for phases, expect_zero in ((circle(1), True), (roots_of_unity(2), False)):
        g_KQ, _ = full_model(Setting(gaussian(d, 1), phases), T).gradient(*point)
        off = g_KQ.copy()
        off[d + np.arange(d), np.arange(d)] = 0
        assert (np.abs(off).max() < 1e-12) == expect_zero


def test_exchangeability_is_checked():
    assert exchangeable(full_one(4)) and exchangeable(sparse(4))
    skewed = Atoms([[1, 0], [0, 2]], ["1/2", "1/2"])
    assert not exchangeable(skewed)
    with pytest.raises(ValueError, match="permuted"):
        symmetric_line(skewed, 5)


@given(process_settings(gaussian(2, 1)), st.integers(3, 9), st.integers(1, 6))
def test_rescaling_x1_rescales_p_star_exactly(setting, T, n):
    """Metamorphic: x_1 -> s x_1 leaves the process and multiplies the loss's a b-dependence so
    that p* scales by 1/s^2 exactly, in every setting."""
    import dataclasses

    s = sp.Rational(n, 2)
    scaled = dataclasses.replace(setting, law=gaussian(2, s))
    assert symmetric_line(scaled, T).ab_star == symmetric_line(setting, T).ab_star / s**2


@pytest.mark.parametrize(
    "setting",
    [
        Setting(gaussian(2, 1), circle(sp.Rational(9, 10))),
        Setting(gaussian(2, 1), positions="last"),
        Setting(sparse(2, 1)),
        Setting(gaussian(2, 1), random_modulus("1/(k+1)")),
    ],
    ids=["r=0.9", "last", "sparse", "disk"],
)
def test_error_per_position_is_the_quadrature_loss_at_the_limit(setting):
    """(gamma - beta^2/alpha) / sum omega against 2 L(p*) / (d sum omega) with L by quadrature
    (independent averages over W and x_1); both exact up to double rounding: 1e-12 relative."""
    from mesacheck.numeric.quadrature import quadrature_loss

    T = 6
    line = symmetric_line(setting, T)
    p_star = float(line.ab_star)
    a = p_star**0.5
    loss = quadrature_loss(setting, T, *diagonal_initialization(2, a, p_star / a))
    total = float(sum(setting.position_weights(T).values()))
    expected = 2 * loss / (2 * total)
    assert abs(float(line.error_per_position) - expected) <= 1e-12 * abs(expected) + 1e-14
