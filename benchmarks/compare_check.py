"""Compare a `mesacheck check --json` report with the one saved before issue 12's changes.

Field by field, per claim: the same claims and kinds, every claim passes in both, predicted
values equal (symbolic predictions evaluated the same way: 1e-12 relative for floats, exact
otherwise), and measured values within the claim's own tolerance of the saved ones
(atol + rtol |predicted|; identical truth values for iff).

    python benchmarks/compare_check.py NEW.json [--baseline benchmarks/check_baseline_full.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

BASELINE = Path(__file__).with_name("check_baseline_full.json")


def _close(a, b, tolerance) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(_close(x, y, tolerance) for x, y in zip(a, b))
        )
    if isinstance(a, bool | str) or a is None:
        return a == b
    if isinstance(b, bool | str) or b is None:
        return False
    return math.isclose(a, b, rel_tol=0, abs_tol=tolerance) or a == b


def differences(new: dict, old: dict) -> list[str]:
    """Every field-level disagreement between two reports (empty: the same results)."""
    out = []
    new_rows = {r["claim"]: r for r in new["claims"]}
    old_rows = {r["claim"]: r for r in old["claims"]}
    if set(new_rows) != set(old_rows):
        out.append(
            f"claims differ: only new {sorted(set(new_rows) - set(old_rows))}, "
            f"only old {sorted(set(old_rows) - set(new_rows))}"
        )
    for name in sorted(set(new_rows) & set(old_rows)):
        n, o = new_rows[name], old_rows[name]
        if not (n["passed"] and o["passed"]):
            out.append(f"{name}: passed new={n['passed']} old={o['passed']}")
        if n["kind"] != o["kind"]:
            out.append(f"{name}: kind {o['kind']} -> {n['kind']}")
            continue
        predicted = o["predicted"]
        scale = (
            abs(predicted) if isinstance(predicted, float | int) and not isinstance(predicted, bool) else 0
        )
        if not _close(n["predicted"], predicted, 1e-12 * scale):
            out.append(f"{name}: predicted {predicted} -> {n['predicted']}")
        tolerance = 0 if n["kind"] == "iff" else o["atol"] + o["rtol"] * scale
        if not _close(n["measured"], o["measured"], tolerance):
            out.append(f"{name}: measured {o['measured']} -> {n['measured']} (tolerance {tolerance:.1e})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("new")
    parser.add_argument("--baseline", default=str(BASELINE))
    args = parser.parse_args()
    found = differences(json.loads(Path(args.new).read_text()), json.loads(Path(args.baseline).read_text()))
    print(
        "\n".join(found)
        if found
        else "same results: every claim passes, predicted equal, measured within tolerance"
    )
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
