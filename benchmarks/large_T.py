"""Issue 12, item 6: `mesacheck limit --x1 gaussian --T 1000000` at d = 5 and d = 1000, cold.

Each run is a fresh process with an empty derivation cache (a new MESACHECK_CACHE folder); the
wall time is the median of 3. The returned lim a b (the closed form as a double, and the
integrated flow) is compared with the closed form evaluated here at 50 digits by mpmath:

    lim ab = (T - 2) / (sigma^2 (5 T + (d - 1) H_{T-2} - 10)),

the paper's form at d = 5 for general d. This script derives that form itself: the reduced loss of
the diagonal model expanded in all 2d parameters (mesacheck.symbolic.population_loss,
mesacheck.symbolic.stationary, with the law marked not exchangeable so that no shortcut is
taken) at d = 1..4 must equal it exactly, and the exact finite sums over positions
(mesacheck.symbolic.symmetric_line) must equal it at d = 2, 5, 1000 and T = 5, 12, 40.

Run: python benchmarks/large_T.py [--runs 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath  # noqa: E402
import sympy as sp  # noqa: E402

from mesacheck.symbolic.moments import gaussian, sigma  # noqa: E402
from mesacheck.symbolic.population_loss import T  # noqa: E402
from mesacheck.symbolic.stationary import ab_limit  # noqa: E402
from mesacheck.symbolic.symmetric_line import symmetric_line  # noqa: E402

LENGTH = 10**6
DIMENSIONS = (5, 1000)
d_symbol = sp.Symbol("d", integer=True, positive=True)
GENERAL = (T - 2) / (sigma**2 * (5 * T + (d_symbol - 1) * sp.harmonic(T - 2) - 10))


def derive_general_form() -> None:
    """Check GENERAL against the expanded loss at d = 1..4 and the exact position sums."""
    for d in range(1, 5):
        law = dataclasses.replace(gaussian(d), exchangeable=False)  # expand all 2d parameters
        if sp.simplify(ab_limit(law) - GENERAL.subs(d_symbol, d)) != 0:
            raise SystemExit(f"the general form is wrong at d = {d}: {ab_limit(law)}")
    for d in (2, 5, 1000):
        for length in (5, 12, 40):
            exact = symmetric_line(gaussian(d, 1), length).ab_star
            if exact != GENERAL.subs({d_symbol: d, sigma: 1, T: length}):
                raise SystemExit(f"the general form is wrong at d = {d}, T = {length}: {exact}")
    print(f"closed form: lim ab = {sp.sstr(GENERAL)}")
    print("  equal to the expanded diagonal loss at d = 1..4 (symbolically) and to the exact position")
    print("  sums (mesacheck.symbolic.symmetric_line) at d = 2, 5, 1000 and T = 5, 12, 40")


def closed_form_50_digits(d: int, length: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.mpf(length - 2) / (5 * length + (d - 1) * mpmath.harmonic(length - 2) - 10)


def run_cold(d: int) -> tuple[float, dict]:
    """One fresh process, empty cache: wall seconds and the JSON answer."""
    cache = tempfile.mkdtemp(prefix="mesacheck-cold-")
    command = [
        str(Path(sys.executable).with_name("mesacheck")),
        "limit",
        "--x1",
        "gaussian",
        "--d",
        str(d),
        "--T",
        str(LENGTH),
        "--json",
    ]
    try:
        start = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "MESACHECK_CACHE": cache}, check=False
        )
        seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stdout.strip()} {done.stderr.strip()}")
    return seconds, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    derive_general_form()
    print(f"\n`mesacheck limit --x1 gaussian --T {LENGTH}`, fresh process and empty cache each run")
    header = f"{'d':>5} {'median s':>9} {'runs s':>22} {'lim ab (50 digits)':>24}"
    print(f"{header} {'rel err closed':>15} {'rel err flow':>13}")
    for d in DIMENSIONS:
        times, answer = [], None
        for _ in range(args.runs):
            seconds, answer = run_cold(d)
            times.append(seconds)
        exact = closed_form_50_digits(d, LENGTH)
        with mpmath.workdps(50):
            closed = abs(mpmath.mpf(answer["ab_closed_form"]) - exact) / exact
            flow = abs(mpmath.mpf(answer["ab_flow"]) - exact) / exact
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(
            f"{d:>5} {statistics.median(times):>9.2f} {runs:>22} {mpmath.nstr(exact, 20):>24} "
            f"{mpmath.nstr(closed, 2):>15} {mpmath.nstr(flow, 2):>13}"
        )
    print("target: under 2 s each; the closed form within double rounding (~1e-16), the flow within 1e-10")


if __name__ == "__main__":
    main()
