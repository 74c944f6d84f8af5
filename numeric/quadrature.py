"""Brute-force population averages by exact quadrature: a route independent of the symbolic
engine, for cross-checks at small d.

The phases: the per-sequence loss is a trigonometric polynomial in each lambda_k whose
frequencies n (a term lambda^a conj(lambda)^b has n = a - b) satisfy |n| <= 3(T - 2). The
prediction y_t = W^PV G_t W^KQ e_t / rho_t, G_t = sum_{i <= t} e_i e_i^H, multiplies an entry of
e_i (frequencies in [0, i - 1] in any one phase), of conj(e_i) ([-(i - 1), 0]) and of e_t ([0, t
- 1]), so its frequencies, and the target's (t), lie in [-(t - 1), 2(t - 1)] for t >= 2; the
loss |y_t - x_{t+1}|^2 and its gradient then have |n| <= 3(t - 1) <= 3(T - 2), since t <= T - 1
(noise only adds lower powers of lambda to each token). The mean over N equispaced points
integrates lambda^n exactly for |n| < N, so N = 3T - 5 points
(:func:`mesacheck.numeric.laws.phase_points`) suffice; N = 3T - 6 is not exact at T = 3. (Until
issue 20 the grid had 4T points: the same averages to rounding, with (4T / (3T - 5))^d times as
many sequences, 12x at d = 3, T = 4.) The token: a finite law is its own atoms; the Gaussian is
replaced by the tensor Gauss-Hermite rule with 4 nodes per coordinate, exact for polynomials of
degree <= 7 in each coordinate (the loss has degree 6). The averages are then computed with the
finite-sample simulator's own code, weighted.
"""

from __future__ import annotations

import itertools

import numpy as np

from mesacheck.symbolic.moments import DEFAULT_RHO, Distribution
from mesacheck.symbolic.setting import UNIT_CIRCLE, PhaseLaw, as_setting

from .bridge import normalization, position_weights
from .laws import modulus_rule, noise_nodes, noise_rule, phase_points, phase_rule
from .model import loss_and_gradient, sequence_losses

__all__ = [
    "token_nodes",
    "noise_nodes",
    "noise_rule",
    "modulus_rule",
    "phase_points",
    "torus_sequences",
    "quadrature_loss",
    "quadrature_loss_and_gradient",
    "limiting_position_error",
    "driven_blocks_by_quadrature",
    "position_error_by_quadrature",
    "equal_diagonal_spread_by_quadrature",
]


_HERMITE_NODES = 4  # exact through degree 2 * 4 - 1 = 7 per coordinate


def token_nodes(law: Distribution, values: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n, d) and weights (n,) of a rule that integrates every polynomial of degree <= 6
    in x_1 exactly under ``law``."""
    values = {str(k): v for k, v in (values or {}).items()}
    d = law.d
    if law.nodes is not None:
        return law.nodes(values)
    if law.name == "gaussian":
        scale = float(
            law.key[0].subs({s: values[str(s)] for s in law.key[0].free_symbols if str(s) in values})
        )
        x, w = np.polynomial.hermite_e.hermegauss(_HERMITE_NODES)  # weight exp(-x^2 / 2)
        w = w / w.sum()
        nodes = np.array(list(itertools.product(x, repeat=d))) * scale
        weights = np.prod(np.array(list(itertools.product(w, repeat=d))), axis=1)
        return nodes.astype(complex), weights
    if law.name == "sparse":
        scale = float(
            law.key[0].subs({s: values[str(s)] for s in law.key[0].free_symbols if str(s) in values})
        )
        nodes = np.concatenate([np.eye(d), -np.eye(d)]) * scale
        return nodes.astype(complex), np.full(2 * d, 1.0 / (2 * d))
    if len(law.key) == 3 and law.key[0] == "signs":  # mesacheck.symbolic.conditions.product_law
        first_nodes, first_weights = token_nodes(law.key[1], values)
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d - law.key[1].d)))
        nodes = np.concatenate(
            [np.repeat(first_nodes, len(signs), axis=0), np.tile(signs, (len(first_nodes), 1))], axis=1
        )
        return nodes.astype(complex), np.repeat(first_weights, len(signs)) / len(signs)
    if law.name == "full-one":
        return np.ones((1, d), dtype=complex), np.ones(1)
    if len(law.key) == 2 and law.key[0] and isinstance(law.key[0][0], tuple):  # Atoms
        nodes = np.array([[complex(v) for v in point] for point in law.key[0]])
        return nodes, np.array([float(w) for w in law.key[1]])
    raise NotImplementedError(
        f"no exact quadrature rule for {law.name}: give a built-in family (by its own name), atoms, "
        "or a law with nodes (see proofs_check/extensions/_template.py)"
    )


def _scale(law: Distribution, values: dict) -> float:
    scale = law.key[0]
    return float(scale.subs({s: values[str(s)] for s in scale.free_symbols if str(s) in values}))


def torus_sequences(
    nodes: np.ndarray, weights: np.ndarray, T: int, phases: PhaseLaw = UNIT_CIRCLE
) -> tuple[np.ndarray, np.ndarray]:
    """Every sequence x_t = W^(t-1) x_1 for x_1 a node and W on a grid per coordinate, shape
    (n G^d, T, d), with its quadrature weight. The grid (:func:`_lambda_grid`): N = 3T - 5
    equispaced phases on the circle of radius r (its mean of lambda^n conj(lambda)^m is r^(n+m)
    [n = m mod N], exact since |n - m| <= 3(T - 2) < N), times the Gauss rule of a random modulus, or the N
    roots of unity themselves."""
    lambdas, lambda_weights = _lambda_grid(T, phases, nodes.shape[1])
    powers = lambdas[:, None, :] ** np.arange(T)[None, :, None]
    X = (powers[None] * nodes[:, None, None, :]).reshape(-1, T, nodes.shape[1])
    return X, (weights[:, None] * lambda_weights[None, :]).reshape(-1)


def _lambda_grid(T: int, phases: PhaseLaw, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The product over d coordinates of one entry's grid: (G^d, d) values and (G^d,) weights."""
    grid, weights = phase_rule(phases, T)
    values = np.array(list(itertools.product(grid, repeat=d)))
    return values, np.prod(np.array(list(itertools.product(weights, repeat=d))), axis=1)


def _torus_lambdas(nodes: np.ndarray, T: int, phases: PhaseLaw) -> np.ndarray:
    """The lambda of each sequence of :func:`torus_sequences`, in its order, shape (n G^d, d)."""
    return np.tile(_lambda_grid(T, phases, nodes.shape[1])[0], (len(nodes), 1))


def _with_noise(X: np.ndarray, weights: np.ndarray, nodes: np.ndarray, noise_weights: np.ndarray, lam):
    """Every noiseless start (x_1, lambda) of X with every noise node: x_{t+1} = lambda x_t + xi_t."""
    n, T, d = X.shape
    out = np.empty((n, len(nodes), T, d), dtype=complex)
    out[:, :, 0] = X[:, None, 0]
    for step in range(1, T):
        out[:, :, step] = lam[:, None, :] * out[:, :, step - 1] + nodes[None, :, step - 1]
    return out.reshape(-1, T, d), (weights[:, None] * noise_weights[None, :]).reshape(-1)


def _sequences(setting, T: int, values):
    setting = as_setting(setting)
    starts = token_nodes(setting.law, values)
    X, weights = torus_sequences(*starts, T, setting.phases)
    if setting.noise.present:
        nodes, noise_weights = noise_nodes(setting.noise, setting.d, T, values)
        if len(X) * len(nodes) > _MAX_SEQUENCES:
            raise ValueError(
                f"the quadrature with noise needs {len(X) * len(nodes)} sequences, "
                f"more than {_MAX_SEQUENCES}: "
                "use a smaller d or T"
            )
        lam = _torus_lambdas(starts[0], T, setting.phases)
        X, weights = _with_noise(X, weights, nodes, noise_weights, lam)
    return X, weights, normalization(setting, T), position_weights(setting, T)


_MAX_SEQUENCES = 4_000_000  # ~1 GB of sequences at T = 4, d = 2


def quadrature_loss(setting, T: int, W_KQ, W_PV, values: dict | None = None) -> float:
    """The population loss at (W^KQ, W^PV) by exact quadrature, under a setting (or the paper's
    setting for a bare law)."""
    X, weights, rho, omega = _sequences(setting, T, values)
    return float(np.sum(weights * sequence_losses(W_KQ, W_PV, X, rho=rho, omega=omega)))


def quadrature_loss_and_gradient(setting, T: int, W_KQ, W_PV, values: dict | None = None):
    """The population loss and its gradient (2 dL/d conj W) by exact quadrature."""
    X, weights, rho, omega = _sequences(setting, T, values)
    W_KQ, W_PV = np.asarray(W_KQ, dtype=complex), np.asarray(W_PV, dtype=complex)
    return loss_and_gradient(W_KQ, W_PV, X, weights, rho=rho, omega=omega)


def limiting_position_error(law: Distribution, W_KQ, W_PV, values: dict | None = None) -> float:
    """lim_{t -> oo} E||y_t - x_{t+1}||^2 for the diagonal model (W^KQ, W^PV) by exact quadrature.

    For the diagonal model the error at position t is exactly A + B / (t - 1): the
    cross-coordinate terms average like the squared modulus of a geometric sum, t - 1 terms over
    (t - 1)^2. The errors at t = 5 and 7 give A; the one at t = 3 checks the form, and a
    mismatch raises. Each error is a difference of two quadrature losses (positions 2..t and
    2..t-1). The form holds for the reference's rho_t = t - 1 only."""
    if as_setting(law).rho != DEFAULT_RHO:
        raise NotImplementedError(f"the extrapolation assumes rho_t = t - 1, not {as_setting(law).rho}")
    errors = {}
    for position in (3, 5, 7):
        errors[position] = 2 * (
            quadrature_loss(law, position + 1, W_KQ, W_PV, values)
            - quadrature_loss(law, position, W_KQ, W_PV, values)
        )
    A = (6 * errors[7] - 4 * errors[5]) / 2  # (t - 1) e_t at t = 7 and 5
    predicted_3 = A + (4 * errors[5] - 4 * A) / 2
    if abs(predicted_3 - errors[3]) > 1e-9 * max(1.0, abs(errors[3])):
        raise ArithmeticError(f"the error is not A + B/(t-1): {errors}")
    return A


def _diagonal_model(d: int, a, b) -> tuple[np.ndarray, np.ndarray]:
    from .simulate import diagonal_initialization

    return diagonal_initialization(d, a, b)


def driven_blocks_by_quadrature(setting, T: int, points) -> set[tuple[str, int, int]]:
    """The blocks of the full model (keys of :func:`mesacheck.symbolic.conditions.block_of`) whose
    gradient leaves the diagonal manifold at any of the diagonal ``points`` (pairs of per-coordinate
    a and b): an off-manifold entry, or the imaginary part of an on-manifold one, by brute-force
    quadrature over x_1 and W (and the noise)."""
    from mesacheck.symbolic.conditions import block_of

    d = as_setting(setting).d
    driven = set()
    for a, b in points:
        _, g_KQ, g_PV = quadrature_loss_and_gradient(setting, T, *_diagonal_model(d, a, b))
        # the quadrature rounds at ~1e-16 of the largest entry; a driven entry is polynomial in
        # (a, b) with coefficients of the law's size, far above 1e-11 of it at these points
        # (at least 1e-11 absolute: with x_1 = 0 the whole gradient can vanish, leaving only rounding)
        threshold = 1e-11 * max(np.abs(g_KQ).max(), np.abs(g_PV).max(), 1.0)
        for name, g in (("W_KQ", g_KQ), ("W_PV", g_PV)):
            for row, col in zip(*np.nonzero(np.abs(g) > threshold)):
                on = (name == "W_KQ" and row == d + col) or (name == "W_PV" and row == col)
                if not on or abs(g[row, col].imag) > threshold:
                    driven.add(block_of(f"{name}[{row + 1},{col + 1}]", d))
    return driven


def equal_diagonal_spread_by_quadrature(setting, T: int, points) -> float:
    """On the equal-diagonal plane a_j = a, b_j = b, at each (a, b) of ``points``: how far the
    gradient's diagonal entries (dL/da_j, dL/db_j) are from not depending on j, relative to the
    largest entry of the gradient (the largest over the points), by quadrature. 0 up to rounding
    iff the flow keeps the plane at these points."""
    d = as_setting(setting).d
    spread = 0.0
    for a, b in points:
        _, g_KQ, g_PV = quadrature_loss_and_gradient(setting, T, *_diagonal_model(d, a, b))
        diagonals = (g_KQ[d + np.arange(d), np.arange(d)].real, g_PV[np.arange(d), np.arange(d)].real)
        scale = max(np.abs(g_KQ).max(), np.abs(g_PV).max(), 1.0)
        spread = max(spread, max(float(np.ptp(v)) for v in diagonals) / scale)
    return spread


def position_error_by_quadrature(setting, t: int, p_value: float) -> float:
    """E||y_t - x_{t+1}||^2 / d at test position t for the diagonal model a_j b_j = p, by
    quadrature: twice the difference of the losses over positions 2..t and 2..t-1 (every
    position weighted 1, whatever the setting trains)."""
    import dataclasses

    every = dataclasses.replace(as_setting(setting), positions="all")
    a = float(np.sqrt(p_value))
    W = _diagonal_model(every.d, a, p_value / a)
    return 2 * (quadrature_loss(every, t + 1, *W) - quadrature_loss(every, t, *W)) / every.d
