"""Where the time of `mesacheck check` goes, and the main job before and after issue 12.

Per claim (``--claims``): each registered claim's wall time, run one after another in a fresh
process, cold (an empty ``MESACHECK_CACHE`` folder) and warm (the same folder again), at quick
and full settings, sorted, then a cProfile summary of the slowest few (warm). A cold time
includes the derivations it shares with claims that ran before it.

End to end (``--end-to-end``): `mesacheck check --quick` warm and `mesacheck check` cold
(each run on a fresh cache folder), the median of ``--repeats`` runs, for this tree and for
the tree at ``--before`` (default: the commit issue 12 started from, checked out in a
temporary git worktree), with the ratio before / after measured in the same run.

    python benchmarks/check_profile.py --claims [--settings quick,full] [--profile 3] [--write-seconds]

``--write-seconds`` stores the cold per-claim times as ``proofs_check/claim_seconds.json``,
which `mesacheck check` uses to hand its pool the longest claims first when its cache has no
timings of its own (proofs_check/runner.py).
    python benchmarks/check_profile.py --end-to-end [--runs quick-warm,full-cold] [--repeats 3]
        [--before-repeats 1]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "ea936f0"  # the commit issue 12 started from
CLI = "from mesacheck.proofs_check.cli import main; main()"
PER_CLAIM = """
import json, sys, time
from mesacheck.proofs_check.registry import CLAIMS
quick = sys.argv[1] == "quick"
out = {}
for claim in CLAIMS:
    start = time.perf_counter()
    claim(quick=quick)
    out[claim.__name__] = time.perf_counter() - start
print(json.dumps(out))
"""


def _run(args, tree: Path, cache: str, env_extra=None) -> tuple[float, str]:
    env = {**os.environ, "MESACHECK_CACHE": cache, **(env_extra or {})}
    env["PYTHONPATH"] = str(tree)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise RuntimeError(result.stderr[-2000:])
    return time.perf_counter() - start, result.stdout


def per_claim(settings, profile: int, write_seconds: bool = False) -> None:
    measured = {}
    for setting in settings:
        with tempfile.TemporaryDirectory() as cache:
            _, cold = _run(["-c", PER_CLAIM, setting], ROOT, cache)
            _, warm = _run(["-c", PER_CLAIM, setting], ROOT, cache)
        cold, warm = json.loads(cold), json.loads(warm)
        measured[setting] = {name: round(seconds, 2) for name, seconds in sorted(cold.items())}
        measured[f"{setting}_warm"] = {name: round(seconds, 2) for name, seconds in sorted(warm.items())}
        print(f"\n{setting} settings: per-claim wall time (s), one process, claims in registry order")
        print(f"{'claim':56s} {'cold':>7s} {'warm':>7s}")
        for name in sorted(cold, key=lambda n: -cold[n]):
            print(f"{name:56s} {cold[name]:7.2f} {warm[name]:7.2f}")
        print(f"{'total':56s} {sum(cold.values()):7.1f} {sum(warm.values()):7.1f}")
        if profile:
            _profile(sorted(warm, key=lambda n: -warm[n])[:profile], setting == "quick")
    if write_seconds:
        path = ROOT / "proofs_check" / "claim_seconds.json"
        path.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
        print(f"\nwrote the cold times to {path.relative_to(ROOT)}")


def _profile(names, quick: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from mesacheck.proofs_check.registry import CLAIMS

    for claim in (c for c in CLAIMS if c.__name__ in names):
        profiler = cProfile.Profile()
        profiler.runcall(claim, quick=quick)
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(
            r"(symbolic|numeric|scipy)", 8
        )
        lines = [line for line in text.getvalue().splitlines() if line.strip()]
        print(
            f"\ncProfile of {claim.__name__} ({'quick' if quick else 'full'}, warm): top by cumulative time"
        )
        print("\n".join(lines[-9:]))


def end_to_end(runs, repeats: int, before: str, before_repeats: int | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), before],
            check=True,
            capture_output=True,
        )
        try:
            for run in runs:
                quick = run.startswith("quick")
                args = ["-c", CLI, "check", *(["--quick"] if quick else [])]
                medians = {}
                for label, tree in (("before", old), ("after", ROOT)):
                    if label == "before" and before_repeats == 0:
                        continue  # the after tree alone
                    times = []
                    for _ in range(repeats if label == "after" or before_repeats is None else before_repeats):
                        with tempfile.TemporaryDirectory() as cache:
                            if run.endswith("warm"):
                                _run(args, tree, cache)  # fill the cache
                            times.append(_run(args, tree, cache)[0])
                    medians[label] = statistics.median(times)
                    print(
                        f"{run:10s} {label:6s}: "
                        + ", ".join(f"{t:.1f}" for t in times)
                        + f" s (median {medians[label]:.1f} s)",
                        flush=True,
                    )
                if "before" in medians:
                    print(f"{run:10s} ratio before / after: {medians['before'] / medians['after']:.1f}x")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", action="store_true")
    parser.add_argument("--settings", default="quick,full")
    parser.add_argument("--profile", type=int, default=3)
    parser.add_argument("--write-seconds", action="store_true")
    parser.add_argument("--end-to-end", action="store_true")
    parser.add_argument("--runs", default="quick-warm,full-cold")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", default=BEFORE)
    # each "before" run of the quick check costs ~6 min plus its cache fill: fewer repeats there
    parser.add_argument("--before-repeats", type=int, default=None, help="default: --repeats")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.claims or not args.end_to_end:
        per_claim(args.settings.split(","), args.profile, args.write_seconds)
    if args.end_to_end:
        end_to_end(args.runs.split(","), args.repeats, args.before, args.before_repeats)


if __name__ == "__main__":
    main()
