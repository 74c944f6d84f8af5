"""The phase-averaging rule and exact sums over positions, against brute force."""

import itertools

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.symbolic.phase_average import PositionSum, phase_average, sum_over_positions

t, T = sp.symbols("t T", integer=True, positive=True)
i = sp.Symbol("i", integer=True)


def test_phase_average_keeps_only_the_constant_term():
    l1, l2 = sp.symbols("lambda_1 lambda_2")
    assert phase_average(5 * l1**2 * l2**-2 * l1**-2 * l2**2, [l1, l2]) == 5
    assert phase_average(5 * l1 * l2**-1, [l1, l2]) == 0


@given(st.integers(2, 7), st.integers(-2, 2), st.sampled_from([0, 1]))
def test_position_sum_average_equals_roots_of_unity_average(t_value, shift, power):
    """E over lambda of |sum_{i=2}^t lambda^(i + shift)|^2 * lambda^power, symbolic t vs an
    exact average over the N-th roots of unity (exact for degree < N). Powers 0 and 1 keep the
    count of solutions one affine form for all t >= 2 (t - 1 and t - 2)."""
    lam = sp.Symbol("lambda_1")
    inner = PositionSum.single(lam ** (i + shift), (i, 2, t))
    product = (inner * inner.conjugate([lam])) * PositionSum.single(lam**power)
    symbolic = product.phase_average([lam], t).subs(t, t_value)
    N = 2 * t_value + 2 * abs(power) + 3
    roots = [sp.exp(2 * sp.pi * sp.I * k / N) for k in range(N)]
    brute = (
        sum(
            sp.Add(*[r ** (k + shift) for k in range(2, t_value + 1)])
            * sp.Add(*[r ** (-(k + shift)) for k in range(2, t_value + 1)])
            * r**power
            for r in roots
        )
        / N
    )
    assert sp.simplify(sp.nsimplify(sp.N(brute, 30), tolerance=1e-20) - symbolic) == 0


@given(st.integers(3, 40), st.integers(1, 3), st.integers(0, 2))
def test_sum_over_positions_matches_a_direct_sum(T_value, power, degree):
    summand = (t**degree + 3) / (t - 1) ** power + sp.Rational(1, 2)
    closed = sum_over_positions(summand, t, 2, T - 1).subs(T, T_value)
    direct = sum(summand.subs(t, k) for k in range(2, T_value))
    assert sp.simplify(closed - direct) == 0


def test_two_index_box_counts_match_enumeration():
    """Counting solutions of the phase constraints with two indices (i, j) in [2, t]^2."""
    lam = sp.Symbol("lambda_1")
    j = sp.Symbol("j", integer=True)
    for exponent in (i - j, i + j - t - 2, i + j - t - 3, i - t - 1, i - t, j - 2):
        product = PositionSum(((1, lam**exponent, ((i, 2, t), (j, 2, t))),))
        for t_value in range(2, 7):
            count = product.phase_average([lam], t).subs(t, t_value)
            brute = sum(
                1
                for a, b in itertools.product(range(2, t_value + 1), repeat=2)
                if exponent.subs({i: a, j: b, t: t_value}) == 0
            )
            assert count == brute, (exponent, t_value)


def test_a_point_inside_the_box_only_for_some_positions_raises():
    """i = 3 lies in [2, t] for t >= 3 only."""
    lam = sp.Symbol("lambda_1")
    with pytest.raises(NotImplementedError, match="cannot decide"):
        PositionSum.single(lam ** (i - 3), (i, 2, t)).phase_average([lam], t)


def test_counts_that_change_form_with_the_position_raise_instead_of_guessing():
    """|sum_i lambda^i|^2 lambda^2 has t - 3 solutions for t >= 3 but 0 at t = 2: no single
    closed form, so the engine refuses rather than return a wrong number."""
    lam = sp.Symbol("lambda_1")
    inner = PositionSum.single(lam**i, (i, 2, t))
    product = inner * inner.conjugate([lam]) * PositionSum.single(lam**2)
    with pytest.raises(NotImplementedError, match="changes"):
        product.phase_average([lam], t)
