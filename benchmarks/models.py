"""Issue 23's acceptance figures for each model (Gaussian x_1, sigma = 1, d = 5, T = 100):

1. the exact gradient's time in each parameterization (median of 200 calls; target <= 2 ms);
2. a random-start full flow (every entry N(0, 0.1^2)) in each: wall time (target < 10 s) and
   CPU time (the machine is shared: wall time moves with its load), its
   end (a b, loss, structure of each head, certificate) and, where it is derived (the diagonal
   line, thm-model-line), the gap to p*;
3. from the balanced diagonal start s_0, the plateau: the time a b takes to reach p*/2 against
   the closed form, and the loss at the start of the plateau against the saddle's d gamma / 2;
4. with --simulate: the simulator (8 seeds, m = 500) against exact descent, merged and
   separate, from the paper's diagonal start (the registered claim at full settings).

    python benchmarks/models.py [--simulate]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from mesacheck.numeric.full_flow import full_model, structure_of
from mesacheck.numeric.parameterized import ParameterizedLoss, initialize, integrate_model_flow
from mesacheck.symbolic.model_line import model_line, s_0, theta
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.parameterization import Model
from mesacheck.symbolic.symmetric_line import symmetric_line

D, T = 5, 100
MODELS = [
    Model(),
    Model("separate"),  # key_dim = 2d
    Model("separate", key_dim=1),
    Model(heads=2),
    Model("separate", heads=2),
]


def gradient_times(base) -> None:
    print("1. exact gradient, d = 5, T = 100 (median of 200 calls)")
    for model in MODELS:
        loss = ParameterizedLoss(model, base)
        y = initialize(loss, "random", sigma_w=0.1, seed=0)
        loss.gradient(y)
        times = []
        for _ in range(200):
            start = time.perf_counter()
            loss.gradient(y)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        loss.hessian(y)
        hessian = time.perf_counter() - start
        print(
            f"   {model.describe():55s} {loss.size:5d} real parameters: "
            f"gradient {1e3 * np.median(times):.2f} ms, Hessian {1e3 * hessian:.0f} ms"
        )


def random_flows(base, p_star: float) -> None:
    print("2. random start (sigma_w = 0.1, seed 0), flow until |grad L| <= 1e-11")
    for model in MODELS:
        loss = ParameterizedLoss(model, base)
        start, cpu = time.perf_counter(), time.process_time()
        solution = integrate_model_flow(loss, initialize(loss, "random", sigma_w=0.1, seed=0))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        heads = loss.heads(solution.limit)
        j = np.arange(D)
        products = loss.z(solution.limit).reshape(D, 2 * D, 2 * D, 2 * D)[j, j, D + j, j].real
        derived = model.parameterization == "merged" and model.heads == 1 or model == Model("separate")
        gap = float(np.max(np.abs(products - p_star)) / p_star)
        print(
            f"   {model.describe():55s} {wall:5.1f} s ({cpu:.1f} CPU-s), a b = {solution.ab[-1]:.12f}, "
            f"loss {solution.loss[-1]:.10f}, "
            f"structure {[structure_of(Q, P) for Q, P in heads]}, |grad L| {solution.gradient_norm:.1e}, "
            f"drift {solution.conserved_drift:.1e}"
        )
        print(
            f"      products a_j b_j = {np.array2string(products, precision=9)}; "
            + (f"derived limit p* = {p_star:.12f}, gap {gap:.1e}" if derived else "limit not derived")
        )


def _above_half(tau, loss, solution, p_star):
    return loss.ab(solution.interpolant(tau)) - p_star / 2


def plateaus(base, line) -> None:
    print("3. balanced diagonal start: time to a b = p*/2 and the plateau's loss")
    for model, s in [
        (Model(), 1e-5),
        (Model(heads=2), 1e-5),
        (Model("separate"), 1e-3),
        (Model("separate"), 1e-4),
    ]:
        reduced = model_line(model, line)
        loss = ParameterizedLoss(model, base)
        k = 2 if model.parameterization == "merged" else 3
        start = time.perf_counter()
        solution = integrate_model_flow(loss, initialize(loss, a0=s ** (k - 1), b0=s), dense=True)
        wall = time.perf_counter() - start
        p_star = float(reduced.ab_limit)
        i = int(np.argmax(solution.ab > p_star / 2))
        crossing = brentq(
            _above_half, solution.tau[i - 1], solution.tau[i], args=(loss, solution, p_star), xtol=1e-15
        )
        predicted = float(reduced.plateau_time().subs({s_0: sp.Float(s, 30), theta: sp.Rational(1, 2)}))
        saddle = float(reduced.saddle_loss)
        print(
            f"   {model.describe():55s} s_0 = {s:.0e}: plateau {crossing:.10g} "
            f"(closed form {predicted:.10g}, rel. gap {abs(crossing - predicted) / predicted:.1e}); "
            f"plateau loss {solution.loss[0]:.12g} vs d gamma/2 = {saddle:g} "
            f"(rel. gap {abs(solution.loss[0] - saddle) / saddle:.1e}); final gap to p* "
            f"{abs(solution.ab[-1] - p_star) / p_star:.1e}, loss vs minimum "
            f"{abs(solution.loss[-1] - float(reduced.minimum_loss)):.1e}; {wall:.1f} s"
        )


def simulate() -> None:
    from mesacheck.proofs_check.claims.models import merged_and_separate_training_follow_exact_descent

    print("4. simulator against exact descent (the registered claim, full settings)")
    start = time.perf_counter()
    check = merged_and_separate_training_follow_exact_descent(quick=False)
    print(f"   passed {check.passed}: worst {check.measured:.2f} standard errors <= {check.predicted:.2f}")
    for key, value in check.evidence.items():
        print(f"   {key}: {value}")
    print(f"   {time.perf_counter() - start:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--simulate", action="store_true", help="also run the simulator against exact descent"
    )
    arguments = parser.parse_args()
    law = gaussian(D, 1)
    base = full_model(law, T)
    line = symmetric_line(law, T)
    gradient_times(base)
    random_flows(base, float(line.ab_star))
    plateaus(base, line)
    if arguments.simulate:
        simulate()


if __name__ == "__main__":
    main()
