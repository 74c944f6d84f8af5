"""The exact full-parameter population gradient against the finite-sample estimate.

Setting: d = 5, T = 100, Gaussian x_1 (sigma = 1) and full-one, at the full-one flow's
start (0.1, 0.1) and at a random point. Prints: the median wall time of one exact gradient
(all 300 real parameters), the time of the whole full flow to stationarity from the diagonal
start and from a random start (sigma_w = 0.1), with the stiff solver's Jacobian differenced
(before) and exact (after) in the same run, the ratio and the gap between the limits, and the
finite-sample simulator's time and relative error for the same gradient with m = 10000
sequences, with their ratios.

    python benchmarks/full_gradient.py [--repeats 20] [--flow-repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from mesacheck.numeric.full_flow import full_model, integrate_full_flow, random_initialization
from mesacheck.numeric.simulate import diagonal_initialization, loss_and_gradient, sample_sequences
from mesacheck.symbolic.moments import full_one, gaussian


def _median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--m", type=int, default=10_000)
    parser.add_argument("--flow-repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    d, T = 5, 100
    report = {}
    for name, law, values in [("gaussian", gaussian(d, 1), {}), ("full-one", full_one(d), {})]:
        start = time.perf_counter()
        model = full_model(law, T, values)
        build = time.perf_counter() - start
        rng = np.random.default_rng(0)
        W_KQ = 0.3 * rng.normal(size=(2 * d, 2 * d)).astype(complex)
        W_PV = 0.3 * rng.normal(size=(d, 2 * d)).astype(complex)
        exact_seconds = _median_seconds(lambda m=model, q=W_KQ, p=W_PV: m.gradient(q, p), args.repeats)
        g_exact = np.concatenate([g.ravel() for g in model.gradient(W_KQ, W_PV)])
        X = sample_sequences(law, T, args.m, rng)
        start = time.perf_counter()
        _, g_KQ, g_PV = loss_and_gradient(W_KQ, W_PV, X)
        sample_seconds = time.perf_counter() - start
        g_sample = np.concatenate([g_KQ.ravel(), g_PV.ravel()])
        sample_error = float(np.linalg.norm(g_sample - g_exact) / np.linalg.norm(g_exact))
        report[name] = {
            "build_seconds": build,
            "exact_gradient_median_ms": 1e3 * exact_seconds,
            "finite_sample_gradient_seconds": sample_seconds,
            "finite_sample_relative_error": sample_error,
            "time_ratio_sample_over_exact": sample_seconds / exact_seconds,
        }
        print(f"{name}, d = {d}, T = {T}: arrays built in {build:.2f} s (phase counts cached on disk)")
        print(
            f"  exact gradient (300 real parameters): median {1e3 * exact_seconds:.2f} ms over {args.repeats}"
        )
        print(
            f"  finite-sample gradient, m = {args.m}: {sample_seconds:.2f} s, "
            f"relative error {sample_error:.2e}"
            f"  ({sample_seconds / exact_seconds:.0f}x the exact time)"
        )
        starts = {
            "diagonal (0.1, 0.1)": diagonal_initialization(d, 0.1, 0.1),
            "random, sigma_w = 0.1": random_initialization(d, 0.1, np.random.default_rng(0)),
        }
        for start_name, start in starts.items():
            runs = {}
            for jacobian in ("differenced", "exact"):
                times = []
                for _ in range(args.flow_repeats):
                    begin = time.perf_counter()
                    solution = integrate_full_flow(model, *start, exact_jacobian=jacobian == "exact")
                    times.append(time.perf_counter() - begin)
                runs[jacobian] = (statistics.median(times), solution)
            (before, old), (after, new) = runs["differenced"], runs["exact"]
            gap = float(np.max(np.abs(new.ab[-1] - old.ab[-1])))
            report[name][f"full_flow {start_name}"] = {
                "differenced_jacobian_seconds": before,
                "exact_jacobian_seconds": after,
                "ratio": before / after,
                "ab": float(new.ab[-1]),
                "ab_gap": gap,
                "gradient_norm": new.gradient_norm,
            }
            print(
                f"  full flow from {start_name} to |grad L| <= 1e-11: differenced Jacobian {before:.1f} s, "
                f"exact Jacobian {after:.1f} s ({before / after:.1f}x; median of {args.flow_repeats}); "
                f"ab = {new.ab[-1]:.12f}, |ab gap| {gap:.1e}"
            )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
