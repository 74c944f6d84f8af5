"""The contraction extension: its claims pass and can fail, and the limit moves with r."""

import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.proofs_check.extensions import contraction
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.population_loss import T as T_symbol
from mesacheck.symbolic.setting import Setting, circle
from mesacheck.symbolic.stationary import ab_limit
from mesacheck.symbolic.symmetric_line import symmetric_line

# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too (the same call and assertion once ran here as well).


@given(st.integers(3, 30))
def test_radius_one_through_the_general_route_is_the_paper(T):
    """r = 1 written as an expression weight routes around the closed form; it must give it."""
    general = Setting(gaussian(2, 1), circle(1), positions=sp.S.One)
    assert symmetric_line(general, T).ab_star == ab_limit(gaussian(2, 1)).subs(T_symbol, T).doit()


def test_the_limit_tends_to_the_unit_circle_as_r_tends_to_1():
    """p*(r) is a rational function of r at fixed T, smooth at r = 1: the gap to the unit circle
    shrinks like 1 - r near 1 (measured 9x from 1 - r = 1e-2 to 1e-3)."""
    T = 20
    unit = float(ab_limit(gaussian(2, 1)).subs(T_symbol, T).doit())
    gaps = [
        abs(float(symmetric_line(contraction.setting(2, sp.Rational(n - 1, n)), T).ab_star) - unit)
        for n in (10, 100, 1000)
    ]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.2 * gaps[1]


def test_a_wrong_radius_fails_the_quadrature_claim():
    from mesacheck.proofs_check.extensions._shared import setting_against_quadrature

    wrong = Setting(gaussian(2, 1), circle(sp.Rational(9, 10)))
    check = setting_against_quadrature("x", "s", wrong, 6)
    assert check.passed
    # the same exact loss against quadrature on another radius: far apart
    import numpy as np

    from mesacheck.numeric.full_flow import full_model
    from mesacheck.numeric.quadrature import quadrature_loss

    point = (np.eye(4, dtype=complex), np.ones((2, 4), dtype=complex))
    assert (
        abs(
            full_model(wrong, 6).loss(*point)
            - quadrature_loss(Setting(gaussian(2, 1), circle("0.8")), 6, *point)
        )
        > 1e-3
    )
