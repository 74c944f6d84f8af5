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

`mesacheck limit` (``--limit``): the whole process, the median of ``--repeats`` runs, warm in
the paper's setting (``limit --x1 gaussian --d 5 --T 1000000``, run once more on the same cache
folder first) and cold at ``--d 1000 --T 1000000`` (a fresh cache folder each run), with the
import time of the command line (``python -X importtime -c "from mesacheck.proofs_check.cli import
main"``) and of everything the warm run imports. The trees are byte-compiled first, as an
installed package is. With ``--before-repeats`` above 0, the same for the tree at ``--before``.

    python benchmarks/check_profile.py --limit [--repeats 3] [--before-repeats 3 --before COMMIT]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "ea936f0"  # the commit issue 12 started from
CLI = "from mesacheck.proofs_check.cli import main; main()"
# a tree from before issue 21 has top-level packages: run from its folder, under its names
OLD_CLI = "from proofs_check.cli import main; main()"


def _old_names(tree: Path) -> bool:
    return not (tree / "proofs_check" / "api").is_dir()


def _cli(tree: Path) -> str:
    return OLD_CLI if _old_names(tree) else CLI


def _require_this_tree_installed() -> None:
    """This tree runs as the installed mesacheck: it must be this checkout (pip install -e .)."""
    import importlib.util

    spec = importlib.util.find_spec("mesacheck.proofs_check")
    where = Path(spec.origin).resolve().parent if spec and spec.origin else None
    if where != ROOT / "proofs_check":
        sys.exit(f"the installed mesacheck is not this checkout ({where}): pip install -e {ROOT}")


PER_CLAIM = """
import json, sys, time
from mesacheck.proofs_check.registry import CLAIMS
quick = sys.argv[1] == "quick"
out = {}
for claim in CLAIMS:
    start, cpu = time.perf_counter(), time.process_time()
    claim(quick=quick)
    out[claim.__name__] = [time.perf_counter() - start, time.process_time() - cpu]
print(json.dumps(out))
"""


def _run(args, tree: Path, cache: str, env_extra=None, passing=(0,)) -> tuple[float, str, float]:
    """Run ``args`` in ``tree``: (wall seconds, stdout, CPU seconds of the process and its children).

    A run that exits with a code outside ``passing`` or prints a traceback is an error, not a
    time: a `mesacheck check` that crashes (as one did on a claim its pool could not pickle) or
    fails a claim must not be timed as the main job."""
    env = {**os.environ, "MESACHECK_CACHE": cache, **(env_extra or {})}
    if _old_names(tree):
        env["PYTHONPATH"] = str(tree)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode not in passing or "Traceback (most recent call last)" in result.stderr:
        raise RuntimeError(
            f"{' '.join(args[2:])} exited with {result.returncode}:\n"
            + (result.stderr or result.stdout)[-2000:]
        )
    return wall, result.stdout, cpu


def per_claim(settings, profile: int, write_seconds: bool = False) -> None:
    measured = {}
    for setting in settings:
        with tempfile.TemporaryDirectory() as cache:
            _, cold, _ = _run(["-c", PER_CLAIM, setting], ROOT, cache)
            _, warm, _ = _run(["-c", PER_CLAIM, setting], ROOT, cache)
        cold, warm = json.loads(cold), json.loads(warm)
        measured[setting] = {name: round(wall, 2) for name, (wall, _) in sorted(cold.items())}
        measured[f"{setting}_warm"] = {name: round(wall, 2) for name, (wall, _) in sorted(warm.items())}
        print(f"\n{setting} settings: per-claim wall and CPU time (s), one process, in registry order")
        print(f"{'claim':56s} {'cold':>7s} {'cpu':>6s} {'warm':>7s} {'cpu':>6s}")
        for name in sorted(cold, key=lambda n: -cold[n][0]):
            (cw, cc), (ww, wc) = cold[name], warm[name]
            print(f"{name:56s} {cw:7.2f} {cc:6.2f} {ww:7.2f} {wc:6.2f}")
        totals = [sum(v[i] for v in times.values()) for times in (cold, warm) for i in (0, 1)]
        print(f"{'total':56s} {totals[0]:7.1f} {totals[1]:6.1f} {totals[2]:7.1f} {totals[3]:6.1f}")
        if profile:
            _profile(sorted(warm, key=lambda n: -warm[n])[:profile], setting == "quick")
    if write_seconds:
        path = ROOT / "proofs_check" / "claim_seconds.json"
        path.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
        print(f"\nwrote the cold times to {path.relative_to(ROOT)}")


def _profile(names, quick: bool) -> None:
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


@contextlib.contextmanager
def _tree_at(commit: str):
    """The repository at ``commit``, checked out in a temporary git worktree."""
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), commit],
            check=True,
            capture_output=True,
        )
        try:
            yield old
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


def end_to_end(runs, repeats: int, before: str, before_repeats: int | None = None) -> None:
    with _tree_at(before) as old:
        for run in runs:
            quick = run.startswith("quick")
            medians = {}
            for label, tree in (("before", old), ("after", ROOT)):
                args = ["-c", _cli(tree), "check", *(["--quick"] if quick else [])]
                if label == "before" and before_repeats == 0:
                    continue  # the after tree alone
                times, cpus = [], []
                passing = (0,) if label == "after" else (0, 1)  # an old tree may fail a claim
                for _ in range(repeats if label == "after" or before_repeats is None else before_repeats):
                    with tempfile.TemporaryDirectory() as cache:
                        if run.endswith("warm"):
                            _run(args, tree, cache, passing=passing)  # fill the cache
                        wall, _, cpu = _run(args, tree, cache, passing=passing)
                        times.append(wall)
                        cpus.append(cpu)
                medians[label] = statistics.median(times)
                print(
                    f"{run:10s} {label:6s}: "
                    + ", ".join(f"{t:.1f}" for t in times)
                    + f" s (median {medians[label]:.1f} s; CPU median {statistics.median(cpus):.1f} s"
                    + f", load average {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
            if "before" in medians:
                print(f"{run:10s} ratio before / after: {medians['before'] / medians['after']:.1f}x")


LIMIT_WARM = ["limit", "--x1", "gaussian", "--d", "5", "--T", "1000000"]
LIMIT_COLD = ["limit", "--d", "1000", "--T", "1000000"]


def _import_ms(tree: Path, args=(), cache: str = "") -> tuple[float, float]:
    """(ms to import the command line, ms of every import of ``args``' run), by -X importtime."""
    env = {**os.environ, "MESACHECK_CACHE": cache or os.environ.get("MESACHECK_CACHE", "")}
    if _old_names(tree):
        env["PYTHONPATH"] = str(tree)
    command = _cli(tree) if args else _cli(tree).replace("; main()", "")
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            command,
            *args,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    cli, total = 0.0, 0.0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # a top-level import
            total += int(cumulative) / 1000
            if name.strip() in ("mesacheck.proofs_check.cli", "proofs_check.cli"):
                cli = int(cumulative) / 1000
    return cli, total


def _listed(times) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def limit_times(repeats: int, before: str, before_repeats: int) -> None:
    """`mesacheck limit`, whole process: warm in the paper's setting, cold at d = 1000, T = 10^6."""
    trees = [("after", ROOT, repeats)]
    with contextlib.ExitStack() as stack:
        if before_repeats:
            trees.insert(0, ("before", stack.enter_context(_tree_at(before)), before_repeats))
        medians: dict = {}
        for label, tree, count in trees:
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", "symbolic", "numeric", "proofs_check"],
                cwd=tree,
                capture_output=True,
            )
            with tempfile.TemporaryDirectory() as cache:
                _run(["-c", _cli(tree), *LIMIT_WARM], tree, cache)  # fill the cache
                warm = [_run(["-c", _cli(tree), *LIMIT_WARM], tree, cache)[0] for _ in range(count)]
                imports = [_import_ms(tree, LIMIT_WARM, cache) for _ in range(count)]
            cold = []
            for _ in range(count):
                with tempfile.TemporaryDirectory() as cache:
                    cold.append(_run(["-c", _cli(tree), *LIMIT_COLD], tree, cache)[0])
            cli_ms = statistics.median(c for c, _ in imports)
            all_ms = statistics.median(t for _, t in imports)
            medians[label] = (statistics.median(warm), statistics.median(cold))
            print(
                f"limit {label:6s} (load average {os.getloadavg()[0]:.2f}): "
                f"warm d=5 T=1e6 {_listed(warm)} s (median {medians[label][0]:.2f} s); "
                f"cold d=1000 T=1e6 {_listed(cold)} s (median {medians[label][1]:.2f} s); "
                f"import of the command line {cli_ms:.0f} ms, every import of the warm run {all_ms:.0f} ms",
                flush=True,
            )
        if "before" in medians:
            warm_ratio = medians["before"][0] / medians["after"][0]
            cold_ratio = medians["before"][1] / medians["after"][1]
            print(f"limit ratio before / after: warm {warm_ratio:.2f}x, cold {cold_ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", action="store_true")
    parser.add_argument("--settings", default="quick,full")
    parser.add_argument("--profile", type=int, default=3)
    parser.add_argument("--write-seconds", action="store_true")
    parser.add_argument("--end-to-end", action="store_true")
    parser.add_argument("--limit", action="store_true", help="mesacheck limit, warm and cold")
    parser.add_argument("--runs", default="quick-warm,full-cold")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--before", default=BEFORE)
    # each "before" run of the quick check costs ~6 min plus its cache fill: fewer repeats there
    parser.add_argument("--before-repeats", type=int, default=None, help="default: --repeats")
    args = parser.parse_args()
    _require_this_tree_installed()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.claims or not (args.end_to_end or args.limit):
        per_claim(args.settings.split(","), args.profile, args.write_seconds)
    if args.limit:
        limit_times(args.repeats, args.before, args.before_repeats or 0)
    if args.end_to_end:
        end_to_end(args.runs.split(","), args.repeats, args.before, args.before_repeats)


if __name__ == "__main__":
    main()
