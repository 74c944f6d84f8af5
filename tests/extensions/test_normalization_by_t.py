"""Properties of the rho_t = t extension, and of the normalization interface (Hypothesis, ci)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mesacheck.numeric.bridge import evaluate
from mesacheck.numeric.flow import integrate_flow
from mesacheck.proofs_check.extensions import normalization_by_t as extension
from mesacheck.symbolic.moments import c, gaussian, position, sparse
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.setting import Setting
from mesacheck.symbolic.stationary import ab_limit
from tests.strategies import examples

scales = st.integers(2, 24).map(lambda n: sp.Rational(n, 8))


def _limit_by_direct_sum(length, d, shift, m2, m4, m6, m42):
    """p* = sum_t m4 u_t / sum_t (m6 u_t^2 + (d - 1) m42 (t - 1) / rho_t^2), u_t = (t - 1)/rho_t,
    rho_t = t - 1 + shift, summed term by term in exact fractions: the per-position least
    squares written out, with no harmonic numbers and no symbolic engine."""
    numerator = denominator = Fraction(0)
    for t in range(2, length):
        rho = Fraction(t - 1 + shift)
        u = (t - 1) / rho
        numerator += m4 * u
        denominator += m6 * u**2 + (d - 1) * m42 * (t - 1) / rho**2
    return numerator / denominator


@given(length=st.integers(3, 400))
def test_the_sparse_formula_is_the_least_squares_step(length):
    direct = _limit_by_direct_sum(length, 1, 1, 1, 1, 1, 0)  # c = 1: m_n = 1/d, ratio free of d
    formula = extension.sparse_limit_formula().subs({T: length, c: 1})
    assert formula.doit() == sp.Rational(direct.numerator, direct.denominator)


@settings(deadline=None, max_examples=max(4, settings().max_examples // 2))
@given(d=st.integers(1, 4), length=st.integers(3, 120), shift=st.integers(0, 3), gaussian_token=st.booleans())
def test_any_shifted_normalization_gives_the_direct_sum(d, length, shift, gaussian_token):
    """rho_t = t - 1 + shift threads through the whole symbolic pipeline: its closed-form limit
    equals the term-by-term sum for the Gaussian (m = 1, 3, 15; m_{4,2} = 3) and sparse (c = 1)
    tokens."""
    base = gaussian(d, 1) if gaussian_token else sparse(d, 1)
    law = Setting(base, rho=position - 1 + shift)
    moments = (1, 3, 15, 3) if gaussian_token else (Fraction(1, d),) * 3 + (0,)
    direct = _limit_by_direct_sum(length, d, shift, *moments)
    closed_form = ab_limit(law).subs(T, length).doit()
    assert sp.simplify(closed_form - sp.Rational(direct.numerator, direct.denominator)) == 0


# a flow per drawn law (~0.2 s an example): 6 in the ci profile (the claim checks T = 100), the
# profile's own count otherwise
@settings(deadline=None, max_examples=examples(6))
@given(d=st.integers(1, 5), length=st.integers(3, 300), scale=scales)
def test_the_flow_reaches_the_formula(d, length, scale):
    values = {T: length, c: scale}
    predicted = evaluate(extension.sparse_limit_formula(), values)
    measured = integrate_flow(extension.law(d, scale), 0.1, 0.1, values={T: length}).ab[-1]
    np.testing.assert_allclose(measured, predicted, rtol=1e-10, atol=1e-14)  # integrator rtol 1e-12


@settings(max_examples=examples(6))  # two limits derived per example, as above
@given(length=st.integers(3, 200), scale=scales)
def test_the_normalization_changes_the_limit_but_not_its_scaling(length, scale):
    """Scaling the token by s scales the limit by 1/s^2 under rho_t = t too, and rho_t = t moves
    the sparse limit above 1/c^2 at every finite T."""
    limit = ab_limit(extension.law(3, scale)).subs(T, length).doit()
    assert sp.simplify(limit - ab_limit(extension.law(3, 1)).subs(T, length).doit() / scale**2) == 0
    assert limit * scale**2 > 1
