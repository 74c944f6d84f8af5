"""The sums over positions in closed form in T (mesacheck.symbolic.position_sums) and the routes
that use them, each against an independent route: the progression sums against their terms
added one by one, the fitted averages over W against the direct sum over every position
(process_counts.setting_counts_by_positions, the former code path), the noise terms' tails
against the finite exact sum (noise_counts._tail_sums), exactly, and the unevaluated numbers
past ~2000 positions against the exact rational at 40 digits."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from mesacheck.symbolic import noise_counts
from mesacheck.symbolic.moments import gaussian, position
from mesacheck.symbolic.position_sums import (
    EXACT_TERMS,
    ProgressionSum,
    _exact_progression,
    as_number,
    numeric_value,
    progression_sum,
    weighted_power_sum,
)
from mesacheck.symbolic.process_counts import (
    exact_power_reach,
    fitted_setting_counts,
    setting_counts_by_positions,
    target_weight,
)
from mesacheck.symbolic.setting import Noise, Setting, circle, roots_of_unity

HALF, NINE_TENTHS = sp.Rational(1, 2), sp.Rational(9, 10)


def _terms(e, x, N, n0, n1) -> Fraction:
    return sum((Fraction(n) ** e * Fraction(x) ** n for n in range(n0, n1 + 1, N)), Fraction(0))


@pytest.mark.parametrize(
    "e, x, N, n0, n1",
    [
        (-2, Fraction(1), 1, 1, 500),
        (-1, Fraction(1), 7, 3, 400),
        (0, Fraction(1), 3, 2, 10**6),  # a polynomial in the number of terms, exact at any length
        (2, Fraction(1), 5, 4, 10**5),
        (-2, Fraction(1, 4), 1, 15, 300),
        (1, Fraction(9, 10), 2, 5, 301),
        (-1, Fraction(2, 3), 3, 1, 1),
    ],
)
def test_progression_sums_equal_their_terms(e, x, N, n0, n1):
    if n1 > 10**4:  # the polynomial route: the terms' sum is the same polynomial, checked at a short length
        short = 10**3 + n0
        assert progression_sum(e, x, N, n0, short) == _terms(e, x, N, n0, short)
        assert isinstance(progression_sum(e, x, N, n0, n1), Fraction)
    else:
        assert progression_sum(e, x, N, n0, n1) == _terms(e, x, N, n0, n1)


@pytest.mark.parametrize(
    "e, x, N, n0",
    [
        (-2, Fraction(1), 1, 15),
        (-1, Fraction(1), 7, 3),
        (-1, Fraction(1, 4), 1, 15),
        (1, Fraction(1, 64), 2, 16),
    ],
)
def test_unevaluated_progression_sums_equal_the_exact_rational_at_40_digits(e, x, N, n0):
    n1 = n0 + N * (EXACT_TERMS + 100)  # past the exact length: unevaluated
    value = progression_sum(e, x, N, n0, n1)
    assert isinstance(value, ProgressionSum)
    # the exact rational by binary splitting (equal to the terms one by one: the test above)
    exact = _exact_progression(e, x, N, n0, EXACT_TERMS + 101)
    with mpmath.workdps(50):
        exact_mpf = mpmath.mpf(exact.numerator) / exact.denominator
        # mpmath at 50 digits (zeta, digamma, the series) against the rational: 1e-40 relative
        assert abs(mpmath.mpf(str(value.evalf(45))) - exact_mpf) <= mpmath.mpf(10) ** -40 * abs(exact_mpf)
    assert numeric_value(3 * value + 1) == pytest.approx(float(3 * exact + 1), rel=1e-15, abs=0)


def test_weighted_power_sums_equal_their_terms():
    for a, x, N, residue, c, p in [
        (2, Fraction(1), 1, 0, 1, 2),
        (1, Fraction(1, 3), 1, 0, 0, 1),
        (2, Fraction(1), 4, 3, 1, 1),
    ]:
        low, high = 16, 200
        direct = sum(
            (
                Fraction(t) ** a * x**t / Fraction(t - c) ** p
                for t in range(low, high + 1)
                if t % N == residue
            ),
            Fraction(0),
        )
        assert as_number(weighted_power_sum(a, x, N, residue, c, p, low, high)) == direct


# the fitted route against the direct sum over positions, exactly; T past each family's last
# check position (circle 29, roots:7 50), so that the fit and the closed-form tail are both used
FITTED = [
    (Setting(gaussian(2, 1), circle(HALF)), 32, "quadratic"),
    (Setting(gaussian(2, 1), roots_of_unity(3), positions="last"), 45, "linear"),
    (Setting(gaussian(2, 1), circle(NINE_TENTHS), rho=position), 40, "linear"),
    (Setting(gaussian(2, 1), circle(NINE_TENTHS), positions="last"), 40, "linear"),
    (Setting(gaussian(2, 1), roots_of_unity(7)), 60, "linear"),
    (Setting(gaussian(2, 1), roots_of_unity(2)), 40, "linear"),
    (Setting(gaussian(2, 1), positions="last"), 40, "linear"),
]


@pytest.mark.parametrize(
    "setting, T, kind", FITTED, ids=lambda v: getattr(v, "describe", lambda: str(v))()[-30:]
)
def test_fitted_counts_equal_the_direct_sum_over_positions(setting, T, kind):
    fitted = fitted_setting_counts(setting, T, kind)
    assert fitted is not None
    assert fitted == setting_counts_by_positions(setting, T, kind)


@pytest.mark.slow
@pytest.mark.parametrize("N", [2, 3, 5, 7, 11])
@pytest.mark.parametrize("positions", ["all", "last"])
def test_fitted_counts_of_K_equal_the_direct_sum_for_more_laws(N, positions):
    for phases in (roots_of_unity(N), circle(sp.Rational(1, N))):
        setting = Setting(gaussian(2, 1), phases, positions=positions)
        T = 5 * N + 52
        assert fitted_setting_counts(setting, T, "quadratic") == setting_counts_by_positions(
            setting, T, "quadratic"
        )


def test_fitted_counts_past_the_exact_length_agree_with_the_direct_sum():
    """T = 2100: the tails hold unevaluated progression sums (here harmonic numbers, the paper's
    process with rho_t = t); each count at 50 digits against the direct exact sum (J: 95 systems)."""
    setting, T = Setting(gaussian(2, 1), rho=position), 2100
    fitted = fitted_setting_counts(setting, T, "linear")
    direct = setting_counts_by_positions(setting, T, "linear")
    assert set(fitted) == set(direct)
    assert any(isinstance(v, sp.Expr) and v.has(ProgressionSum) for v in fitted.values())
    for key, exact in direct.items():
        # the numeric value is formed at 50 digits: the double's rounding, 2^-52 relative
        assert numeric_value(fitted[key]) == pytest.approx(float(exact), rel=4e-16, abs=0)


def test_the_fitted_route_takes_its_powers_exactly_only_up_to_its_fit():
    setting = Setting(gaussian(2, 1), circle(HALF))
    assert exact_power_reach(setting, 10**6) < 100
    assert exact_power_reach(Setting(gaussian(2, 1), circle(HALF), rho=position**2), 10**6) == 10**6


@pytest.mark.parametrize("positions", ["all", "last"])
@pytest.mark.parametrize("radius", [sp.S.One, HALF])
def test_target_weights_equal_their_sums(positions, radius):
    setting = Setting(gaussian(1, 1), circle(radius), Noise("complex", HALF), positions=positions)
    q = setting.phases.modulus_squared
    weights = setting.position_weights(60)
    assert target_weight(setting, 60) == sum((w * q**t for t, w in weights.items()), Fraction(0))
    walk = sum((w * (t if q == 1 else (1 - q**t) / (1 - q)) for t, w in weights.items()), Fraction(0))
    assert noise_counts.noise_target_weight(setting, 60) == walk


@pytest.mark.parametrize(
    "setting",
    [
        Setting(gaussian(1, 1), noise=Noise("complex", HALF)),
        Setting(gaussian(1, 1), roots_of_unity(2), Noise("real", HALF)),
        Setting(gaussian(1, 1), roots_of_unity(3), Noise("complex", HALF), positions="last"),
        Setting(gaussian(1, 1), noise=Noise("complex", HALF), rho=position),
    ],
    ids=["complex", "real-roots2", "roots3-last", "rho-t"],
)
@pytest.mark.parametrize("power", [1, 2])
def test_noise_tails_in_closed_form_equal_the_finite_sum(setting, power):
    """The Newton coefficients' position sums (noise_counts._progression_tails) against the
    finite exact sum over every trained position (noise_counts._tail_sums)."""
    T = 300
    for period in (1, 2, 6):
        closed = noise_counts._progression_tails(setting, T, period, power)
        weights = setting.loss_weights(T, power)
        finite = noise_counts._tail_sums(setting, T, weights, period, power)  # T < 400: the finite sum
        assert [[as_number(cell) for cell in row] for row in closed] == finite


def test_the_cost_guard_estimates_the_closed_forms_and_still_refuses_what_grows():
    """The guard's estimate (no derivation run): the fitted settings cost the same at every T,
    under the guard's limit; a random modulus and noise under a contraction still grow like T^2."""
    from mesacheck.proofs_check.costs import MAX_SECONDS, exact_averages_cost
    from mesacheck.symbolic.setting import random_modulus

    law = gaussian(5, 1)
    for setting in (
        Setting(law, circle(HALF)),
        Setting(law, roots_of_unity(7)),
        Setting(law, positions="last"),
        Setting(law, noise=Noise("complex", HALF)),
    ):
        near, far = exact_averages_cost(100, setting), exact_averages_cost(10**6, setting)
        assert near.seconds == far.seconds < 30
    for setting in (
        Setting(law, random_modulus("1/(k+1)")),
        Setting(law, circle(HALF), Noise("complex", HALF)),
    ):
        assert exact_averages_cost(10**5, setting).seconds > MAX_SECONDS


@pytest.mark.slow
def test_the_full_flow_at_a_billion_positions_reaches_the_closed_form():
    """`flow --full` in the paper's process at T = 10^9 (its counts in closed form in T) against
    lim ab = (T-2)/(5T + (d-1) H_{T-2} - 10) at 30 digits: the flow stops at |grad L| ~ 1e-11."""
    import json

    from click.testing import CliRunner

    from mesacheck.proofs_check.cli import main

    T = 10**9
    result = CliRunner().invoke(main, ["flow", "--full", "--d", "2", "--T", str(T), "--json"])
    assert result.exit_code == 0, result.output
    with mpmath.workdps(30):
        exact = (T - 2) / (5 * T + mpmath.harmonic(T - 2) - 10)
    # the flow's stopping rule leaves ~1e-13 relative (RESULTS: 1e-13 at the paper's T)
    assert json.loads(result.output)["ab"] == pytest.approx(float(exact), rel=1e-11, abs=0)


@pytest.mark.parametrize("e", [pytest.param(-2, marks=pytest.mark.slow), 1])
def test_the_lerch_route_near_x_1_equals_the_terms_summed_in_mpmath(e, monkeypatch):
    """x = 1 - 10^-6: past the series' reach (here lowered to 100 terms) the Lerch transcendent
    gives the sum; against the terms added one by one at 40 digits."""
    from mesacheck.symbolic import position_sums

    monkeypatch.setattr(position_sums, "_SERIES_TERMS", 100)
    x, N, n0, n1 = Fraction(999999, 10**6), 3, 15, 3015
    with mpmath.workdps(40):
        X, direct, power = mpmath.mpf(x.numerator) / x.denominator, mpmath.mpf(0), None
        for n in range(n0, n1 + 1, N):
            power = X**n if power is None else power * X**N
            direct += mpmath.mpf(n) ** e * power
        value = position_sums.progression_sum_value(e, x, N, n0, n1)
        assert abs(value - direct) <= mpmath.mpf(10) ** -30 * abs(direct)
