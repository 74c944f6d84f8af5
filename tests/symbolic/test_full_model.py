"""The full-parameter engine: its phase counts, its loss against brute-force quadrature, and
the structure it predicts (block invariance, the emergence patterns, the symmetric flow)."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from mesacheck.numeric.full_flow import full_model
from mesacheck.numeric.quadrature import quadrature_loss_and_gradient
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.conditions import (
    emergence_condition,
    emergence_patterns,
    manifold_gradient,
    pattern_violating_law,
)
from mesacheck.symbolic.full_model import (
    LINEAR_SLOTS,
    QUADRATIC_SLOTS,
    phase_counts,
    phase_counts_by_positions,
    set_partition,
)
from mesacheck.symbolic.moments import full_one, gaussian, iid, position, sparse
from tests.strategies import complex_atom_laws

# Hypothesis runs a quarter of the profile's examples here: each d = 3 example is ~2 s.
FEW = max(3, settings().max_examples // 4)


def _brute_force_count(T, partition, blocks, slots, weight_power):
    """sum_t w_t #{(i, j)}: the phases cancel, by direct enumeration of the exponents."""
    total = Fraction(0)
    for t in range(2, T):
        count = 0
        for i, j in itertools.product(range(1, t + 1), repeat=2):
            if weight_power == 1 and j > 1:  # J has no second attended position
                continue
            times = {"i": i, "j": j, "t": t}
            exponents = {}
            ok = True
            for (time, sign), block, label in zip(slots, blocks, partition):
                if time == "target":
                    n = t
                else:
                    if times[time] - 1 - block < 0:  # e_1 has no previous token
                        ok = False
                    n = times[time] - 1 - block
                exponents[label] = exponents.get(label, 0) + sign * n
            count += ok and not any(exponents.values())
        total += Fraction(count, (t - 1) ** weight_power)
    return total


@pytest.mark.parametrize(
    "lengths",
    [
        # the shortest T, the last without a tail (t <= 15), the first with one (t = 16), a long tail
        (3, 16, 17, 61),
        # lengths in between (~1 s each for K, cold): in the slow run (MESACHECK_SLOW=1)
        pytest.param((7, 18, 23), marks=pytest.mark.slow),
    ],
    ids=["edges", "between"],
)
@pytest.mark.parametrize("rho", [position - 1, position], ids=["rho=t-1", "rho=t"])
@pytest.mark.parametrize("kind", ["quadratic", "linear"])
def test_closed_form_in_T_equals_the_sum_over_every_position(kind, rho, lengths):
    """The closed form (a direct head below t = 16, then quadratic counts summed with harmonic
    numbers) against the loop over every position, exactly, on both sides of t = 16."""
    for T in lengths:
        assert phase_counts(T, kind, rho) == phase_counts_by_positions(T, kind, rho), T


@pytest.mark.parametrize("kind", ["quadratic", "linear"])
def test_phase_counts_equal_direct_enumeration(kind):
    T = 6
    slots, power = (QUADRATIC_SLOTS, 2) if kind == "quadratic" else (LINEAR_SLOTS, 1)
    counts = phase_counts(T, kind)
    rng = np.random.default_rng(3)
    n = len(slots)
    keys = {
        (set_partition(rng.integers(0, 3, n)), tuple(int(b) for b in rng.integers(0, 2, n)))
        for _ in range(80)
    }
    for partition, blocks in keys:
        if kind == "linear" and blocks[0]:
            continue
        assert counts.get((partition, blocks), 0) == _brute_force_count(T, partition, blocks, slots, power)


@settings(max_examples=FEW)
@given(d=st.integers(1, 3), T=st.integers(3, 12), data=st.data(), seed=st.integers(0, 2**16))
def test_full_loss_and_gradient_equal_torus_quadrature(d, T, data, seed):
    if d == 3:
        T = min(T, 8)  # the d = 3 grid has (3T - 5)^3 phases; T = 12 runs in the claim, not here
    law = data.draw(complex_atom_laws(d))
    rng = np.random.default_rng(seed)
    W_KQ = rng.normal(size=(2 * d, 2 * d)) + 1j * rng.normal(size=(2 * d, 2 * d))
    W_PV = rng.normal(size=(d, 2 * d)) + 1j * rng.normal(size=(d, 2 * d))
    model = full_model(law, T)
    exact = (model.loss(W_KQ, W_PV), *model.gradient(W_KQ, W_PV))
    brute = quadrature_loss_and_gradient(law, T, W_KQ, W_PV)
    for e, q in zip(exact, brute):
        # rtol: both routes are double-precision sums of <= 1e6 terms (~1e-14); atol for zeros
        np.testing.assert_allclose(e, q, rtol=1e-12, atol=1e-12 * np.max(np.abs(e)))


def test_the_loss_is_block_diagonal_across_phase_degree_classes():
    """K couples z-components only within one total phase degree (block invariance)."""
    d = 2
    K = full_model(gaussian(d), 7, {"sigma": 1}).arrays.K
    n = 2 * d
    degree = np.array([a // d - c // d - b // d for c in range(n) for a in range(n) for b in range(n)])
    assert np.all(K[degree[:, None] != degree[None, :]] == 0)
    assert np.any(K[degree[:, None] == degree[None, :]] != 0)


def test_hessian_by_cancelled_differences_matches_a_finite_difference_estimate():
    model = full_model(gaussian(1), 5, {"sigma": 1})
    y = np.random.default_rng(0).normal(size=12)
    H = model.hessian(y)
    h = 1e-6
    column = (model.real_gradient(y + h * np.eye(12)[0]) - model.real_gradient(y - h * np.eye(12)[0])) / (
        2 * h
    )
    np.testing.assert_allclose(H[:, 0], column, rtol=1e-6, atol=1e-6)  # finite difference error ~h^2


@pytest.mark.parametrize(
    "law", [gaussian(3), sparse(3), iid(3, {2: 1, 4: 2, 6: 5})], ids=["gauss", "sparse", "iid"]
)
def test_sign_symmetric_laws_satisfy_the_emergence_condition(law):
    assert emergence_condition(law, 6) == {}


def test_full_one_violates_the_emergence_condition_on_every_pattern():
    keys = emergence_condition(full_one(3), 6)
    assert keys and all(v != 0 for v in keys.values())


@pytest.mark.parametrize("pattern", [(3, 1), (5, 1), (3, 3), (3, 2, 1)])
def test_each_pattern_is_necessary_a_law_violating_it_alone_breaks_invariance(pattern):
    law = pattern_violating_law(pattern)
    offending = emergence_condition(law, 5)
    assert offending
    assert not emergence_condition(pattern_violating_law((3, 1)), 5) == {}
    assert emergence_patterns(len(pattern), 5)  # the derivation itself


def test_manifold_gradient_matches_the_engine_at_a_random_diagonal_point():
    law, T = full_one(2), 5
    gradient = manifold_gradient(law, T)
    a_values, b_values = [0.3, -0.7], [0.5, 0.2]
    symbols = {f"a_{j + 1}": a_values[j] for j in range(2)} | {f"b_{j + 1}": b_values[j] for j in range(2)}
    model = full_model(law, T)
    W_KQ, W_PV = diagonal_initialization(2, a_values, b_values)
    g_KQ, g_PV = model.gradient(W_KQ, W_PV)
    for name, value in gradient.items():
        matrix = g_KQ if name.startswith("W_KQ") else g_PV
        row, col = (int(v) - 1 for v in name[name.index("[") + 1 : -1].split(","))
        expected = complex(value.subs({s: symbols[s.name] for s in value.free_symbols}))
        assert matrix[row, col] == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_symmetric_stationary_point_is_stationary_for_the_full_engine():
    from mesacheck.symbolic.symmetric_flow import a, a_, b, b_, symmetric_limit, symmetric_stationary_points

    d, T = 3, 8
    (point,) = [p for p in symmetric_stationary_points(full_one(d), T) if p.a != 0]
    limit = {k: float(sp.N(v, 30)) for k, v in symmetric_limit(point, d, 0).items()}
    W_KQ = np.zeros((6, 6), complex)
    W_KQ[3:, :3] = limit[a] * np.eye(3) + limit[a_]
    W_PV = np.zeros((3, 6), complex)
    W_PV[:, :3] = limit[b] * np.eye(3) + limit[b_]
    g_KQ, g_PV = full_model(full_one(d), T).gradient(W_KQ, W_PV)
    assert max(np.abs(g_KQ).max(), np.abs(g_PV).max()) < 1e-12  # rounding of the double evaluation


@pytest.mark.parametrize(
    "moments, message",
    [
        ({2: -1}, "negative"),
        ({2: 2, 4: 1}, "Cauchy-Schwarz"),
        ({2: 1, 4: 1, 6: 0.5}, "Hankel"),
        ({7: 1}, "1..6"),
    ],
)
def test_inconsistent_moments_are_refused(moments, message):
    with pytest.raises(ValueError, match=message):
        iid(2, moments)


def test_real_subspace_is_invariant_exactly_for_real_moments():
    from mesacheck.symbolic.moments import Atoms

    assert full_model(gaussian(2), 5, {"sigma": 1}).real_subspace_invariant
    twisted = Atoms([[1 + sp.I, 2], [sp.I, -1]], ["1/2", "1/2"])
    model = full_model(twisted, 5)
    assert not model.real_subspace_invariant
    # at a real point the complex law's gradient has an imaginary part: real W leave the reals
    W_KQ, W_PV = np.eye(4, dtype=complex), np.ones((2, 4), dtype=complex)
    assert np.max(np.abs(model.gradient(W_KQ, W_PV)[0].imag)) > 1e-3


def test_manifold_gradient_agrees_with_the_lattice_engine_off_the_diagonal():
    """Two symbolic routes: the lattice engine's prediction-block loss (symbolic T, harmonic
    sums) differentiated in A_jk, B_jk, against the phase-count engine at a fixed T."""
    from mesacheck.symbolic.conditions import off_diagonal_gradient
    from mesacheck.symbolic.population_loss import T as T_symbol

    law, T = full_one(2), 7
    old = off_diagonal_gradient(law)
    new = manifold_gradient(law, T)
    names = {"A_12": "W_KQ[3,2]", "A_21": "W_KQ[4,1]", "B_12": "W_PV[1,2]", "B_21": "W_PV[2,1]"}
    for old_name, new_name in names.items():
        lattice = sp.expand(old[old_name].subs(T_symbol, T).doit())
        assert sp.expand(lattice - sp.re(new[new_name])) == 0


def test_sign_symmetry_implies_the_emergence_condition():
    from mesacheck.symbolic.conditions import sign_symmetric

    for law in (gaussian(2), sparse(3), full_one(2), pattern_violating_law((3, 1))):
        assert (not sign_symmetric(law)) or emergence_condition(law, 5) == {}
