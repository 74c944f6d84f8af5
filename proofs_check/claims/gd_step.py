"""The diagonal model is one step of gradient descent on an in-context OLS problem."""

from __future__ import annotations

import numpy as np

from mesacheck.numeric.simulate import diagonal_initialization, predict

from ..check import Check

__all__ = ["prediction_is_one_gd_step"]


def _ols_loss(W, X, t):
    """1/2 sum_{i=2}^{t} ||x_i - W x_{i-1}||^2 for each sequence (positions are 1-based)."""
    residual = X[:, 1:t] - np.einsum("jk,mik->mij", W, X[:, : t - 1])
    return 0.5 * np.sum(np.abs(residual) ** 2)


def _gd_step_prediction(X, t, step):
    """W_hat x_t, W_hat = 0 - step * grad OLS(0); the gradient with respect to real and
    imaginary parts by central differences, which are exact for a quadratic (only rounding
    remains), so no formula for the gradient is typed in."""
    d = X.shape[2]
    predictions = []
    for x in X:
        W_hat = np.zeros((d, d), dtype=complex)
        for j in range(d):
            for k in range(d):
                for unit in (1.0, 1j):
                    E = np.zeros((d, d), dtype=complex)
                    E[j, k] = unit
                    slope = (_ols_loss(E, x[None], t) - _ols_loss(-E, x[None], t)) / 2.0
                    W_hat[j, k] -= step * slope * unit
        predictions.append(W_hat @ x[t - 1])
    return np.array(predictions)


def prediction_is_one_gd_step(quick: bool = False) -> Check:
    """Claim: with prediction blocks a I_d and b I_d and all other blocks zero, the
    transformer's prediction y_t equals W_hat x_t, where W_hat is one gradient-descent step from
    W = 0 with step size a b / (t - 1) on the in-context OLS loss
    1/2 sum_{i=2}^{t} ||x_i - W x_{i-1}||^2: the mesa-optimizer.

    Derivation: eq-mesa-optimizer

    Guarantee: the largest difference between the transformer's forward pass and the GD step
    computed from the OLS loss itself, relative to the size of the predictions, over random
    complex tokens (the identity holds for any tokens, not only the process's) and every
    position t, is at rounding level.

    Reference: Section 3 (the construction of the mesa-optimizer); spec, "Model".
    """
    rng = np.random.default_rng(20240516)
    d, T, m = (3, 7, 4) if quick else (5, 12, 16)
    a, b = 0.7, -1.3
    X = rng.standard_normal((m, T, d)) + 1j * rng.standard_normal((m, T, d))
    transformer = predict(*diagonal_initialization(d, a, b), X)  # (m, T-2, d), t = 2..T-1
    worst, scale = 0.0, np.max(np.abs(transformer))
    for t in range(2, T):
        ols = _gd_step_prediction(X, t, a * b / (t - 1))
        worst = max(worst, float(np.max(np.abs(transformer[:, t - 2] - ols))))
    return Check(
        claim="prediction_is_one_gd_step",
        statement="y_t = (ab/(t-1)) sum_i x_i x_{i-1}^H x_t, one OLS gradient step from W = 0",
        kind="vanishes",
        predicted=0.0,
        measured=worst / scale,
        rtol=0.0,
        # both sides sum O(T d) products of O(1) numbers in double precision: ~1e-15 each
        atol=1e-12,
        tolerance="rounding of O(T d) double-precision products; 1000x margin over 1e-15",
        evidence={"d": d, "T": T, "sequences": m, "a": a, "b": b},
    )
