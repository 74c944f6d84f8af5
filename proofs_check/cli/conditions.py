"""``mesacheck conditions``: the emergence and equal-diagonal moment conditions for a law."""

from __future__ import annotations

import click

from ._common import emit, progress_wanted, setting_options
from ._model import model_options
from ._process import process_options


@click.command()
@setting_options()
@process_options()
@model_options(supported=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def conditions(setting, process, a0, b0, mask, force, as_json):
    """Which moment conditions hold: emergence (the full flow keeps the diagonal prediction
    blocks) and equal diagonal (the learned step is vanilla GD); the offending coefficients
    when one fails."""
    import sympy as sp

    from ..verbs.conditions import conditions as moment_conditions

    del a0, b0, mask  # shared law options; conditions do not depend on them
    result = moment_conditions(
        process(setting.sampling_law), setting.T, law=setting, force=force, show_cost=progress_wanted(as_json)
    )
    payload, law, T = result.report, setting.sampling_law, setting.T
    emergence, equal = result.emergence_offending, result.equal_diagonal_offending
    lines = [f"{setting.description}, d = {law.d}, T = {T}", *([payload["units"]] if setting.digits else [])]
    if "setting" in payload:
        lines.append(f"setting: {payload['setting']}")
    lines.append(f"emergence condition: {'holds' if not emergence else 'FAILS'}")
    for k, v in list(emergence.items())[:12]:
        lines.append(f"  coefficient {k} = {sp.sstr(v)} (must be 0)")
    if len(emergence) > 12:
        lines.append(f"  ... {len(emergence) - 12} more (see --json)")
    for block in payload.get("blocks", ()):
        state = (
            ("stays zero" if block["phase_offset"] else "stays diagonal")
            if block.get("stays_zero", block.get("stays_diagonal"))
            else "DRIVEN"
        )
        line = f"  block {block['block']} (phase offset {block['phase_offset']}): {state}"
        if block["driven_entries"]:
            line += f" by {', '.join(block['driving_moments'])}"
        lines.append(line)
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
