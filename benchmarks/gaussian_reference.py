"""The paper's Gaussian setting (d = 5, T = 100, sigma = 1, (a0, b0) = (0.1, 0.1)), both ways.

Prints, in one run:
1. `mesacheck limit`: wall time (median of --repeats runs of the command with a warm
   derivation cache; the first run, on an empty cache, is reported apart) and its error
   against the closed form;
2. `mesacheck simulate` on the reference's run (m = 10000, eta = 1e-4, 150 steps), for
   --seeds seeds: wall time, ab at steps 0/50/100/150 beside the reference implementation's
   logged values (from shared/spec/model.md) and the exact flow at tau = eta * step, with the
   seed-to-seed spread as the sampling error;
3. the ratios: wall time of simulate over limit, and their errors against the closed form.

    python benchmarks/gaussian_reference.py [--seeds 3] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REFERENCE = {0: 0.0100, 50: 0.0963, 100: 0.1838, 150: 0.1931}  # the spec's reference run
SETTING = ["--x1", "gaussian", "--sigma", "1", "--d", "5", "--T", "100", "--a0", "0.1", "--b0", "0.1"]


CACHE = tempfile.mkdtemp(prefix="mesacheck-cache-")  # starts empty: the first run is truly cold


def timed(args: list[str]) -> tuple[dict, float]:
    environment = os.environ | {"MESACHECK_CACHE": CACHE}
    start = time.perf_counter()
    out = subprocess.run(
        ["mesacheck", *args, "--json"], check=True, capture_output=True, text=True, env=environment
    ).stdout
    return json.loads(out), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()

    cold, cold_seconds = timed(["limit", *SETTING])
    limit_runs = [timed(["limit", *SETTING]) for _ in range(options.repeats)]
    limit_seconds = statistics.median(s for _, s in limit_runs)
    exact = cold["ab_closed_form"]
    limit_error = abs(limit_runs[0][0]["ab_flow"] - exact) / exact
    print(f"closed form lim ab = {exact:.12f}  ({cold['closed_form']})")
    print(
        f"limit:    median wall {limit_seconds:.2f} s over {options.repeats} runs (cold first run "
        f"{cold_seconds:.2f} s); relative error of the flow {limit_error:.1e}"
    )

    simulations = []
    for seed in range(options.seeds):
        payload, seconds = timed(
            [
                "simulate",
                *SETTING,
                "--eta",
                "1e-4",
                "--steps",
                "150",
                "--m",
                "10000",
                "--m-test",
                "10000",
                "--log-every",
                "50",
                "--seed",
                str(seed),
                "--no-progress",
            ]
        )
        simulations.append((payload, seconds))
        print(
            f"simulate: seed {seed}: {seconds:.0f} s, ab = "
            + ", ".join(f"{r['ab']:.4f}" for r in payload["log"]),
            flush=True,
        )
    simulate_seconds = statistics.median(s for _, s in simulations)

    print(
        f"\n{'step':>5} {'reference':>10} {'mesacheck (mean +- sd over seeds)':>34} "
        f"{'z':>6} {'exact flow':>11}"
    )
    rows = []
    for k, step in enumerate(REFERENCE):
        values = [p["log"][k]["ab"] for p, _ in simulations]
        mean = statistics.fmean(values)
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        flow = simulations[0][0]["log"][k]["ab_exact_flow"]
        z = (REFERENCE[step] - mean) / sd if sd > 0 else float("nan")
        rows.append(
            {"step": step, "reference": REFERENCE[step], "mean": mean, "sd": sd, "z": z, "flow": flow}
        )
        print(f"{step:>5} {REFERENCE[step]:>10.4f} {mean:>22.4f} +- {sd:.4f}      {z:>6.2f} {flow:>11.4f}")
    final = [p["ab_final"] for p, _ in simulations]
    simulate_error = abs(statistics.fmean(final) - exact) / exact
    print(
        f"\ngap of the last step to the exact population limit: mean {statistics.fmean(final) - exact:+.4f} "
        f"(relative {simulate_error:.1e}); the reference's own gap: {REFERENCE[150] - exact:+.4f}"
    )
    print(f"simulate: median wall {simulate_seconds:.0f} s per run")
    print(
        f"ratio of wall times simulate / limit: {simulate_seconds / limit_seconds:.0f}x; "
        f"ratio of errors simulate / limit: {simulate_error / max(limit_error, 1e-300):.1e}x"
    )
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(
                {
                    "closed_form": exact,
                    "limit_seconds": limit_seconds,
                    "limit_cold_seconds": cold_seconds,
                    "limit_error": limit_error,
                    "simulate_seconds": simulate_seconds,
                    "simulate_error": simulate_error,
                    "trajectory": rows,
                },
                handle,
                indent=2,
            )


if __name__ == "__main__":
    sys.exit(main())
