"""``mesacheck conditions``: the emergence and equal-diagonal moment conditions for a law."""

from __future__ import annotations

import click

from ..costs import announce, conditions_cost, guard
from ._common import emit, progress_wanted, setting_options
from ._process import process_options, require_paper_process


@click.command()
@setting_options()
@process_options()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def conditions(setting, process, a0, b0, mask, force, as_json):
    """Which moment conditions hold: emergence (the full flow keeps the diagonal prediction
    blocks) and equal diagonal (the learned step is vanilla GD); the offending coefficients
    when one fails."""
    import sympy as sp

    from mesacheck.symbolic.conditions import (
        emergence_condition,
        emergence_patterns,
        equal_diagonal_condition,
    )

    del a0, b0, mask  # shared law options; conditions do not depend on them
    require_paper_process(process(setting.sampling_law), "conditions")
    T = setting.T
    cost = conditions_cost(setting.law.d, T)
    guard(cost, force)
    announce(cost, progress_wanted(as_json))
    law = setting.sampling_law
    emergence = emergence_condition(law, T)
    equal = equal_diagonal_condition(law, T) if not emergence else None
    patterns = emergence_patterns(min(law.d, 3), T) if law.real else None
    payload = {
        "law": setting.description,
        "d": law.d,
        "T": T,
        "emergence_condition": {
            "holds": not emergence,
            "general_form": "E[x_j^3 x_k] = E[x_j^5 x_k] = E[x_j^3 x_k^3] = E[x_j^3 x_k x_l^2] = 0, "
            "j, k, l distinct (real x_1)",
            "patterns": patterns,
            "offending": {k: str(v) for k, v in emergence.items()},
        },
        "equal_diagonal_condition": None
        if equal is None
        else {"holds": not equal, "offending": {k: str(v) for k, v in equal.items()}},
    }
    if setting.digits:  # the verdicts do not change with the scale; the coefficients do
        payload["units"] = f"the coefficients are those of x_1 / 10^{setting.digits}"
    lines = [f"{setting.description}, d = {law.d}, T = {T}", *([payload["units"]] if setting.digits else [])]
    lines.append(f"emergence condition: {'holds' if not emergence else 'FAILS'}")
    for k, v in list(emergence.items())[:12]:
        lines.append(f"  coefficient {k} = {sp.sstr(v)} (must be 0)")
    if len(emergence) > 12:
        lines.append(f"  ... {len(emergence) - 12} more (see --json)")
    if equal is None:
        lines.append("equal-diagonal condition: not applicable (the diagonal model is not invariant)")
    else:
        lines.append(
            "equal-diagonal condition: "
            + ("holds (vanilla GD)" if not equal else "FAILS (preconditioned step)")
        )
        for k, v in list(equal.items())[:12]:
            lines.append(f"  coefficient {k} = {sp.sstr(v)} (must be 0)")
    emit(payload, as_json, lines)
