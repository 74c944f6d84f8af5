"""``mesacheck check``: every registered claim, as a table or JSON."""

from __future__ import annotations

import json
import sys

import click


@click.command()
@click.option("--quick", is_flag=True, help="Smaller samples and grids (about a minute).")
@click.option("--only", multiple=True, help="Run only the named claims.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(quick, only, as_json):
    """Run every registered claim; exit 1 if any fails."""
    from ..check import claim_fields
    from ..extensions import extension_modules
    from ..registry import CLAIMS, run_claim

    claims = [c for c in CLAIMS if not only or c.__name__ in only]
    unknown = set(only) - {c.__name__ for c in CLAIMS}
    if unknown:
        raise click.BadParameter(f"no claim named {sorted(unknown)}", param_hint="--only")
    results = []
    sources = {c: module.NAME for module in extension_modules() for c in module.CLAIMS}
    for claim in claims:
        if not as_json:
            click.echo(f"  running {claim.__name__} ...", err=True)
        try:
            check_, seconds = run_claim(claim, quick=quick)
            row = check_.as_dict() | {"seconds": seconds, "reference": claim_fields(claim)["reference"]}
        except Exception as error:  # a claim that cannot run has failed, and says why
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
        row["source"] = sources.get(claim, "paper")  # the paper's claim, or the extension's NAME
        results.append(row)
    failed = [r["claim"] for r in results if not r["passed"]]
    if as_json:
        click.echo(json.dumps({"passed": not failed, "failed": failed, "claims": results}, indent=2))
    else:
        click.echo(_table(results))
        click.echo(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _table(rows: list[dict]) -> str:
    header = ("claim", "source", "kind", "predicted", "measured", "error", "tolerance", "verdict")
    body = []
    for r in rows:
        tolerance = "-" if r.get("kind") in ("error", None) else f"rtol {r['rtol']:.0e}, atol {r['atol']:.1e}"
        verdict = "PASS" if r["passed"] else "FAIL" + (f" ({r['failure']})" if "failure" in r else "")
        body.append(
            (
                r["claim"],
                r["source"],
                r["kind"],
                _fmt(r["predicted"]),
                _fmt(r["measured"]),
                _fmt(r["error"]),
                tolerance,
                verdict,
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in (header, *body)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    statements = [f"  {r['claim']}: {r['statement']}" for r in rows]
    return "\n".join(lines + ["", "statements:"] + statements)
