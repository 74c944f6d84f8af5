"""``mesacheck check``: every registered claim, run on every core, as a table or JSON."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--quick", is_flag=True, help="The smallest settings that still test each claim.")
@click.option("--only", multiple=True, help="Run only the named claims (see --list).")
@click.option("--list", "list_claims", is_flag=True, help="Name every claim and stop.")
@click.option("--verbose", is_flag=True, help="Add each claim's statement, tolerance and full values.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(quick, only, list_claims, verbose, as_json):
    """Run every registered claim (in parallel); exit 1 if any fails."""
    from ..report import run_check

    try:
        sys.exit(run_check(only, quick=quick, list_claims=list_claims, verbose=verbose, as_json=as_json))
    except KeyError as error:
        raise click.BadParameter(f"no claim named {error.args[0]}; see --list", param_hint="--only") from None
