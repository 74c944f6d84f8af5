"""The finite-sample baseline: the reference implementation's training, in NumPy.

Exactly as ``shared/spec/model.md`` describes it: m sampled sequences, complex W^KQ (2d x 2d)
and W^PV (d x 2d) with every entry trainable, full-batch gradient descent with step eta on
L = mean over sequences of sum_{t=2}^{T-1} 1/2 ||y_t - x_{t+1}||^2, the gradient taken with
respect to real and imaginary parts (2 dL/d conj(W)), the optional masking of the
off-diagonal entries of the prediction blocks, and the reference's logged metrics.

The forward pass, the loss and the gradient are :mod:`mesacheck.numeric.model`; the draws of
W and of the noise are each law's sampler (:mod:`mesacheck.numeric.laws`). The model module
describes its two routes, every sequence or the data's moments; training takes the one that
costs less (:func:`mesacheck.numeric.model.prepare`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from tqdm.auto import tqdm

from mesacheck.symbolic.moments import Distribution
from mesacheck.symbolic.setting import as_setting

from .bridge import normalization, position_weights
from .laws import noise_sampler, sample_phases
from .model import (
    ab_product,
    loss_and_gradient,
    mask_off_diagonal,
    predict,
    prediction_blocks,
    prepare,
    sequence_losses,
    test_metrics,
)

__all__ = [
    "sample_phases",
    "sample_initial_tokens",
    "sample_sequences",
    "diagonal_initialization",
    "prediction_blocks",
    "predict",
    "sequence_losses",
    "sampled_loss",
    "simulated_position_error",
    "loss_and_gradient",
    "TrainingRun",
    "simulate_training",
]


def sample_initial_tokens(law: Distribution, m: int, rng: np.random.Generator) -> np.ndarray:
    """m draws of x_1 from the law's own sampler, a built-in family or a finite atom
    distribution, shape (m, d)."""
    d = law.d
    if law.sampler is not None:
        x = np.asarray(law.sampler(m, rng))
        if x.shape != (m, d):
            raise ValueError(f"the sampler of {law.name} returned shape {x.shape}, expected {(m, d)}")
        return x
    if law.name == "gaussian":
        return float(law.key[0]) * rng.standard_normal((m, d))
    if law.name == "sparse":
        x = np.zeros((m, d))
        x[np.arange(m), rng.integers(0, d, m)] = float(law.key[0]) * rng.choice([-1.0, 1.0], m)
        return x
    if law.name == "full-one":
        return np.ones((m, d))
    if len(law.key) == 2 and law.key[0] and isinstance(law.key[0][0], tuple):  # Atoms
        points = np.array([[complex(v) for v in point] for point in law.key[0]])
        weights = np.array([float(w) for w in law.key[1]])
        return points[rng.choice(len(points), size=m, p=weights / weights.sum())]
    raise ValueError(
        f"cannot sample from {law.name}: give a built-in family (by its own name), atoms, or a law "
        "with a sampler (see proofs_check/extensions/_template.py)"
    )


def sample_sequences(setting, T: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """x_{t+1} = W x_t + xi_t with W = diag(lambda) drawn per sequence from the setting's law of
    W (uniform phases on the unit circle for a bare law) and its noise xi_t (none for a bare
    law); shape (m, T, d), complex."""
    setting = as_setting(setting)
    law = setting.law
    if law.parameters:
        raise ValueError(f"give numeric values for {[str(s) for s in law.parameters]} to sample")
    x1 = sample_initial_tokens(law, m, rng)
    lam = sample_phases(setting.phases, (m, law.d), rng, T)
    if not setting.noise.present:
        return lam[:, None, :] ** np.arange(T)[None, :, None] * x1[:, None, :]
    noise = setting.noise
    if noise.scale.free_symbols or any(sp.sympify(v).free_symbols for v in noise.moments or ()):
        raise ValueError("give numeric noise parameters to sample")
    draw = noise_sampler(noise)
    X = np.empty((m, T, law.d), dtype=complex)
    X[:, 0] = x1
    for step in range(1, T):
        xi = draw((m, law.d), rng)
        X[:, step] = lam * X[:, step - 1] + xi
    return X


def diagonal_initialization(d: int, a0, b0) -> tuple[np.ndarray, np.ndarray]:
    """The paper's Assumption 3.1: W^KQ = [[0, 0], [diag(a0), 0]], W^PV = [diag(b0), 0], complex;
    a0 and b0 are numbers (a0 I, b0 I) or d-vectors (any point of the diagonal model)."""
    W_KQ = np.zeros((2 * d, 2 * d), dtype=complex)
    W_KQ[d:, :d] = np.diag(np.broadcast_to(np.asarray(a0, dtype=complex), d))
    W_PV = np.zeros((d, 2 * d), dtype=complex)
    W_PV[:, :d] = np.diag(np.broadcast_to(np.asarray(b0, dtype=complex), d))
    return W_KQ, W_PV


def simulated_position_error(setting, t: int, p_value: float, m: int, seed: int) -> tuple[float, float]:
    """E|y_t[j] - x_{t+1}[j]|^2 at test position t for the diagonal model a_j b_j = p, by Monte
    Carlo over m sampled sequences (this module's sampler and the forward pass), with its
    standard error."""
    X = sample_sequences(setting, t + 1, m, np.random.default_rng(seed))
    a = float(np.sqrt(p_value))
    Y = predict(*diagonal_initialization(as_setting(setting).d, a, p_value / a), X)  # y_2..y_t
    errors = np.mean(np.abs(Y[:, -1] - X[:, t]) ** 2, axis=1)
    return float(errors.mean()), float(errors.std() / np.sqrt(m))


def sampled_loss(setting, T: int, W_KQ, W_PV, m: int, rng: np.random.Generator) -> tuple[float, float]:
    """The mean loss over m sequences sampled from ``setting`` at (W^KQ, W^PV), with the
    standard error of that mean: what the exact population loss is checked against."""
    X = sample_sequences(setting, T, m, rng)
    losses = sequence_losses(W_KQ, W_PV, X, rho=normalization(setting, T), omega=position_weights(setting, T))
    return float(losses.mean()), float(losses.std(ddof=1) / np.sqrt(m))


@dataclass(frozen=True)
class TrainingRun:
    """The logged metrics of one finite-sample run (arrays indexed like ``steps``)."""

    steps: np.ndarray
    ab: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    ratio: np.ndarray
    W_KQ: np.ndarray
    W_PV: np.ndarray
    settings: dict = field(default_factory=dict)

    def as_records(self) -> list[dict]:
        names = ("step", "ab", "train_loss", "test_loss", "ratio")
        columns = (self.steps, self.ab, self.train_loss, self.test_loss, self.ratio)
        return [dict(zip(names, (int(row[0]), *map(float, row[1:])))) for row in zip(*columns)]


def simulate_training(
    setting,
    *,
    T: int,
    a0: float,
    b0: float,
    eta: float,
    steps: int,
    m: int = 10_000,
    m_test: int = 10_000,
    mask: bool = False,
    seed: int = 0,
    log_every: int = 10,
    progress: bool = False,
    start: tuple[np.ndarray, np.ndarray] | None = None,
) -> TrainingRun:
    """Train from the diagonal initialization (or ``start``) by full-batch gradient descent.

    Deterministic for a given seed: training and test sequences come from one generator.
    Metrics are logged at step 0, every ``log_every`` steps, and at the last step. ``setting``
    is a :class:`mesacheck.symbolic.setting.Setting` (or a bare law, in the paper's setting).
    """
    setting = as_setting(setting)
    law = setting.law
    for name, value in {"T": T, "steps": steps, "m": m, "m_test": m_test, "log_every": log_every}.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if T < 3 or m < 1 or m_test < 1 or steps < 0 or log_every < 1:
        raise ValueError("need T >= 3, m >= 1, m_test >= 1, steps >= 0 and log_every >= 1")
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"the step size eta must be a finite positive number, got {eta!r}")
    rng = np.random.default_rng(seed)
    X_train = sample_sequences(setting, T, m, rng)
    X_test = sample_sequences(setting, T, m_test, rng)
    W_KQ, W_PV = (
        diagonal_initialization(law.d, a0, b0) if start is None else (s.astype(complex) for s in start)
    )
    log = {"steps": [], "ab": [], "train_loss": [], "test_loss": [], "ratio": []}
    rho, omega = normalization(setting, T), position_weights(setting, T)
    with np.errstate(over="ignore", invalid="ignore"):  # as the steps below
        prepared = prepare(X_train, rho, omega, steps)

    def record(step, train_loss):
        log["steps"].append(step)
        log["ab"].append(ab_product(W_KQ, W_PV))
        log["train_loss"].append(train_loss)
        test_loss, ratio = test_metrics(W_KQ, W_PV, X_test, rho, omega)
        log["test_loss"].append(test_loss)
        log["ratio"].append(ratio)

    bar = tqdm(total=steps, disable=not progress, desc="gradient descent", unit="step")
    for step in range(steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below
            loss, g_KQ, g_PV = loss_and_gradient(W_KQ, W_PV, X_train, prepared=prepared, rho=rho, omega=omega)
        if not np.isfinite(loss):
            raise FloatingPointError(f"training diverged at step {step}: lower eta (now {eta:g})")
        if step % log_every == 0 or step == steps:
            record(step, loss)
        if step == steps:
            break
        with np.errstate(over="ignore", invalid="ignore"):
            W_KQ = W_KQ - eta * g_KQ
            W_PV = W_PV - eta * g_PV
        if mask:
            mask_off_diagonal(W_KQ, W_PV)
        bar.update()
    bar.close()
    settings = {
        "law": law.name,
        "setting": setting.describe(),
        "d": law.d,
        "T": T,
        "a0": a0,
        "b0": b0,
        "eta": eta,
        "steps": steps,
        "m": m,
        "m_test": m_test,
        "mask": mask,
        "seed": seed,
        "key": [str(sp.sympify(k)) for k in law.key[:1]],
    }
    return TrainingRun(**{k: np.asarray(v) for k, v in log.items()}, W_KQ=W_KQ, W_PV=W_PV, settings=settings)
