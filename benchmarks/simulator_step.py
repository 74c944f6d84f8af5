"""The finite-sample simulator's cost per gradient-descent step, with and without keeping the
sequences' Gram matrices between steps (numeric.simulate keeps them below a memory budget).

Prints, for m = 250, 1000 and 2500 training sequences (d = 5, T = 100, Gaussian x_1): the
median over --repeats runs of --steps steps, both ways, and their ratio; and checks that both
ways give the same parameters to the last bit.

    python benchmarks/simulator_step.py [--steps 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import numeric.simulate as simulate
from symbolic.moments import gaussian


def run(m: int, steps: int, keep: bool) -> tuple[float, np.ndarray]:
    budget = simulate._GRAM_BUDGET
    simulate._GRAM_BUDGET = budget if keep else 0.0
    try:
        start = time.perf_counter()
        result = simulate.simulate_training(
            gaussian(5, 1), T=100, a0=0.1, b0=0.1, eta=1e-4, steps=steps, m=m, m_test=10, log_every=steps
        )
        return (time.perf_counter() - start) / steps, result.W_KQ
    finally:
        simulate._GRAM_BUDGET = budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'m':>6} {'recompute (ms/step)':>20} {'kept (ms/step)':>16} {'ratio':>7} {'same result':>12}")
    for m in (250, 1000, 2500):
        times = {True: [], False: []}
        results = {}
        for _ in range(args.repeats):
            for keep in (False, True):
                seconds, results[keep] = run(m, args.steps, keep)
                times[keep].append(seconds)
        slow, fast = statistics.median(times[False]), statistics.median(times[True])
        same = bool(np.array_equal(results[True], results[False]))
        print(f"{m:>6} {1e3 * slow:>20.1f} {1e3 * fast:>16.1f} {slow / fast:>7.2f} {same!s:>12}")


if __name__ == "__main__":
    main()
