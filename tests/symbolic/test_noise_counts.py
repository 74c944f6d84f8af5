"""The exact averages over additive noise (mesacheck.symbolic.noise_counts) against direct enumeration:
every (t, i, j), every time u of every noise slot, the phase law's own average of exponents
that still contain the u's, and the Gaussian moments grouped by time. The enumeration does not
use the pairing argument (u cancels from the phase) that the engine rests on."""

import itertools
import random
import zlib

import pytest
import sympy as sp

from mesacheck.symbolic.full_model import LINEAR_SLOTS, QUADRATIC_SLOTS
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.noise_counts import (
    brute_force_noise_count,
    noise_counts,
    noise_target_weight,
    noise_weights,
)
from mesacheck.symbolic.setting import Noise, Setting, circle, roots_of_unity
from mesacheck.symbolic.slots import entries as _entries

SETTINGS = {
    "complex": Setting(gaussian(2, 1), noise=Noise("complex", 1)),
    "complex-roots:3": Setting(gaussian(2, 1), roots_of_unity(3), noise=Noise("complex", 1)),
    "real-roots:2": Setting(gaussian(2, 1), roots_of_unity(2), noise=Noise("real", 1)),
    # real noise with complex phases: an unbalanced block's time u enters its class's phase
    "real": Setting(gaussian(2, 1), noise=Noise("real", 1)),
    "real-moments-roots:3-last": Setting(
        gaussian(2, 1), roots_of_unity(3), Noise("real", moments=(1, 3, 12)), positions="last"
    ),
    "complex-last": Setting(gaussian(2, 1), noise=Noise("complex", 1), positions="last"),
    # laws given by their moments: blocks of 4 and 6 noise factors at one time count too
    "complex-moments": Setting(gaussian(2, 1), noise=Noise("complex", moments=(1, 3, 12))),
    "rademacher-roots:2": Setting(gaussian(2, 1), roots_of_unity(2), Noise("real", moments=(1, 1, 1))),
    # contraction: the modulus of a block depends on its noise time u (a geometric sum in r)
    "complex-r=1/2": Setting(gaussian(2, 1), circle(sp.Rational(1, 2)), Noise("complex", 1)),
    "complex-r=9/10": Setting(gaussian(2, 1), circle(sp.Rational(9, 10)), Noise("complex", 1)),
    "complex-moments-r=1/2": Setting(
        gaussian(2, 1), circle(sp.Rational(1, 2)), Noise("complex", moments=(1, 3, 12))
    ),
    "complex-moments-r=9/10-last": Setting(
        gaussian(2, 1), circle(sp.Rational(9, 10)), Noise("complex", moments=(1, 3, 12)), positions="last"
    ),
}
CONTRACTED = [name for name in SETTINGS if "r=" in name]


def _cases(kind: str, count: int, seed: int):
    """Random (entry, noise slots) pairs, zero or not: the engine must also leave out exactly
    the terms that vanish."""
    n = len(QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS)
    entries = [(p, b) for p, b, *_ in _entries(kind)]
    rng = random.Random(seed)
    subsets = [nu for size in (2, 4) for nu in itertools.combinations(range(n), size)]
    return [(rng.choice(entries), rng.choice(subsets)) for _ in range(count)]


# real noise with complex phases has ~85000 noise structures for K (every pairing, balanced or
# not): ~25 s cold per law of the noise; the moment-given one's K runs in the slow profile
_SLOW = {("real-moments-roots:3-last", "quadratic")}


@pytest.mark.parametrize(
    "name, kind",
    [
        pytest.param(name, kind, marks=[pytest.mark.slow] if (name, kind) in _SLOW else [])
        for name in SETTINGS
        for kind in ("linear", "quadratic")
    ],
)
def test_noise_terms_equal_direct_enumeration(name, kind):
    setting, T = SETTINGS[name], 5
    counts = noise_counts(setting, T, kind)
    for entry, nu in _cases(kind, 40, seed=zlib.crc32(f"{name}/{kind}".encode())):
        expected = brute_force_noise_count(setting, T, kind, *entry, nu)
        assert noise_weights(setting.noise, counts.get(entry, {})).get(nu, 0) == expected, (entry, nu)


@pytest.mark.parametrize("name", CONTRACTED)
@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_contracted_noise_terms_that_do_not_vanish_equal_direct_enumeration(name, kind):
    """Random cases are mostly terms that vanish; here every non-zero term of J and a sample of
    K's (2, 4 and 6 noise slots: pairs, and blocks of 4 and 6 for noise given by moments), at
    T = 6 so that the geometric sums over u have up to 5 terms."""
    setting, T = SETTINGS[name], 6
    counts = noise_counts(setting, T, kind)
    by_size: dict = {}
    for entry, cells in counts.items():
        for nu, _ in cells:
            by_size.setdefault(len(nu), set()).add((entry, nu))
    assert set(by_size) == ({2, 4} if kind == "linear" else {2, 4, 6})
    rng = random.Random(zlib.crc32(f"{name}/{kind}/nonzero".encode()))
    terms = [
        term
        for size in sorted(by_size)
        for term in rng.sample(sorted(by_size[size]), min(len(by_size[size]), 8))
    ]
    for entry, nu in terms:
        expected = brute_force_noise_count(setting, T, kind, *entry, nu)
        assert noise_weights(setting.noise, counts[entry])[nu] == expected, (entry, nu)


def test_contracted_target_noise_weight_is_a_geometric_sum():
    """E|x_{t+1} - lambda^t x_1|^2 = s^2 sum_{u=1}^t r^(2(t-u)): at r = 1/2, T = 5, t = 2..4."""
    q = sp.Rational(1, 4)
    expected = sum(q ** (t - u) for t in range(2, 5) for u in range(1, t + 1))
    assert noise_target_weight(SETTINGS["complex-r=1/2"], 5) == expected
    assert noise_target_weight(SETTINGS["complex-moments-r=9/10-last"], 5) == sum(
        sp.Rational(81, 100) ** (4 - u) for u in range(1, 5)
    )


@pytest.mark.parametrize(
    "name, T, checked",
    [
        # the polynomial fitted on t = 16..24; each term takes ~1 s to enumerate at T = 26: three of
        # the six by default, the other three in the slow run
        ("complex", 26, slice(0, 3)),
        pytest.param("complex", 26, slice(3, 6), marks=pytest.mark.slow),
        # period 2 (an unbalanced pair's time solves 2u = E): fitted on t = 16..33. Each term takes
        # ~2-5 s to enumerate at T = 35: one of the six by default, the other five in the slow run
        ("real", 35, slice(0, 1)),
        pytest.param("real", 35, slice(1, 6), marks=pytest.mark.slow),
    ],
    ids=["complex-26", "complex-26-more-terms", "real-35", "real-35-more-terms"],
)
def test_the_fitted_polynomial_past_t_16_equals_enumeration(name, T, checked):
    """Past the fit the sum over t >= 16 comes from the (quasi-)polynomial fitted on a grid: J's
    two-slot noise terms (6 of them, sampled; ``checked`` picks which this case enumerates) must
    still agree exactly."""
    setting = SETTINGS[name]
    counts = noise_counts(setting, T, "linear")
    terms = sorted((entry, nu) for entry, cells in counts.items() for nu, _ in cells if len(nu) == 2)
    assert terms
    for entry, nu in random.Random(T).sample(terms, min(6, len(terms)))[checked]:
        expected = brute_force_noise_count(setting, T, "linear", *entry, nu)
        assert noise_weights(setting.noise, counts[entry])[nu] == expected


def test_target_noise_weight_is_the_random_walk_variance():
    """E|x_{t+1} - lambda^t x_1|^2 = s^2 t on |lambda| = 1: sum_t t over t = 2..T-1."""
    assert noise_target_weight(SETTINGS["complex"], 6) == 2 + 3 + 4 + 5
    assert noise_target_weight(SETTINGS["complex-last"], 6) == 5


def test_underived_noisy_settings_are_refused():
    """Real noise under a contraction, and any noise under a random modulus."""
    from mesacheck.symbolic.setting import random_modulus

    with pytest.raises(NotImplementedError, match="contraction"):
        noise_counts(Setting(gaussian(1), circle(sp.Rational(9, 10)), Noise("real", 1)), 5, "linear")
    with pytest.raises(NotImplementedError, match="random modulus"):
        noise_counts(Setting(gaussian(1), random_modulus("1/(k+1)"), Noise("complex", 1)), 5, "linear")


def test_contraction_with_noise_past_its_length_is_refused_before_any_work():
    with pytest.raises(NotImplementedError, match="T <= 200"):
        noise_counts(SETTINGS["complex-r=1/2"], 1000, "quadratic")


def test_moments_that_no_law_has_are_refused():
    with pytest.raises(ValueError, match="no real noise has moments"):
        Noise("real", moments=(1, sp.Rational(1, 2), 1))  # E xi^4 < (E xi^2)^2
    with pytest.raises(ValueError, match="no complex noise"):
        Noise("complex", moments=(1, 2, 3))  # m_2 m_6 < m_4^2
    with pytest.raises(ValueError, match="constant"):
        Noise("complex", moments=(1, 1, 2))  # m_4 = m_2^2 makes |xi|^2 = 1, so m_6 = 1
    with pytest.raises(ValueError, match="no real noise"):
        Noise("real", moments=(0, 0, 5))


def test_moments_stay_the_exact_numbers_given():
    """Never nsimplify: a plain rational must not turn into a surd, nor 2.0000000001 into 2."""
    noise = Noise("complex", moments=(sp.Rational(733776813, 10737418240), 1, 20))
    assert noise.moments[0] == sp.Rational(733776813, 10737418240)
    assert Noise("real", moments=(2.0000000001, 5, 13)).moments[0] == sp.Rational("2.0000000001")


def test_gaussian_moments_give_the_gaussian_terms():
    """The cumulant route with the Gaussian's own moments (1, 2, 6) (blocks of 4 and 6 weigh 0)
    equals the pairs-only route of scale 1."""
    by_moments = Setting(gaussian(2, 1), noise=Noise("complex", moments=(1, 2, 6)))
    counts_m, counts_g = (
        noise_counts(by_moments, 5, "quadratic"),
        noise_counts(SETTINGS["complex"], 5, "quadratic"),
    )
    for entry in set(counts_m) | set(counts_g):
        weights_m = {nu: w for nu, w in noise_weights(by_moments.noise, counts_m.get(entry, {})).items() if w}
        weights_g = noise_weights(SETTINGS["complex"].noise, counts_g.get(entry, {}))
        assert weights_m == weights_g, entry
