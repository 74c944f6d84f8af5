"""The text report of ``mesacheck check``: a table that fits 100 columns, what each row
compared, the slowest claims, and the list of claim names.

Long values and statements go to ``--verbose`` (and are always in the JSON).
"""

from __future__ import annotations

import json
import sys
import time

from .registry import CLAIMS
from .runner import find_claims

__all__ = ["claim_list", "compared", "progress_line", "run_check", "slowest", "table"]

WIDTH = 100
_NAME = 40  # the longest claim names are cut with "~"; --verbose and --json give them whole


def _number(value, digits: int = 6) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | int):
        return f"{value:.{digits}g}"
    if isinstance(value, list):
        return "(" + ", ".join(_number(v, digits) for v in value) + ")"
    return str(value)


def compared(row: dict, digits: int = 6) -> str:
    """What the row compared, in words a passing row cannot be misread by.

    >>> compared({"kind": "upper_bound", "measured": 1.84, "predicted": 5, "passed": True})
    'measured 1.84 <= bound 5'
    >>> compared({"kind": "iff", "measured": [True, False], "predicted": [True, False]})
    'both directions agree (2 of 2)'
    >>> compared({"kind": "equal", "measured": 0.19190508, "predicted": 0.1919051, "error": 2e-8})
    '0.191905 vs 0.191905, error 2.0e-08'
    """
    kind, measured, predicted = row.get("kind"), row.get("measured"), row.get("predicted")
    if kind == "upper_bound":
        sign = "<=" if row.get("passed", True) else ">"
        return f"measured {_number(measured, digits)} {sign} bound {_number(predicted, digits)}"
    if kind == "vanishes":
        return f"|measured| {_number(measured, 2)} <= atol {_number(row.get('atol'), 2)}"
    if kind == "iff":
        agree = sum(p == m for p, m in zip(predicted, measured))
        if agree == len(predicted):
            return f"both directions agree ({agree} of {len(predicted)})"
        return f"{len(predicted) - agree} of {len(predicted)} directions disagree"
    if kind == "equal":
        return f"{_number(predicted, digits)} vs {_number(measured, digits)}, error {row['error']:.1e}"
    if kind == "certified":
        evidence = row.get("evidence", {})
        proven = "proven" if measured is True else "NOT proven"
        return f"{proven}: box +/- {_number(evidence.get('radius'), 2)}, {evidence.get('verdict', '-')}"
    return row.get("failure", "-")


def table(rows: list[dict], *, verbose: bool = False) -> str:
    """One line per claim (<= 100 columns): claim, what was compared (predicted vs measured
    for equalities), verdict, seconds, under a line naming the source (the paper or an
    extension). ``verbose`` adds each claim's statement, kind,
    tolerance and full values."""
    header = ("claim", "compared", "verdict", "s")
    body = [
        (
            _cut(r["claim"], _NAME),
            compared(r),
            "PASS" if r["passed"] else "FAIL",
            f"{r.get('seconds', 0):.1f}",
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    widths[1] = min(widths[1], WIDTH - 2 * (len(header) - 1) - widths[0] - widths[2] - widths[3])
    body = [(row[0], _cut(row[1], widths[1]), *row[2:]) for row in body]
    lines = [
        "  ".join(str(x).ljust(w) for x, w in zip(header, widths)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    source = None
    for r, row in zip(rows, body):
        if r.get("source", "paper") != source:  # registry order groups the claims by source
            source = r.get("source", "paper")
            lines.append(f"[{source}]" if source == "paper" else f"[extension {source}]")
        lines.append("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    if verbose:
        for r in rows:
            lines += ["", f"{r['claim']} ({r.get('source', 'paper')}, {r.get('kind')}): {r['statement']}"]
            if r.get("kind") == "error":
                lines.append(f"  {r.get('failure')}")
            else:
                lines.append(f"  {compared(r, 17)}")
                lines.append(f"  rtol {r['rtol']:.0e}, atol {r['atol']:.1e}: {r['tolerance']}")
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def slowest(rows: list[dict], count: int = 3) -> str:
    """'slowest: name 12.3 s, ...' for the ``count`` slowest claims."""
    ranked = sorted(rows, key=lambda r: -r.get("seconds", 0))[:count]
    return "slowest: " + ", ".join(f"{r['claim']} {r.get('seconds', 0):.1f} s" for r in ranked)


def progress_line(row: dict, done: int, total: int, elapsed: float) -> str:
    verdict = "PASS" if row["passed"] else "FAIL"
    return f"  [{done}/{total}, {elapsed:.0f} s] {verdict} {row['claim']} ({row.get('seconds', 0):.1f} s)"


def claim_list() -> str:
    """Every claim's name (for --only) and its one-line statement source, in registry order."""
    from .extensions import extension_modules

    sources = {c: module.NAME for module in extension_modules() for c in module.CLAIMS}
    width = max(len(c.__name__) for c in CLAIMS)
    return "\n".join(f"{c.__name__.ljust(width)}  {sources.get(c, 'paper')}" for c in CLAIMS)


def run_check(only=(), *, quick=False, list_claims=False, verbose=False, as_json=False) -> int:
    """``mesacheck check``: run the claims named in ``only`` (all for none) on every core,
    print progress on stderr as each finishes, then the table (or JSON) in registry order and
    the slowest three; return the exit status (1 if any claim failed). Unknown names raise
    ``KeyError`` with the list of them."""
    if list_claims:
        print(claim_list())
        return 0
    from .verbs.check import check

    total = len(find_claims(only))
    start, done = time.perf_counter(), []

    def on_done(row):
        done.append(row)
        if not as_json:
            line = progress_line(row, len(done), total, time.perf_counter() - start)
            print(line, file=sys.stderr, flush=True)

    report = check(only, quick=quick, on_done=on_done)
    results, failed = report.claims, report.failed
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(table(results, verbose=verbose))
        seconds = time.perf_counter() - start
        print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed in {seconds:.0f} s")
        print(slowest(results))
    return 1 if failed else 0
