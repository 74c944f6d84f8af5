"""The loss of any model: its gradient and Hessian by the chain rule against independent routes,
the paper's model through it against the full flow, the sampled quadratic form against the
forward pass, the simulator against exact descent, and the reduced flow on the line against
the integrated full flow."""

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq
from scipy.stats import t as student_t

from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.model import loss_and_gradient, predict
from mesacheck.numeric.parameterized import (
    ParameterizedLoss,
    initialize,
    integrate_model_flow,
    sampled_model,
    train_model,
)
from mesacheck.numeric.simulate import diagonal_initialization, sample_sequences
from mesacheck.symbolic.model_line import model_line, s_0, theta
from mesacheck.symbolic.moments import Atoms, full_one, gaussian, sparse
from mesacheck.symbolic.parameterization import InvalidModel, Model
from mesacheck.symbolic.symmetric_line import symmetric_line

# a complex law: K and J complex, every antilinear block exercised
COMPLEX = Atoms([[1, 1j], [2, -1], [1j, 0]], ["1/2", "1/4", "1/4"], name="complex")
MODELS = {
    "merged-2-heads": Model(heads=2),
    "separate": Model("separate"),
    "separate-rank-1-2-heads": Model("separate", heads=2, key_dim=1),
    "separate-key-3": Model("separate", key_dim=3),
}


def _complex_packing(loss, w):
    """The real packing of a complex parameter vector w (matrices in order)."""
    parts, start = [], 0
    for _, (rows, columns) in loss.shapes:
        size = rows * columns
        parts += [w[start : start + size].real, w[start : start + size].imag]
        start += size
    return np.concatenate(parts)


@pytest.mark.parametrize("law", [gaussian(2, 1), COMPLEX], ids=["gauss2", "cx"])
@pytest.mark.parametrize("name", list(MODELS))
def test_gradient_and_hessian_by_the_chain_rule_against_independent_routes(law, name):
    """Three routes to the gradient: the chain rule per matrix, (dz/dw)^H G with z's Jacobian
    assembled entry by entry, and central differences of the loss (error ~h^2 |L'''| ~ 1e-9
    relative at h = 1e-6, so 1e-6 relative). Two to the Hessian: the chain rule and gradients
    whose higher polynomial terms cancel exactly (both exact up to rounding: measured 8e-16
    relative, so 1e-12 leaves a margin of 1000)."""
    loss = ParameterizedLoss(MODELS[name], full_model(law, 6))
    y = np.random.default_rng(1).normal(scale=0.7, size=loss.size)
    g = loss.gradient(y)
    G = loss._G(loss.heads(y)).reshape(-1)
    by_jacobian = _complex_packing(loss, loss.z_jacobian(y).conj().T @ G)
    scale = np.max(np.abs(g))
    np.testing.assert_allclose(by_jacobian, g, rtol=0, atol=1e-13 * scale)
    h = 1e-6
    differences = np.array(
        [(loss.loss(y + h * u) - loss.loss(y - h * u)) / (2 * h) for u in np.eye(loss.size)]
    )
    np.testing.assert_allclose(differences, g, rtol=0, atol=1e-6 * scale)
    expected = loss.hessian_by_differences(y)
    np.testing.assert_allclose(loss.hessian(y), expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


def test_the_real_block_and_the_general_merged_code_against_the_full_hessian():
    """A real law at a real point: the flow's Jacobian is the real block, computed alone, and
    the real-imaginary coupling is 0 (so the imaginary parts stay 0); the merged heads' code at
    one head is the full model's closed form (rounding only: 1e-13 relative)."""
    base = full_model(gaussian(2, 1), 6)
    for model in MODELS.values():
        loss = ParameterizedLoss(model, base)
        y = np.random.default_rng(1).normal(scale=0.7, size=loss.size) * loss.real_coordinates()
        H, real = loss.hessian(y), loss.real_coordinates()
        scale = np.max(np.abs(H))
        np.testing.assert_allclose(loss.real_hessian(y), H[np.ix_(real, real)], rtol=0, atol=1e-13 * scale)
        assert np.max(np.abs(H[np.ix_(real, ~real)])) <= 1e-13 * scale
    loss = ParameterizedLoss(Model(), full_model(COMPLEX, 6))
    y = np.random.default_rng(2).normal(scale=0.7, size=loss.size)
    expected = loss.base.jacobian(y)
    general = loss._merged_hessian(loss.heads(y), real=False)
    np.testing.assert_allclose(general, expected, rtol=0, atol=1e-13 * np.max(np.abs(expected)))


def test_the_papers_model_through_the_model_object_is_the_full_flow_to_the_last_bit():
    base = full_model(full_one(2), 12)
    start = diagonal_initialization(2, 0.1, 0.1)
    before = integrate_full_flow(base, *start)
    loss = ParameterizedLoss(Model(), base)
    after = integrate_model_flow(loss, loss.pack(start))
    assert np.array_equal(before.tau, after.tau)
    assert np.array_equal(before.loss, after.loss)
    assert np.array_equal(loss.pack(before.limit), after.limit)
    assert np.array_equal(before.ab, after.ab)  # real: Re z = Re W^KQ Re W^PV
    assert before.conserved_drift == after.conserved_drift


def test_the_sampled_quadratic_form_is_the_forward_pass():
    """The training loss as a quadratic form in z (the data's moments) against the model run on
    every sequence: the reference's single head (loss and gradient) and two heads (the loss,
    predictions summed over heads). Rounding only: 1e-12 relative."""
    X = sample_sequences(gaussian(2, 1), 8, 60, np.random.default_rng(0))
    sampled = sampled_model(X)
    one = ParameterizedLoss(Model(), sampled)
    y = np.random.default_rng(2).normal(scale=0.5, size=one.size)
    value, g_KQ, g_PV = loss_and_gradient(*one.unpack(y), X)
    np.testing.assert_allclose(one.loss(y), value, rtol=1e-12)
    g = one.gradient(y)
    np.testing.assert_allclose(g, one.pack([g_KQ, g_PV]), rtol=0, atol=1e-12 * np.max(np.abs(g)))
    two = ParameterizedLoss(Model("separate", heads=2, key_dim=3), sampled)
    y = np.random.default_rng(3).normal(scale=0.5, size=two.size)
    prediction = sum(predict(Q, P, X) for Q, P in two.heads(y))
    direct = 0.5 * np.sum(np.abs(prediction - X[:, 2:]) ** 2) / len(X)
    np.testing.assert_allclose(two.loss(y), direct, rtol=1e-12)


def test_the_simulator_tracks_exact_descent_in_any_parameterization():
    """Finite-sample gradient descent (8 seeds of m = 2000 sequences) against the same descent
    on the exact population loss, from one random start, for two separate heads of key
    dimension 1, midway to the limit: their mean a b within 4.8 standard errors (Student t,
    7 d.o.f., false alarm 1e-4). The sparse token: its bounded moments keep the finite-sample
    bias, O(1/m) (measured 0.14 / m), well under one standard error (~0.2 / sqrt(8 m))."""
    law, T, eta, steps = sparse(2, 1), 6, 0.05, 40
    model = Model("separate", heads=2, key_dim=1)
    exact = ParameterizedLoss(model, full_model(law, T))
    start = initialize(exact, "random", sigma_w=0.4, seed=1)
    y = start.copy()
    for _ in range(steps):
        y = y - eta * exact.gradient(y)
    runs = [
        train_model(law, model, start, T=T, eta=eta, steps=steps, m=2000, m_test=50, seed=s, log_every=steps)
        for s in range(8)
    ]
    finite = np.array([run.ab[-1] for run in runs])
    error = np.std(finite, ddof=1) / np.sqrt(len(finite))
    quantile = student_t.ppf(1 - 5e-5, len(finite) - 1)
    assert abs(np.mean(finite) - exact.ab(y)) <= quantile * error
    assert (
        abs(exact.ab(y) - exact.ab(start)) > 10 * quantile * error
    )  # training moved a b: not a trivial match


@pytest.mark.parametrize(
    "model, s",
    [
        (Model(), 1e-5),
        # the claim plateau_time_of_separate_keys checks the separate case by default
        pytest.param(Model("separate"), 1e-3, marks=pytest.mark.slow),
        pytest.param(Model("separate", heads=2), 5e-4, marks=pytest.mark.slow),
    ],
    ids=["merged", "separate", "separate-2-heads"],
)
def test_the_reduced_flow_on_the_line_against_the_integrated_full_flow(model, s):
    """thm-model-line at d = 3, T = 10: the full flow from the balanced start s_0 reaches the
    same p* (to 1e-9: the flow stops at |grad L| <= 1e-11), its a b crosses p*/2 at the
    closed-form plateau time (found on LSODA's interpolant at rtol 1e-12: measured 3e-11 to
    1e-10 relative, so 1e-8), its loss at the start of the plateau is the saddle's d gamma / 2
    up to d beta p_0 (p_0 = H s_0^k: under 1e-8 relative at these s_0), its end is the
    closed-form minimum, and its balance is kept."""
    law, T = gaussian(3, 1), 10
    reduced = model_line(model, symmetric_line(law, T))
    loss = ParameterizedLoss(model, full_model(law, T))
    k = 2 if model.parameterization == "merged" else 3
    solution = integrate_model_flow(loss, initialize(loss, a0=s ** (k - 1), b0=s), dense=True)
    p_star = float(reduced.ab_limit)
    np.testing.assert_allclose(solution.ab[-1], p_star, rtol=1e-9, atol=0)
    np.testing.assert_allclose(solution.loss[-1], float(reduced.minimum_loss), rtol=1e-12, atol=0)

    def above_half(tau):
        return loss.ab(solution.interpolant(tau)) - p_star / 2

    i = int(np.argmax(solution.ab > p_star / 2))
    crossing = brentq(above_half, solution.tau[i - 1], solution.tau[i], xtol=1e-15)
    predicted = float(reduced.plateau_time().subs({s_0: sp.Float(s, 30), theta: sp.Rational(1, 2)}))
    np.testing.assert_allclose(crossing, predicted, rtol=1e-8, atol=0)
    np.testing.assert_allclose(solution.loss[0], float(reduced.saddle_loss), rtol=1e-8, atol=0)
    assert solution.conserved_drift <= 1e-12


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"parameterization": "tied"}, "one of merged, separate"),
        ({"heads": 0}, ">= 1"),
        ({"heads": 2.0}, "an integer"),
        ({"heads": 99}, "<= 8"),
        ({"key_dim": 2}, "needs separate keys"),
        ({"parameterization": "separate", "key_dim": 0}, ">= 1"),
        ({"parameterization": "separate", "mask": "prediction-blocks"}, "mask only merged"),
    ],
)
def test_impossible_models_are_refused_in_one_line(arguments, message):
    with pytest.raises(InvalidModel, match=message) as error:
        Model(**arguments)
    assert "\n" not in str(error.value)


def test_a_key_dimension_over_the_limit_for_d_and_a_diagonal_start_of_low_rank_are_refused():
    with pytest.raises(InvalidModel, match="<= 4 d = 8"):
        Model("separate", key_dim=9).shapes(2)
    loss = ParameterizedLoss(Model("separate", key_dim=1), full_model(gaussian(2, 1), 5))
    with pytest.raises(InvalidModel, match="--init random"):
        initialize(loss, "diagonal")
