"""Issue 14's acceptance figures: the paper's Figure 5 as a sweep on Dask, and the speed-up of two
workers over one.

The sweep, book/sweeps/figure5.toml with 4 of its laws: `mesacheck flow --full` from a random
initialization of every entry (d = 5, T = 100) for the Gaussian, the sparse token and the shifted
Gaussian x = g + mu at mu = 0.05 and 0.3 (which fails the emergence condition), x sigma_w in
{0.01, 0.1, 0.5, 1} x 10 seeds = 160 exact flows,
with --report-unfinished so that a flow that is not stationary by tau = 10^5 is a row, not an
error. It prints the wall time and points per second of the whole sweep on a LocalCluster of 2
workers, then per law and sigma_w the fraction of runs that end stationary, diagonal and at the
exact p* (every a_j b_j within 1e-9), the largest entry left off the diagonal pattern, and the
errors. Then the speed-up: the same sweep with 3 seeds (48 points) on 1 worker and on 2, each
into an empty folder, cluster start-up included.

Run: python benchmarks/sweep_figure5.py [--seeds 10] [--out DIR]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from mesacheck.proofs_check.cli import main as commands  # noqa: E402
from mesacheck.proofs_check.sweep import read_sweep, run_sweep  # noqa: E402

FIGURE5 = Path(__file__).resolve().parent.parent / "book" / "sweeps" / "figure5.toml"
LAWS = ("Gaussian", "sparse", "mu = 0.05", "mu = 0.3")  # the book's sweep has mu = 0.01 too


def figure5_sweep(seeds: int):
    """The book's Figure 5 sweep (book/sweeps/figure5.toml) with these laws and seeds."""
    sweep = read_sweep(FIGURE5)
    laws = [value for value in sweep.axes["law"] if value["label"] in LAWS]
    return dataclasses.replace(sweep, axes=sweep.axes | {"law": laws, "seed": list(range(seeds))})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="keep the sweep's folder here")
    parser.add_argument("--speedup-only", action="store_true", help="only the 1-versus-2-worker timing")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="figure5-"))
    if not args.speedup_only:
        figure5(args.seeds, root)
    speedup(root)


def figure5(seeds: int, root: Path) -> None:
    sweep = figure5_sweep(seeds)
    print(f"Figure 5 sweep: {sweep.size} points, d = 5, T = 100, into {root}")
    result = run_sweep(sweep, root / "full", commands=commands, workers=2, progress=True)
    print(
        f"2 workers: wall {result.wall_seconds:.0f} s, {result.points_per_second:.3f} points/s, "
        f"computed {result.computed}, cached {result.cached}, failed {result.failed}"
    )
    print(
        f"{'law':<20} {'sigma_w':>7} {'reached':>8} {'stationary':>10} {'max off-diag':>12} {'median s':>8}"
    )
    for law in dict.fromkeys(row["law"] for row in result.rows):
        for scale in sweep.axes["sigma-w"]:
            rows = [r for r in result.rows if r["law"] == law and r["sigma-w"] == scale]
            ok = [r for r in rows if r["status"] == "ok"]
            reached = sum(bool(r.get("exact_limit.reached")) for r in ok)
            stationary = sum(bool(r.get("stationary")) for r in ok)
            off = max((r["off_diagonal"] for r in ok), default=float("nan"))
            seconds = statistics.median(r["wall_seconds"] for r in rows)
            print(
                f"{law:<20} {scale:>7} {reached:>4}/{len(rows):<3} {stationary:>6}/{len(rows):<3} "
                f"{off:>12.2e} {seconds:>8.1f}"
            )
    for error in sorted({r["error"] for r in result.rows if r["status"] != "ok"}):
        print(f"error: {error}")
    print(f"table: {result.files['parquet']}; plot: {result.files.get('plot')}")


def speedup(root: Path, seeds: int = 3) -> None:
    """The Figure 5 sweep with 3 seeds (48 points: every law and scale) into empty folders on 1
    and on 2 workers, cluster start-up included; and the points' own times, which tell the
    machine's contention (each point slower beside another) from the schedule's."""
    import shutil

    subset = figure5_sweep(seeds)
    walls, sums = {}, {}
    for workers in (1, 2):
        shutil.rmtree(root / f"speedup-{workers}", ignore_errors=True)
        timed = run_sweep(subset, root / f"speedup-{workers}", commands=commands, workers=workers)
        walls[workers] = timed.wall_seconds
        sums[workers] = sum(row["wall_seconds"] for row in timed.rows)
        print(
            f"speed-up sweep ({subset.size} points), {workers} worker(s): wall {timed.wall_seconds:.1f} s, "
            f"the points' own times sum to {sums[workers]:.1f} s"
        )
    print(f"speed-up of 2 workers over 1: {walls[1] / walls[2]:.2f}x (target 1.7x)")
    print(f"each point beside another: {sums[2] / sums[1]:.2f}x its time alone")


if __name__ == "__main__":
    main()
