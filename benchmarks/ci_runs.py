"""Run `.ci/run` on fresh clones, some quiet and some beside a busy process, and print each
run's outcome and times (issue 20): the pytest time from its closing line, the whole run's wall
time (install, tests, book and browser check), and the load average.

    python benchmarks/ci_runs.py [--quiet 3] [--busy 2] [--keep-logs DIR]

A busy run starts one CPU-bound process (`python -c "while True: pass"`) before `.ci/run` and
ends it afterwards. Each clone is of the current HEAD (commit first). Exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^=+ (.*) in ([\d.]+)s")


def one_run(busy: bool, logs: Path | None, index: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="mesacheck-ci-"))
    clone = folder / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    commit = subprocess.run(
        ["git", "-C", str(clone), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        result = subprocess.run(
            ["bash", ".ci/run"], cwd=clone, env={**os.environ, "CI": "true"}, capture_output=True, text=True
        )
    finally:
        wall = time.perf_counter() - start
        if hog is not None:
            hog.kill()
            hog.wait()
    output = result.stdout + result.stderr
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"run{index}-{'busy' if busy else 'quiet'}.log").write_text(output)
    shutil.rmtree(folder, ignore_errors=True)
    summary = [m for m in map(SUMMARY.match, output.splitlines()) if m]
    return {
        "commit": commit.stdout.strip(),
        "busy": busy,
        "exit": result.returncode,
        "summary": summary[-1].group(1) if summary else "no pytest summary",
        "pytest_seconds": float(summary[-1].group(2)) if summary else None,
        "wall_seconds": wall,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", type=int, default=3, help="runs on a quiet machine")
    parser.add_argument("--busy", type=int, default=2, help="runs beside one busy process")
    parser.add_argument("--keep-logs", type=Path, help="a folder for each run's output")
    args = parser.parse_args()
    runs = []
    plan = [False] * args.quiet + [True] * args.busy
    print(f"{len(plan)} clean-clone runs of .ci/run on {os.cpu_count()} cores", flush=True)
    for index, busy in enumerate(plan, 1):
        run = one_run(busy, args.keep_logs, index)
        runs.append(run)
        pytest = f"{run['pytest_seconds']:.0f} s" if run["pytest_seconds"] else "-"
        print(
            f"run {index} ({'busy' if busy else 'quiet'}) {run['commit']}: exit {run['exit']}, "
            f"{run['summary']}; "
            f"pytest {pytest}, whole run {run['wall_seconds']:.0f} s; "
            f"load {run['load_before']:.2f} before, {run['load_after']:.2f} after",
            flush=True,
        )
    for busy in (False, True):
        times = [r["pytest_seconds"] for r in runs if r["busy"] == busy and r["pytest_seconds"]]
        if times:
            label = "beside a busy process" if busy else "quiet"
            print(f"median pytest time, {label}: {statistics.median(times):.0f} s over {len(times)} runs")
    passed = sum(r["exit"] == 0 for r in runs)
    print(f"{passed} of {len(runs)} runs passed")
    return 0 if passed == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
