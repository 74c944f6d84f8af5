"""The finite-sample simulator: its gradient, its data, its options."""

import numpy as np
import pytest

import mesacheck.numeric.model as model
from mesacheck.numeric.simulate import (
    loss_and_gradient,
    prediction_blocks,
    sample_sequences,
    simulate_training,
)
from mesacheck.symbolic.moments import Atoms, full_one, gaussian, sparse


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


def _reference_loss_and_gradient(W_KQ, W_PV, X, weights, rho, omega):
    """The module docstring's definition, one sequence and one position at a time: e_i =
    (x_i, x_{i-1}) with x_0 = 0, y_t = W^PV (sum_{i<=t} e_i e_i^H) W^KQ e_t / rho_t, loss sum_s
    weights_s sum_{t=2}^{T-1} omega_t 1/2 |y_t - x_{t+1}|^2, and its gradient 2 dL/d conj(W)
    by the chain rule (the Gram matrix is Hermitian)."""
    m, T, d = X.shape
    loss, g_KQ, g_PV = 0.0, np.zeros_like(W_KQ), np.zeros_like(W_PV)
    for s in range(m):
        x = np.vstack([np.zeros(d), X[s]])  # x[i] = x_i, i = 0..T
        e = [None] + [np.concatenate([x[i], x[i - 1]]) for i in range(1, T + 1)]
        for t in range(2, T):
            G = sum(np.outer(e[i], e[i].conj()) for i in range(1, t + 1))
            w = G @ W_KQ @ e[t]
            r = W_PV @ w / rho[t - 2] - x[t + 1]
            c = weights[s] * omega[t - 2]
            loss += c * 0.5 * np.vdot(r, r).real
            g_PV += c * np.outer(r, w.conj()) / rho[t - 2]
            g_KQ += c * np.outer(G @ W_PV.conj().T @ r, e[t].conj()) / rho[t - 2]
    return loss, g_KQ, g_PV


def _random_problem(d, T, m, seed):
    rng = np.random.default_rng(seed)
    X = sample_sequences(gaussian(d, 1), T, m, rng)
    W_KQ = rng.standard_normal((2 * d, 2 * d)) + 1j * rng.standard_normal((2 * d, 2 * d))
    W_PV = rng.standard_normal((d, 2 * d)) + 1j * rng.standard_normal((d, 2 * d))
    rho = rng.uniform(0.5, 3.0, T - 2)
    omega = rng.uniform(0.0, 2.0, T - 2)
    omega[1] = 0.0  # a position left out of the loss, as with Setting(positions=...)
    return X, W_KQ, W_PV, rho, omega


@pytest.mark.parametrize("route", ["attention scores", "direct", "kept Gram matrices", "moments"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_loss_and_gradient_equal_a_loop_over_the_definition(route, d, monkeypatch):
    X, W_KQ, W_PV, rho, omega = _random_problem(d, 6, 7, seed=d)
    weights = np.full(len(X), 1.0 / len(X))
    monkeypatch.setattr(model, "_scores_pay", lambda T, d: route == "attention scores")
    prepared = {
        "attention scores": None,
        "direct": None,
        "kept Gram matrices": model._grams(X),
        "moments": model._moments(X, rho=rho, omega=omega),
    }[route]
    loss, g_KQ, g_PV = loss_and_gradient(W_KQ, W_PV, X, prepared=prepared, rho=rho, omega=omega)
    reference = _reference_loss_and_gradient(W_KQ, W_PV, X, weights, rho, omega)
    # Both sides add ~m T (2d)^4 products of O(1) numbers in another order: rounding ~1e-15
    # relative to the largest term. The moments route subtracts the cubic from the quartic
    # term, each at most ~10x the loss here; 1e-11 leaves a ~1000x margin. atol for entries
    # that vanish up to rounding, at the gradient's scale.
    np.testing.assert_allclose(loss, reference[0], rtol=1e-11, atol=0)
    for ours, theirs in zip((g_KQ, g_PV), reference[1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-11 * np.max(np.abs(theirs)))


def test_weighted_loss_and_gradient_equal_a_loop_over_the_definition():
    X, W_KQ, W_PV, rho, omega = _random_problem(2, 5, 6, seed=7)
    weights = np.random.default_rng(8).dirichlet(np.ones(len(X)))
    ours = loss_and_gradient(W_KQ, W_PV, X, weights, rho=rho, omega=omega)
    reference = _reference_loss_and_gradient(W_KQ, W_PV, X, weights, rho, omega)
    for one, two in zip(ours, reference):  # tolerances as above
        np.testing.assert_allclose(one, two, rtol=1e-11, atol=1e-11 * np.max(np.abs(two)))
    with pytest.raises(ValueError, match="no weights"):
        loss_and_gradient(W_KQ, W_PV, X, weights, prepared=model._moments(X), rho=rho, omega=omega)


def test_the_moments_gradient_matches_central_differences_of_the_loop():
    X, W_KQ, W_PV, rho, omega = _random_problem(2, 5, 4, seed=9)
    weights = np.full(len(X), 1.0 / len(X))
    _, g_KQ, g_PV = loss_and_gradient(W_KQ, W_PV, X, prepared=model._moments(X, rho, omega))
    h = 1e-6
    for which, gradient in ((0, g_KQ), (1, g_PV)):
        for index in np.ndindex(gradient.shape):
            for unit, part in ((1.0, np.real), (1j, np.imag)):
                matrices = [W_KQ.copy(), W_PV.copy()]
                matrices[which][index] += h * unit
                up = _reference_loss_and_gradient(*matrices, X, weights, rho, omega)[0]
                matrices[which][index] -= 2 * h * unit
                down = _reference_loss_and_gradient(*matrices, X, weights, rho, omega)[0]
                # central differences: truncation O(h^2) ~ 1e-11, rounding ~ eps L / h ~ 1e-9
                np.testing.assert_allclose((up - down) / (2 * h), part(gradient[index]), rtol=1e-6, atol=1e-6)


def test_training_takes_the_moments_only_where_they_cost_less():
    assert model._takes_moments(2000, 20, 3, 150)  # the check's finite-sample claims
    assert not model._takes_moments(2000, 20, 3, 0)  # one evaluation: the direct step
    assert not model._takes_moments(10, 100, 5, 150)  # too few rows to repay (2d)^6 a step
    assert not model._takes_moments(1000, 20, 6, 10**6)  # (2d)^6 moments over the budget


@pytest.mark.parametrize("mask", [False, True])
def test_training_is_the_same_by_either_route(monkeypatch, mask):
    kwargs = dict(T=8, a0=0.2, b0=0.2, eta=1e-2, steps=40, m=60, m_test=20, seed=5, log_every=10, mask=mask)
    runs = {}
    for moments in (False, True):
        monkeypatch.setattr(model, "_takes_moments", lambda *_, moments=moments: moments)
        runs[moments] = simulate_training(gaussian(2, 1), **kwargs)
    # 41 steps, each rounding the gradient differently (~1e-15 relative): the parameters
    # drift apart by ~steps * 1e-15; 1e-11 leaves a 100x margin
    for name in ("ab", "train_loss", "test_loss", "ratio", "W_KQ", "W_PV"):
        one, two = getattr(runs[True], name), getattr(runs[False], name)
        np.testing.assert_allclose(one, two, rtol=1e-11, atol=1e-13)
    assert abs(runs[True].ab[-1] - runs[True].ab[0]) > 1e-2  # the runs moved


def test_the_moments_are_left_out_where_their_degree_6_nears_the_range_of_doubles():
    X = sample_sequences(gaussian(1, 1), 20, 2000, np.random.default_rng(0))
    assert isinstance(model.prepare(X, steps=10**4), model._Moments)
    assert not isinstance(model.prepare(1e50 * X, steps=10**4), model._Moments)


def test_the_moments_of_one_sample_are_computed_once_and_of_another_anew():
    X = sample_sequences(gaussian(1, 1), 20, 500, np.random.default_rng(0))
    first = model.prepare(X, steps=10**4)
    assert model.prepare(X.copy(), steps=10**4) is first  # the same numbers: kept
    other = X.copy()
    other[0, 5, 0] += 1e-6  # one entry moved: new moments, and they see the change
    moved = model.prepare(other, steps=10**4)
    assert moved is not first and moved.constant != first.constant
    np.testing.assert_allclose(moved.quartic, model._moments(other).quartic, rtol=0, atol=0)
