"""Issue 12, item 6: the phase counts in closed form in T (harmonic numbers as symbols), the
exact decision of which coefficients vanish, and the exchangeable routes that do not grow with d.
Each is compared with an independent route: the direct sum over every position, the exact
harmonic rationals, the loss expanded in all 2d parameters."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import sympy as sp

from mesacheck.numeric.flow import integrate_flow
from mesacheck.symbolic import conditions, positions
from mesacheck.symbolic.conditions import _vanishes, emergence_condition, equal_diagonal_condition
from mesacheck.symbolic.full_model import (
    LINEAR_SLOTS,
    QUADRATIC_SLOTS,
    exact_harmonic,
    harmonic_symbol,
    harmonic_symbols_in,
    phase_count_form,
    phase_counts_by_positions,
)
from mesacheck.symbolic.moments import Atoms, full_one, gaussian, iid, marginal, sparse
from mesacheck.symbolic.slots import partitions
from mesacheck.symbolic.stationary import reduced_flow


def _not_exchangeable(law):
    """The same law without the exchangeable mark: every route expands all d coordinates."""
    return dataclasses.replace(law, exchangeable=False)


def _keys(kind):
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    for partition in partitions(len(slots)):
        for blocks in itertools.product((0, 1), repeat=len(slots)):
            if kind == "linear" and blocks[0]:
                continue
            yield partition, blocks


@pytest.mark.parametrize("kind", ["linear", "quadratic"])
# before (4), at (16: t <= 15, no tail) and past the polynomial tail (t >= 16): 29 has 13 tail
# positions; 17, with the tail's first alone, runs in the slow run (MESACHECK_SLOW=1)
@pytest.mark.parametrize("T", [4, 16, pytest.param(17, marks=pytest.mark.slow), 29])
def test_closed_form_counts_equal_the_sum_over_every_position(kind, T):
    """Every entry, with the harmonic numbers left as symbols from n = 3 on, equals the direct
    sum over t = 2..T-1 once the exact H_n are put in: two independent routes, exact equality."""
    direct = phase_counts_by_positions(T, kind)
    symbolic_seen = False
    for key in _keys(kind):
        form = phase_count_form(T, kind, key, exact_until=3)
        harmonics = harmonic_symbols_in(form)
        symbolic_seen |= bool(harmonics)
        value = form.xreplace({h: exact_harmonic(*nk) for h, nk in harmonics.items()})
        expected = direct.get(key, 0)
        assert value == sp.Rational(expected.numerator, expected.denominator) if expected else value == 0, key
    assert symbolic_seen == (T - 1 >= 16)  # the symbols are really exercised past the head


def test_the_closed_form_count_does_not_compute_the_harmonic_number():
    """At T = 10^6 an entry holds H_{T-2} as a symbol. One coordinate in every slot, every x_i:
    i runs over 1..t (t choices for each of i, j), so the entry is
    sum_{t=2}^{N} t^2/(t-1)^2 = sum_{u=1}^{N-1} (1 + 2/u + 1/u^2), N = T - 1."""
    form = phase_count_form(10**6, "quadratic", ((0,) * 6, (0,) * 6))
    n = 10**6 - 2
    assert form == n + 2 * harmonic_symbol(n, 1) + harmonic_symbol(n, 2)


def test_vanishing_is_decided_exactly():
    h = harmonic_symbol(2001)
    exact = exact_harmonic(2001)
    a = sp.Symbol("a_1", real=True)
    assert _vanishes(3 * h - 3 * h)  # symbolic cancellation
    assert _vanishes(a * (h - exact))  # zero only as numbers: 50 digits cannot tell, the exact H_n can
    assert not _vanishes(a * (h - exact - sp.Rational(1, 10**60)))  # 1e-60 from zero: decided exactly
    assert not _vanishes(a * (h - 8))  # H_2001 ~ 8.18: decided at 50 digits
    assert not _vanishes(a + 0 * h)


def test_emergence_condition_with_symbolic_harmonics_equals_the_exact_one(monkeypatch):
    """full-one violates the condition: the same coefficients whether the harmonic numbers are
    exact rationals or symbols decided at 50 digits (n = 18 > 3 here)."""
    exact = emergence_condition(full_one(2), 20)
    monkeypatch.setattr(positions, "HARMONIC_EXACT_UNTIL", 3)
    symbolic = emergence_condition(full_one(2), 20)
    assert set(symbolic) == set(exact) and symbolic
    assert any(harmonic_symbols_in(v) for v in symbolic.values())
    for key, value in symbolic.items():
        values = {h: exact_harmonic(*nk) for h, nk in harmonic_symbols_in(value).items()}
        assert sp.expand(value.xreplace(values) - exact[key]) == 0, key
    assert emergence_condition(gaussian(3), 20) == {}


def test_equal_diagonal_condition_with_symbolic_harmonics_equals_the_exact_one(monkeypatch):
    """Atoms on the axes with unequal scales fail it: the same coefficients either way."""
    law = Atoms([[1, 0, 0], [0, 2, 0], [0, 0, 3]], ["1/3", "1/3", "1/3"])
    exact = equal_diagonal_condition(law, 30)
    monkeypatch.setattr(positions, "HARMONIC_EXACT_UNTIL", 3)
    symbolic = equal_diagonal_condition(law, 30)
    assert set(symbolic) == set(exact) and symbolic
    for key, value in symbolic.items():
        values = {h: exact_harmonic(*nk) for h, nk in harmonic_symbols_in(value).items()}
        assert sp.expand(value.xreplace(values) - exact[key]) == 0, key


@pytest.mark.parametrize(
    "law",
    [full_one(5), iid(5, {2: 2, 3: 2, 4: 6, 5: 10, 6: 22}), sparse(5), gaussian(5)],
    ids=["full-one", "iid-skewed", "sparse", "gaussian"],  # skewed: x on {-1, 2}, weights 2/3, 1/3
)
def test_an_exchangeable_law_has_the_condition_of_its_marginal(law):
    """At d = 5 the condition over all coordinates (expanded) has the same set of coefficient
    values as the 4-coordinate marginal's that an exchangeable law takes."""
    full = emergence_condition(_not_exchangeable(law), 6)
    reduced = emergence_condition(law, 6)
    assert {sp.expand(v) for v in full.values()} == {sp.expand(v) for v in reduced.values()}
    assert bool(full) == (law.name in ("full-one", "iid"))  # sign-symmetric laws keep the diagonal


@pytest.mark.parametrize(
    "law",
    [gaussian(4), sparse(5), full_one(4), iid(6, {2: 1, 4: 2, 6: 5})],
    ids=["gaussian-4", "sparse-5", "full-one-4", "iid-6"],
)
def test_the_reduced_flow_from_two_coordinates_equals_the_expanded_one(law):
    by_patterns = reduced_flow(law)
    expanded = reduced_flow(_not_exchangeable(law))
    assert by_patterns.flow is None and expanded.flow is not None  # the two routes were taken
    for x, y in [(by_patterns.alpha, expanded.alpha), (by_patterns.beta, expanded.beta)]:
        assert sp.simplify(x - y) == 0
    assert sp.simplify(by_patterns.gamma - expanded.gamma) == 0


def test_the_general_d_gaussian_limit():
    """(T-2)/(sigma^2 (5T + (d-1) H_{T-2} - 10)), the paper's form at d = 5, at d = 1000."""
    T, sigma = sp.Symbol("T", integer=True, positive=True), sp.Symbol("sigma", positive=True)
    expected = (T - 2) / (sigma**2 * (5 * T + 999 * sp.harmonic(T - 2) - 10))
    assert sp.simplify(reduced_flow(gaussian(1000)).ab_star - expected) == 0


def test_the_symmetric_flow_reaches_the_limit_of_the_full_diagonal_flow():
    law, values = gaussian(4), {"T": 40, "sigma": 1}
    symmetric = integrate_flow(law, 0.3, 0.1, values=values, symmetric=True)
    diagonal = integrate_flow(_not_exchangeable(law), 0.3, 0.1, values=values)
    assert symmetric.states.shape[1] == 2 and diagonal.states.shape[1] == 8
    # both stop at relative Newton step ~1e-12 (LSODA, rtol 1e-12): 1e-10 leaves a 100x margin
    np.testing.assert_allclose(symmetric.ab[-1], diagonal.ab[-1], rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="not exchangeable"):
        integrate_flow(_not_exchangeable(law), 0.3, 0.1, values=values, symmetric=True)


def test_a_marginal_keeps_the_laws_moments():
    law = sparse(1000)
    assert marginal(law, 3).moment((2, 0, 0), (0, 0, 0)) == law.moment((2,) + (0,) * 999, (0,) * 1000)
    assert marginal(law, 3).exchangeable and conditions._MARGINAL_D == 4


@pytest.mark.parametrize("law, holds", [(sparse(2), True), (gaussian(2), False)], ids=["sparse", "gaussian"])
def test_recovery_at_a_large_length_is_decided_without_the_exact_harmonic_number(law, holds):
    """The sparse token recovers at every T, the Gaussian one never (Proposition 4.1): the same
    verdicts at T = 10^6 (H_{T-2} a symbol) as at T = 40 (exact)."""
    from mesacheck.symbolic.capability import recovery_condition

    condition = recovery_condition(law)
    assert condition.holds_at(40) == holds and condition.holds_at(10**6) == holds


@pytest.mark.parametrize("d", [50, 1000])
def test_the_symmetric_flow_from_a_equal_minus_b_runs_into_the_saddle(d):
    """On a = -b the flow runs into the strict saddle at the origin; integrated in (a, b) the
    solver's rounding let it escape to p* from d = 50 on (0.0173 at d = 1000, T = 100)."""
    solution = integrate_flow(gaussian(d), -0.1, 0.1, values={"T": 100, "sigma": 1}, symmetric=True)
    # the flow stops at |y| ~ 1e-14 (relative Newton step 1e-13): a b ~ -1e-28; 1e-20 is far
    # below p* ~ 0.02 and far above the stop
    assert abs(solution.ab[-1]) < 1e-20
