"""Run claims on every core and collect one report row per claim, in registry order.

The claims are independent, so :func:`run_claims` hands them to a process pool
(``concurrent.futures.ProcessPoolExecutor``, forked workers that inherit the loaded modules)
and returns the rows in the order given, whatever order they finish in. A Dask
``LocalCluster`` was measured as the alternative (issue 12): 2.5 s to start two worker
processes, which then import SymPy and the project again, against a ~10 s job; the pool
starts in milliseconds. Each worker uses one BLAS thread (:mod:`numeric`), so two workers on
two cores do not oversubscribe. ``MESACHECK_WORKERS`` sets the number of workers (default:
the machine's cores; 1 runs in this process).

The pool is handed the longest claims first (longest-processing-time scheduling), so that no
long claim starts last and keeps one core busy alone: by the seconds each claim took the last
time it ran with this derivation cache (``claim-seconds.json`` in the cache folder; at most
the measured warm time), else by the seconds measured cold on the project's machine
(``claim_seconds.json`` beside this module, written by ``benchmarks/check_profile.py --claims
--write-seconds``); a claim never timed goes first. The order changes only the wall time, never a row.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .check import claim_fields
from .registry import CLAIMS

__all__ = ["claim_row", "expected_seconds", "find_claims", "run_claims", "worker_count"]

SHIPPED_SECONDS = Path(__file__).with_name("claim_seconds.json")


def worker_count() -> int:
    setting = os.environ.get("MESACHECK_WORKERS", "")
    return max(1, int(setting)) if setting.isdigit() else (os.cpu_count() or 1)


def find_claims(names=()) -> list[Callable]:
    """The registered claims with these names (all of them for none), in registry order;
    ``KeyError`` lists the unknown names."""
    unknown = set(names) - {c.__name__ for c in CLAIMS}
    if unknown:
        raise KeyError(sorted(unknown))
    return [c for c in CLAIMS if not names or c.__name__ in names]


def claim_row(claim: Callable, quick: bool = False) -> dict:
    """Run one claim; its JSON row (a claim that cannot run has failed, and says why)."""
    from .extensions import extension_modules

    start = time.perf_counter()
    try:
        row = claim(quick=quick).as_dict() | {"reference": claim_fields(claim)["reference"]}
    except Exception as error:
        row = {
            "claim": claim.__name__,
            "statement": claim_fields(claim)["claim"],
            "passed": False,
            "error": None,
            "kind": "error",
            "predicted": None,
            "measured": None,
            "failure": f"{type(error).__name__}: {error}",
        }
    row["seconds"] = time.perf_counter() - start
    sources = {c: module.NAME for module in extension_modules() for c in module.CLAIMS}
    row["source"] = sources.get(claim, "paper")  # the paper's claim, or the extension's NAME
    return row


def run_claims(
    claims, *, quick: bool = False, workers: int | None = None, on_done: Callable[[dict], None] | None = None
) -> list[dict]:
    """Rows of :func:`claim_row` in the order of ``claims``; ``on_done(row)`` is called as each
    claim finishes (in completion order), e.g. to print progress."""
    claims = list(claims)
    workers = min(worker_count() if workers is None else workers, len(claims))
    rows: dict[int, dict] = {}
    if workers <= 1:
        for index, claim in enumerate(claims):
            rows[index] = claim_row(claim, quick)
            if on_done:
                on_done(rows[index])
    else:
        seconds = expected_seconds(quick)
        longest_first = sorted(range(len(claims)), key=lambda i: -seconds.get(claims[i].__name__, 1e9))
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(claim_row, claims[index], quick): index for index in longest_first}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                if on_done:
                    on_done(rows[futures[future]])
    ordered = [rows[index] for index in range(len(claims))]
    _remember_seconds(ordered, quick)
    return ordered


def _seconds_file() -> Path | None:
    from mesacheck.symbolic._cache import cache_folder

    folder = cache_folder()
    return None if folder is None else folder / "claim-seconds.json"


def _read_seconds(path: Path | None) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (AttributeError, OSError, ValueError):
        return {}


def expected_seconds(quick: bool) -> dict[str, float]:
    """Each claim's expected wall time (s) at these settings; only orders the pool's work.

    A cache with timings of its own has been filled by an earlier run, so its derivations are
    warm: each claim's last time there, or the shipped warm time if less (the run that filled
    the cache paid the derivations). A cache without them is cold: the shipped cold times."""
    setting = "quick" if quick else "full"

    def numbers(source, key):
        values = source.get(key, {})
        values = values if isinstance(values, dict) else {}
        return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}

    shipped, remembered = _read_seconds(SHIPPED_SECONDS), numbers(_read_seconds(_seconds_file()), setting)
    if not remembered:
        return numbers(shipped, setting)
    warm = numbers(shipped, f"{setting}_warm")
    return numbers(shipped, setting) | {k: min(v, warm.get(k, v)) for k, v in remembered.items()}


def _remember_seconds(rows: list[dict], quick: bool) -> None:
    path = _seconds_file()
    if path is None:
        return
    data = _read_seconds(path)
    setting = "quick" if quick else "full"
    previous = data.get(setting) if isinstance(data.get(setting), dict) else {}
    data[setting] = previous | {r["claim"]: round(r["seconds"], 3) for r in rows}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True))
        temporary.replace(path)  # atomic: two checks at once never leave half a file
    except OSError:
        pass  # a read-only cache folder only loses the ordering
