"""The exact averages over W for every setting (mesacheck.symbolic.process_counts) against direct
enumeration of every (t, i, j) with the phase law's own moment function."""

import dataclasses
import itertools
import random

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.symbolic.full_model import LINEAR_SLOTS, QUADRATIC_SLOTS, phase_counts, set_partition
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.process_counts import brute_force_count, setting_counts, target_weight
from mesacheck.symbolic.setting import (
    PhaseLaw,
    Setting,
    circle,
    modulus_atoms,
    random_modulus,
    roots_of_unity,
)
from tests.strategies import process_settings


def _sampled_entries(kind: str, count: int, seed: int):
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    n = len(slots)
    partitions = sorted({set_partition(p) for p in itertools.product(range(n), repeat=n)})
    entries = [
        (p, b)
        for p in partitions
        for b in itertools.product((0, 1), repeat=n)
        if not (kind == "linear" and b[0])
    ]
    return random.Random(seed).sample(entries, min(count, len(entries)))


@given(process_settings(gaussian(2, 1)), st.integers(3, 6), st.sampled_from(["quadratic", "linear"]))
def test_counts_equal_direct_enumeration(setting, T, kind):
    counts = setting_counts(setting, T, kind)
    for entry in _sampled_entries(kind, 60, seed=T):
        assert counts.get(entry, 0) == brute_force_count(setting, T, kind, *entry), entry


@pytest.mark.parametrize("kind", ["quadratic", "linear"])
def test_roots_counted_a_residue_class_at_a_time_equal_direct_enumeration(kind):
    """Past 8 N trained positions the roots' counts take every t of a class mod N at once
    (process_counts._roots_counts); T = 28 at N = 3 is the first length that does."""
    setting, T = Setting(gaussian(2, 1), roots_of_unity(3)), 28
    counts = setting_counts(setting, T, kind)
    for entry in _sampled_entries(kind, 12, seed=1):
        assert counts.get(entry, 0) == brute_force_count(setting, T, kind, *entry), entry


def test_paper_process_is_the_closed_form_route():
    """At r = 1, every position, the general enumeration gives the paper's counts (the
    enumeration is exercised by forcing a weight that changes nothing: omega_t = 1 as an
    expression routes around the closed form)."""
    general = setting_counts(Setting(gaussian(2, 1), positions=sp.S.One), 7, "quadratic")
    assert general == phase_counts(7, "quadratic")


def test_roots_of_unity_beyond_every_exponent_equal_the_circle():
    """For N larger than any exponent difference, n = m mod N forces n = m: the unit circle."""
    T = 5
    far = setting_counts(Setting(gaussian(2, 1), roots_of_unity(6 * T + 7)), T, "linear")
    assert far == phase_counts(T, "linear")
    near = setting_counts(Setting(gaussian(2, 1), roots_of_unity(2)), T, "linear")
    assert near != far  # and a small N does change the averages


def test_target_weight_is_a_geometric_sum():
    half = Setting(gaussian(1, 1), circle(sp.Rational(1, 2)))
    # sum_{t=2}^{T-1} (1/4)^t at T = 5: 1/16 + 1/64 + 1/256
    assert target_weight(half, 5) == sp.Rational(21, 256)
    last = Setting(gaussian(1, 1), circle(sp.Rational(1, 2)), positions="last")
    assert target_weight(last, 5) == sp.Rational(1, 256)


def test_a_random_modulus_on_one_radius_is_the_circle():
    """rho = r almost surely, given by its atom or by its moments r^(2k), gives the counts of the
    circle of radius r, though the random-modulus route keeps each class's exponent apart."""
    T = 6
    for kind in ("quadratic", "linear"):
        fixed = setting_counts(Setting(gaussian(2, 1), circle(sp.Rational(1, 2))), T, kind)
        one_atom = Setting(gaussian(2, 1), modulus_atoms({sp.Rational(1, 2): 1}))
        assert setting_counts(one_atom, T, kind) == fixed
        assert setting_counts(Setting(gaussian(2, 1), random_modulus("(1/4)^k")), T, kind) == fixed
    # and a modulus that is not constant changes them (E rho^4 > (E rho^2)^2)
    disk = setting_counts(Setting(gaussian(2, 1), random_modulus("1/(k+1)")), T, "quadratic")
    half = setting_counts(Setting(gaussian(2, 1), random_modulus("(1/2)^k")), T, "quadratic")
    assert disk != half


@pytest.mark.parametrize(
    "moments",
    [
        "2^k",  # E rho^2 > 1: fails at n = 1
        "5/4*(1/2)^k - 1/4*(1/4)^k",  # a negative weight on rho^2 = 1/4: fails first at n = 4
        "1/(k+1) + 1",  # E rho^0 = 2
        "0^k",  # rho = 0 almost surely
    ],
)
def test_moments_no_law_of_the_modulus_has_are_refused(moments):
    with pytest.raises(ValueError):
        random_modulus(moments)


@dataclasses.dataclass(frozen=True)
class _AveragesOnly(PhaseLaw):
    """A law that states its averages and nothing else: the counts enumerate every position."""

    inner: PhaseLaw = None

    def average(self, n: int, m: int) -> sp.Expr:
        return self.inner.average(n, m)

    def describe(self) -> str:
        return f"{self.inner.describe()}, by its averages alone"


@pytest.mark.parametrize(
    "phases",
    [
        roots_of_unity(2),
        roots_of_unity(3),
        circle(sp.Rational(1, 2)),
        modulus_atoms({"1/2": "1/3", "1": "2/3"}),
    ],
    ids=str,
)
@pytest.mark.parametrize("positions", ["all", "last"])
def test_a_law_by_its_averages_alone_counts_as_the_structured_routes(phases, positions):
    by_averages = Setting(gaussian(2), _AveragesOnly(phases), positions=positions)
    structured = Setting(gaussian(2), phases, positions=positions)
    for kind in ("quadratic", "linear"):
        assert setting_counts(by_averages, 5, kind) == setting_counts(structured, 5, kind)
    assert target_weight(by_averages, 5) == target_weight(structured, 5)


@pytest.mark.parametrize("q, N", [(1, 0), ("1/4", 0), ("1/10", 0), (1, 1), (1, 2), (1, 7), (1, 17), (1, 64)])
def test_the_guards_last_fit_position_is_the_fitted_familys(q, N):
    """The cost and size guards read the fit's last position without building the family (its
    integers grow with the bits of |lambda|^2: ~2 s each for r = 1e-300); both must agree."""
    from fractions import Fraction

    from mesacheck.symbolic.process_counts import _Family, _last_fit_position

    assert _last_fit_position(Fraction(q), N) == _Family(Fraction(q), N).last
