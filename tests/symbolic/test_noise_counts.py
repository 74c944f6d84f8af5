"""The exact averages over additive noise (symbolic.noise_counts) against direct enumeration:
every (t, i, j), every time u of every noise slot, the phase law's own average of exponents
that still contain the u's, and the Gaussian moments grouped by time. The enumeration does not
use the pairing argument (u cancels from the phase) that the engine rests on."""

import itertools
import random
import zlib

import pytest
import sympy as sp

from symbolic.full_model import LINEAR_SLOTS, QUADRATIC_SLOTS
from symbolic.moments import gaussian
from symbolic.noise_counts import brute_force_noise_count, noise_counts, noise_target_weight
from symbolic.process_counts import _entries
from symbolic.setting import Noise, Setting, circle, roots_of_unity

SETTINGS = {
    "complex": Setting(gaussian(2, 1), noise=Noise("complex", 1)),
    "complex-roots:3": Setting(gaussian(2, 1), roots_of_unity(3), noise=Noise("complex", 1)),
    "real-roots:2": Setting(gaussian(2, 1), roots_of_unity(2), noise=Noise("real", 1)),
    "complex-last": Setting(gaussian(2, 1), noise=Noise("complex", 1), positions="last"),
}


def _cases(kind: str, count: int, seed: int):
    """Random (entry, noise slots) pairs, zero or not: the engine must also leave out exactly
    the terms that vanish."""
    n = len(QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS)
    entries = [(p, b) for p, b, *_ in _entries(kind)]
    rng = random.Random(seed)
    subsets = [nu for size in (2, 4) for nu in itertools.combinations(range(n), size)]
    return [(rng.choice(entries), rng.choice(subsets)) for _ in range(count)]


@pytest.mark.parametrize("name", SETTINGS)
@pytest.mark.parametrize("kind", ["linear", "quadratic"])
def test_noise_terms_equal_direct_enumeration(name, kind):
    setting, T = SETTINGS[name], 5
    counts = noise_counts(setting, T, kind)
    for entry, nu in _cases(kind, 40, seed=zlib.crc32(f"{name}/{kind}".encode())):
        expected = brute_force_noise_count(setting, T, kind, *entry, nu)
        assert counts.get(entry, {}).get(nu, 0) == expected, (entry, nu)


def test_the_fitted_polynomial_past_t_16_equals_enumeration():
    """At T = 26 the sum over t >= 16 comes from the polynomial fitted on t = 16..24: J's
    two-slot noise terms (cheap to enumerate) must still agree exactly."""
    setting, T = SETTINGS["complex"], 26
    counts = noise_counts(setting, T, "linear")
    terms = [(entry, nu) for entry, cells in counts.items() for nu in cells if len(nu) == 2]
    assert terms
    for entry, nu in terms:
        assert counts[entry][nu] == brute_force_noise_count(setting, T, "linear", *entry, nu)


def test_target_noise_weight_is_the_random_walk_variance():
    """E|x_{t+1} - lambda^t x_1|^2 = s^2 t on |lambda| = 1: sum_t t over t = 2..T-1."""
    assert noise_target_weight(SETTINGS["complex"], 6) == 2 + 3 + 4 + 5
    assert noise_target_weight(SETTINGS["complex-last"], 6) == 5


def test_underived_noisy_settings_are_refused():
    with pytest.raises(NotImplementedError, match=r"\|lambda\| = 1"):
        noise_counts(Setting(gaussian(1), circle(sp.Rational(9, 10)), Noise("complex", 1)), 5, "linear")
    with pytest.raises(NotImplementedError, match="real phases"):
        noise_counts(Setting(gaussian(1), noise=Noise("real", 1)), 5, "linear")
