"""The finite-sample simulator: its gradient, its data, its options."""

import numpy as np
import pytest

from numeric.simulate import (
    loss_and_gradient,
    prediction_blocks,
    sample_sequences,
    simulate_training,
)
from symbolic.moments import Atoms, full_one, gaussian, sparse


def test_gradient_matches_central_differences_in_real_and_imaginary_parts():
    rng = np.random.default_rng(1)
    X = sample_sequences(gaussian(2, 1), 7, 40, rng)
    W_KQ = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    W_PV = rng.standard_normal((2, 4)) + 1j * rng.standard_normal((2, 4))
    _, g_KQ, g_PV = loss_and_gradient(W_KQ, W_PV, X)
    h = 1e-6
    for which, gradient in ((0, g_KQ), (1, g_PV)):
        for index in [(0, 1), (1, 0)]:
            for unit, part in ((1.0, np.real), (1j, np.imag)):
                matrices = [W_KQ.copy(), W_PV.copy()]
                matrices[which][index] += h * unit
                up = loss_and_gradient(*matrices, X)[0]
                matrices[which][index] -= 2 * h * unit
                down = loss_and_gradient(*matrices, X)[0]
                # central differences: truncation O(h^2) ~ 1e-12, rounding ~ eps L / h ~ 1e-8
                np.testing.assert_allclose((up - down) / (2 * h), part(gradient[index]), rtol=1e-6, atol=1e-6)


def test_sequences_follow_the_unitary_process():
    rng = np.random.default_rng(2)
    X = sample_sequences(sparse(3, 2), 6, 50, rng)
    ratio = X[:, 1:] / np.where(X[:, :-1] == 0, 1, X[:, :-1])
    active = X[:, 0] != 0
    np.testing.assert_allclose(
        np.abs(ratio[:, :, :][np.broadcast_to(active[:, None, :], ratio.shape)]), 1.0, rtol=1e-13, atol=0
    )
    # one coordinate of each sparse token is +-c, the others 0
    assert np.all(np.sum(active, axis=1) == 1)
    np.testing.assert_allclose(np.abs(X[:, 0][active]), 2.0, rtol=0, atol=0)


def test_atoms_are_sampled_with_their_weights():
    rng = np.random.default_rng(3)
    law = Atoms([[1, 0], [0, 1]], ["1/4", "3/4"])
    X = sample_sequences(law, 3, 40_000, rng)
    share = np.mean(np.abs(X[:, 0, 0]) > 0)
    assert abs(share - 0.25) < 5 * np.sqrt(0.25 * 0.75 / 40_000)


def test_training_is_deterministic_for_a_seed():
    kwargs = dict(T=8, a0=0.1, b0=0.1, eta=1e-2, steps=5, m=50, m_test=20, seed=4, log_every=1)
    one = simulate_training(gaussian(2, 1), **kwargs)
    two = simulate_training(gaussian(2, 1), **kwargs)
    np.testing.assert_array_equal(one.ab, two.ab)
    np.testing.assert_array_equal(one.W_KQ, two.W_KQ)


def test_masking_keeps_the_off_diagonal_entries_of_the_prediction_blocks_at_zero():
    run = simulate_training(full_one(3), T=8, a0=0.2, b0=0.2, eta=1e-2, steps=20, m=30, m_test=10, mask=True)
    for block in prediction_blocks(run.W_KQ, run.W_PV):
        assert np.all(block[~np.eye(3, dtype=bool)] == 0)
    unmasked = simulate_training(full_one(3), T=8, a0=0.2, b0=0.2, eta=1e-2, steps=20, m=30, m_test=10)
    A, _ = prediction_blocks(unmasked.W_KQ, unmasked.W_PV)
    assert np.max(np.abs(A[~np.eye(3, dtype=bool)])) > 1e-3  # full-one moves them: the condition fails


def test_the_logged_ab_is_the_mean_diagonal_product():
    run = simulate_training(gaussian(2, 1), T=5, a0=0.3, b0=-0.5, eta=1e-3, steps=0, m=10, m_test=10)
    assert run.ab[0] == pytest.approx(-0.15, rel=1e-15)


@pytest.mark.parametrize("bad", [dict(T=2), dict(eta=0.0), dict(eta=float("nan")), dict(m=0), dict(steps=-1)])
def test_bad_settings_raise(bad):
    kwargs = dict(T=5, a0=0.1, b0=0.1, eta=1e-3, steps=1, m=10, m_test=10) | bad
    with pytest.raises(ValueError):
        simulate_training(gaussian(2, 1), **kwargs)


def test_a_symbolic_scale_cannot_be_sampled():
    with pytest.raises(ValueError, match="numeric values"):
        sample_sequences(gaussian(2), 5, 3, np.random.default_rng(0))
