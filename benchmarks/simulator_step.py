"""The finite-sample simulator's cost per gradient-descent step, before and after the moments.

Before: mesacheck.numeric.simulate as of commit 1cfc3d3, copied below (``old_loss_and_gradient``), with the
sequences' Gram matrices kept between steps. After: the current mesacheck.numeric.simulate, both ways it
can step: directly on the kept Gram matrices, or on the loss's moments computed once
(``_moments``); ``_prepare`` picks the cheaper for the given number of steps.

Prints, for Gaussian x_1 (sigma = 1) at (d, T, m) = (3, 20, 2000) (the check's finite-sample
claims), (5, 100, 1000) and (5, 100, 2500), at a random point near the diagonal start: the
median over --repeats runs of the one-off preparation (p, s) and of one loss-and-gradient
evaluation (ms) each way; the cost per step of --steps steps with the preparation spread over
them, before and after (the way training takes), and their ratio; and the largest relative
difference in loss and gradient between before and after.

Then one evaluation over the exact quadrature's weighted sequences (mesacheck.numeric.quadrature, what the
check's quadrature claims run), by the Gram matrices and by the attention scores
(``_scores_pay`` picks), with their ratio and largest relative difference.

    python benchmarks/simulator_step.py [--steps 150] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import mesacheck.numeric.simulate as simulate
from mesacheck.symbolic.moments import gaussian

# --- before: numeric/simulate.py at 1cfc3d3 (its _embed, _gram, _forward, loss_and_gradient) ---
_OLD_CHUNK = 200
_OLD_GRAM_BUDGET = 400e6


def _old_embed(X):
    previous = np.concatenate([np.zeros_like(X[:, :1]), X[:, :-1]], axis=1)
    return np.concatenate([X, previous], axis=2)


def _old_gram(X):
    T = X.shape[1]
    E = _old_embed(X)
    G = E[:, :, :, None] * E.conj()[:, :, None, :]
    return np.cumsum(G, axis=1, out=G)[:, 1 : T - 1], E[:, 1 : T - 1]


def _old_forward(W_KQ, W_PV, X, gram=None, rho=None):
    T = X.shape[1]
    G, E_t = _old_gram(X) if gram is None else gram
    rho = (np.arange(1, T - 1, dtype=float) if rho is None else np.asarray(rho, dtype=float))[None, :, None]
    w = (G @ (E_t @ W_KQ.T)[..., None])[..., 0]
    y = (w @ W_PV.T) / rho
    return G, E_t, rho, w, y, y - X[:, 2:]


def _old_outer_sum(u, v):
    return u.reshape(-1, u.shape[-1]).T @ v.reshape(-1, v.shape[-1]).conj()


def old_grams(X):
    if X.shape[0] * X.shape[1] * (2 * X.shape[2]) ** 2 * 16 > _OLD_GRAM_BUDGET:
        return None
    return [_old_gram(X[s : s + _OLD_CHUNK]) for s in range(0, len(X), _OLD_CHUNK)]


def old_loss_and_gradient(W_KQ, W_PV, X, weights=None, grams=None, rho=None, omega=None):
    if weights is None:
        weights = np.full(len(X), 1.0 / len(X))
    omega = (np.ones(X.shape[1] - 2) if omega is None else np.asarray(omega, dtype=float))[None, :, None]
    loss, g_KQ, g_PV = 0.0, np.zeros_like(W_KQ), np.zeros_like(W_PV)
    for n, s in enumerate(range(0, len(X), _OLD_CHUNK)):
        gram = None if grams is None else grams[n]
        G, E_t, rho_t, w, _, r = _old_forward(W_KQ, W_PV, X[s : s + _OLD_CHUNK], gram, rho)
        weight = weights[s : s + _OLD_CHUNK, None, None] * omega
        loss += 0.5 * np.sum(weight * np.abs(r) ** 2)
        scaled = weight * r / rho_t
        g_PV += _old_outer_sum(scaled, w)
        h = (G @ (scaled @ W_PV.conj())[..., None])[..., 0]
        g_KQ += _old_outer_sum(h, E_t)
    return loss, g_KQ, g_PV


# --- measurement ---


def _median(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _relative_difference(one, two):
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(a))) for a, b in zip(one, two))


def measure(d, T, m, steps, repeats):
    rng = np.random.default_rng(0)
    X = simulate.sample_sequences(gaussian(d, 1), T, m, rng)
    W_KQ, W_PV = simulate.diagonal_initialization(d, 0.1, 0.1)
    W_KQ = W_KQ + 0.01 * (rng.standard_normal(W_KQ.shape) + 1j * rng.standard_normal(W_KQ.shape))
    W_PV = W_PV + 0.01 * (rng.standard_normal(W_PV.shape) + 1j * rng.standard_normal(W_PV.shape))

    def new_step(prepared):
        return simulate.loss_and_gradient(W_KQ, W_PV, X, prepared=prepared)

    ways = {
        "before": (old_grams, lambda prepared: old_loss_and_gradient(W_KQ, W_PV, X, grams=prepared)),
        "direct": (simulate._grams, new_step),
        "moments": (simulate._moments, new_step),
    }
    times, results = {}, {}
    for name, (prepare, step) in ways.items():
        prep_seconds, prepared = _median(lambda: prepare(X), repeats)  # noqa: B023
        step_seconds, results[name] = _median(lambda: step(prepared), repeats)  # noqa: B023
        times[name] = (prep_seconds, step_seconds)
        prepared = None  # free the Gram matrices before the next way
    taken = "moments" if simulate._takes_moments(m, T, d, steps) else "direct"
    per_step = {name: (times[name][0] + (steps + 1) * times[name][1]) / steps for name in times}
    difference = max(_relative_difference(results["before"], results[name]) for name in ("direct", "moments"))
    return times, per_step, taken, difference


def quadrature_case(d, T, repeats):
    from mesacheck.numeric.quadrature import _sequences

    X, weights, rho, omega = _sequences(gaussian(d), T, {"sigma": 1})
    rng = np.random.default_rng(1)
    W_KQ = rng.standard_normal((2 * d, 2 * d)) + 1j * rng.standard_normal((2 * d, 2 * d))
    W_PV = rng.standard_normal((d, 2 * d)) + 1j * rng.standard_normal((d, 2 * d))
    pays, out = simulate._scores_pay, {}
    try:
        for name, choice in (("gram", False), ("scores", True)):
            simulate._scores_pay = lambda T, d, choice=choice: choice
            out[name] = _median(
                lambda: simulate.loss_and_gradient(W_KQ, W_PV, X, weights, rho=rho, omega=omega), repeats
            )
    finally:
        simulate._scores_pay = pays
    return len(X), out, pays(T, d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'':>11} {'before':>15} {'direct':>15} {'moments':>15}   per step over {args.steps} steps\n"
        f"{'d   T     m':>11} {'p (s) step ms':>15} {'p (s) step ms':>15} {'p (s) step ms':>15}"
        f"   {'before':>8} {'after':>8} {'takes':>8} {'ratio':>6} {'max rel diff':>12}"
    )
    for d, T, m in ((3, 20, 2000), (5, 100, 1000), (5, 100, 2500)):
        times, per_step, taken, difference = measure(d, T, m, args.steps, args.repeats)
        cells = " ".join(f"{p:6.2f} {1e3 * s:8.2f}" for p, s in times.values())
        before, after = per_step["before"], per_step[taken]
        print(
            f"{d:>1} {T:>3} {m:>5} {cells}   {1e3 * before:6.2f}ms {1e3 * after:6.2f}ms"
            f" {taken:>8} {before / after:6.2f} {difference:12.1e}"
        )
    print(
        "\nquadrature, Gaussian x_1: one loss and gradient (s)\n"
        f"{'d   T  sequences':>17} {'gram':>7} {'scores':>7} {'ratio':>6} {'takes':>7} {'max rel diff':>12}"
    )
    for d, T in ((3, 4), (2, 8), (3, 6)):
        sequences, out, pays = quadrature_case(d, T, args.repeats)
        (gram, one), (scores, two) = out["gram"], out["scores"]
        print(
            f"{d:>1} {T:>3} {sequences:>11} {gram:7.3f} {scores:7.3f} {gram / scores:6.2f}"
            f" {'scores' if pays else 'gram':>7} {_relative_difference(one, two):12.1e}"
        )


if __name__ == "__main__":
    main()
