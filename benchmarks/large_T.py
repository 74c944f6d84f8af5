"""`mesacheck limit` at large T in every setting, cold (issue 12 item 6; issue 25 item 1).

Each command runs as a user runs it: a fresh process with an empty derivation cache (a new
MESACHECK_CACHE folder per run). The wall time is the median of ``--runs`` runs (default 3),
printed beside its target and PASS/FAIL. A command the cost guard refuses FAILs with its message.

Independent checks of the answers:

* the paper's process (d = 5 and d = 1000, T = 10^6): lim ab against the closed form
  (T - 2) / (sigma^2 (5 T + (d - 1) H_{T-2} - 10)) at 50 digits (mpmath), which this script
  checks first against the exact finite sums over positions (symbolic_line) at small T;
* the other settings: at T = 200, p* = beta / alpha exactly as the command computes it (the
  averages over W fitted and summed in closed form in T) against the exact finite sum over every
  position (the former code path: process_counts.setting_counts_by_positions and the noise
  terms' finite tails), in a separate process with the derivation cache off. Both are exact
  rationals; the script prints their relative difference (target 1e-12; it is 0). The last
  position also has the closed form p* = (T - 2) / (5 (T - 2) + d - 1) (extension
  last-position), checked at the large T.

Run: python benchmarks/large_T.py [--runs 3] [--json] [--only NAME]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import mpmath  # noqa: E402

# name, options of `mesacheck limit`, T, target seconds, the setting's Python form (for the T = 200 check)
MODULUS = '{"moments": "1/(k+1)"}'
CASES = [
    ("paper d=5", ["--d", "5"], 10**6, 2.0, None),
    ("paper d=1000", ["--d", "1000"], 10**6, 2.0, None),
    ("r=0.5", ["--r", "0.5"], 10**5, 5.0, "Setting(law, circle(sp.Rational(1, 2)))"),
    ("r=0.5", ["--r", "0.5"], 10**6, 2.0, None),
    ("roots:7", ["--phases", "roots:7"], 10**5, 5.0, "Setting(law, roots_of_unity(7))"),
    ("roots:7", ["--phases", "roots:7"], 10**6, 2.0, None),
    (
        "complex noise 0.5",
        ["--noise", "0.5"],
        10**5,
        5.0,
        'Setting(law, noise=Noise("complex", sp.Rational(1, 2)))',
    ),
    ("complex noise 0.5", ["--noise", "0.5"], 10**6, 2.0, None),
    ("last position", ["--loss-positions", "last"], 10**5, 5.0, 'Setting(law, positions="last")'),
    ("last position", ["--loss-positions", "last"], 10**6, 2.0, None),
    ("random modulus (disk)", ["--modulus", MODULUS], 10**5, 5.0, None),
]

# p* at T = 200 by one route, in a fresh process with the cache off; REFERENCE switches the
# fitted closed forms off so that every count is the finite exact sum over positions
PROBE = """
import sys
import sympy as sp
from mesacheck.symbolic import noise_counts, process_counts
from mesacheck.symbolic.moments import gaussian
from mesacheck.symbolic.setting import Noise, Setting, circle, roots_of_unity
from mesacheck.symbolic.symmetric_line import symmetric_line
if sys.argv[2] == "reference":
    process_counts.fitted_setting_counts = lambda *args: None
    noise_counts._progression_tails = lambda *args: None
law = gaussian(5, 1)
print(symmetric_line(eval(sys.argv[1]), 200).ab_star)
"""


def closed_form_50_digits(d: int, length: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.mpf(length - 2) / (5 * length + (d - 1) * mpmath.harmonic(length - 2) - 10)


def last_position_50_digits(d: int, length: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.mpf(length - 2) / (5 * (length - 2) + d - 1)


def check_paper_form() -> None:
    """The 50-digit form above against the exact finite sums over positions at small T."""
    import sympy as sp

    from mesacheck.symbolic.moments import gaussian
    from mesacheck.symbolic.symmetric_line import symmetric_line

    for d in (2, 5, 1000):
        for length in (5, 12, 40):
            exact = symmetric_line(gaussian(d, 1), length).ab_star
            form = sp.Rational(length - 2) / (5 * length + (d - 1) * sp.harmonic(length - 2) - 10)
            if exact != form:
                raise SystemExit(f"the paper's closed form is wrong at d = {d}, T = {length}: {exact}")


def run_cold(options: list[str], length: int) -> tuple[float, float, dict | None, str]:
    """One fresh process, empty cache: wall and CPU seconds, the JSON answer (None if refused)
    and the message. The CPU time says what the wall time would be on a quiet machine (the
    command is single-threaded): the target is judged on the wall time."""
    cache = tempfile.mkdtemp(prefix="mesacheck-cold-")
    command = [
        str(Path(sys.executable).with_name("mesacheck")),
        "limit",
        *options,
        "--T",
        str(length),
        "--json",
    ]
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "MESACHECK_CACHE": cache}, check=False
        )
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        return seconds, cpu, None, (done.stdout.strip() or done.stderr.strip()).splitlines()[-1][:200]
    return seconds, cpu, json.loads(done.stdout), ""


def agreement_at_200(setting: str) -> dict:
    """p* at T = 200 by the command's route and by the finite exact sum, exactly, and their
    relative difference."""
    values = {}
    for route in ("fitted", "reference"):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, setting, route],
            capture_output=True,
            text=True,
            env={**os.environ, "MESACHECK_CACHE": "off"},
            check=True,
        )
        values[route] = done.stdout.strip()
    import sympy as sp

    fitted, reference = (sp.Rational(values[k]) for k in ("fitted", "reference"))
    return {
        "p_star_T200": values["fitted"],
        "p_star_T200_reference": values["reference"],
        "relative_difference": float(abs(fitted - reference) / abs(reference)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--only", default=None, help="run only the cases whose name contains this")
    args = parser.parse_args()
    check_paper_form()
    load = os.getloadavg()[0]
    if not args.json:
        print(
            f"load average {load:.1f} on {os.cpu_count()} cores "
            "(the wall times grow with it; the CPU times do not)"
        )
    rows = []
    for name, options, length, target, setting in CASES:
        if args.only and args.only not in name:
            continue
        times, cpus, answer, message = [], [], None, ""
        for _ in range(args.runs):
            seconds, cpu, answer, message = run_cold(options, length)
            times.append(seconds)
            cpus.append(cpu)
        median = statistics.median(times)
        row = {
            "case": name,
            "command": f"mesacheck limit {' '.join(options)} --T {length}",
            "T": length,
            "seconds": [round(t, 2) for t in times],
            "median": round(median, 2),
            "cpu_seconds": [round(t, 2) for t in cpus],
            "cpu_median": round(statistics.median(cpus), 2),
            "target": target,
            "verdict": "PASS" if answer is not None and median <= target else "FAIL",
            # on a loaded machine: whether the CPU time, what a quiet machine's wall time would be, is
            "cpu_verdict": "PASS" if answer is not None and statistics.median(cpus) <= target else "FAIL",
            "refused": message or None,
        }
        if answer is not None:
            row["ab_exact"] = answer.get("ab_exact")
            row["ab_flow"] = answer.get("ab_flow")
            d = answer.get("d", 5)
            reference = None
            if name.startswith("paper"):
                reference = closed_form_50_digits(d, length)
            elif name == "last position":
                reference = last_position_50_digits(d, length)
            if reference is not None:
                with mpmath.workdps(50):
                    row["exact_relative_error"] = float(
                        abs(mpmath.mpf(answer["ab_exact"]) - reference) / reference
                    )
            row["flow_relative_error"] = answer.get("relative_error")
        if setting is not None:
            row.update(agreement_at_200(setting))
        rows.append(row)
        if not args.json:
            _print_row(row)
    if args.json:
        print(json.dumps({"load_average": load, "cores": os.cpu_count(), "rows": rows}, indent=1))
    else:
        print(
            "\ntargets: T = 10^5 under 5 s; T = 10^6 under 2 s where a closed form exists; p* at T = 200\n"
            "equal to the exact finite sum over positions (relative difference <= 1e-12; both exact)"
        )


def _print_row(row: dict) -> None:
    runs = ", ".join(f"{t:.2f}" for t in row["seconds"])
    line = (
        f"{row['case']:<22} T = {row['T']:<8} median {row['median']:6.2f} s "
        f"(runs {runs}; CPU {row['cpu_median']:.2f} s)  target {row['target']:.0f} s  {row['verdict']}"
        f" (CPU {row['cpu_verdict']})"
    )
    print(line)
    if row["refused"]:
        print(f"    refused: {row['refused']}")
    else:
        extra = f"    lim ab = {row['ab_exact']}, flow relative error {row['flow_relative_error']:.1e}"
        if "exact_relative_error" in row:
            extra += f", against the 50-digit closed form {row['exact_relative_error']:.1e}"
        print(extra)
    if "relative_difference" in row:
        print(
            f"    T = 200: p* = {float(Fraction(row['p_star_T200'])):.15g} (closed forms in T) against the "
            f"finite sum: relative difference {row['relative_difference']:.1e}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
