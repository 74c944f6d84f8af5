"""The noise extension: its claims pass and can fail, p* is a rational function of s that
tends to the paper's as s -> 0, and the noisy process is told apart from the noise-free one."""

import numpy as np
import sympy as sp

from mesacheck.numeric.full_flow import full_model
from mesacheck.numeric.quadrature import quadrature_loss
from mesacheck.proofs_check.extensions import noise
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.population_loss import T as T_symbol
from mesacheck.symbolic.setting import Noise, Setting, circle
from mesacheck.symbolic.stationary import ab_limit
from mesacheck.symbolic.symmetric_line import symmetric_line

s = sp.Symbol("s", positive=True)


# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too (the same call and assertion once ran here as well).


def test_the_limit_is_a_rational_function_of_s_with_the_paper_at_s_0():
    """p*(s) at T = 6 with a symbolic s: at s = 0 it is the paper's closed form, and it falls
    strictly as s grows (the random walk's energy grows with t; one fixed step fits less)."""
    T = 6
    p = sp.factor(symmetric_line(noise.setting(2, s), T).ab_star)
    assert p.free_symbols == {s}
    assert sp.simplify(p.subs(s, 0) - ab_limit(gaussian(2, 1)).subs(T_symbol, T).doit()) == 0
    values = [float(p.subs(s, v)) for v in (0, sp.Rational(1, 4), sp.Rational(1, 2), 1, 2)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_the_error_per_position_lies_between_the_innovation_and_the_zero_predictor():
    error = noise.error_per_position(noise.setting(3), 20)
    assert error["innovation"] < error["error"] < error["zero_predictor"]


def test_a_wrong_noise_scale_fails_the_quadrature_route():
    """The exact loss at s = 1/2 against quadrature at s = 1: far apart, so the claim's
    agreement is not automatic."""
    point = (np.eye(2, dtype=complex), np.ones((1, 2), dtype=complex))
    exact = full_model(noise.setting(1), 4).loss(*point)
    other = quadrature_loss(Setting(gaussian(1, 1), noise=Noise("complex", 1)), 4, *point)
    assert abs(exact - other) > 1e-2 * abs(other)


def test_under_contraction_the_limit_rises_then_falls_with_s_and_is_the_noise_free_one_at_s_0():
    """r = 9/10, T = 20, d = 2, symbolic s: p*(s) is a rational function of s whose value at
    s = 0 is the noise-free contraction's exact p*; unlike on the unit circle it is not monotone
    (small noise keeps the late positions from fading and raises p*, large noise lowers it)."""
    radius, T = sp.Rational(9, 10), 20
    p = sp.factor(symmetric_line(noise.setting(2, s, radius=radius), T).ab_star)
    assert p.free_symbols == {s}
    assert p.subs(s, 0) == symmetric_line(Setting(gaussian(2, 1), circle(radius)), T).ab_star
    values = [float(p.subs(s, v)) for v in (0, sp.Rational(1, 4), sp.Rational(1, 2), 1, 2)]
    assert values[0] < values[1] < values[2] and values[2] > values[3] > values[4]


def test_a_wrong_radius_fails_the_noisy_contraction_quadrature_route():
    """The exact noisy loss at r = 19/20 against quadrature at r = 9/10, and against the
    noise-free contraction: both far apart, so the claim's agreement is not automatic."""
    point = (np.eye(2, dtype=complex), np.ones((1, 2), dtype=complex))
    exact = full_model(noise.setting(1, radius=noise.CONTRACTION), 4).loss(*point)
    other_radius = quadrature_loss(noise.setting(1, radius=sp.Rational(9, 10)), 4, *point)
    noise_free = quadrature_loss(Setting(gaussian(1, 1), circle(noise.CONTRACTION)), 4, *point)
    assert abs(exact - other_radius) > 1e-2 * abs(other_radius)
    assert abs(exact - noise_free) > 1e-2 * abs(noise_free)
