"""Every command's JSON on a fixed set of command lines equals the recorded JSON (issue 21).

The refactors that move the mathematics out of the commands must not change what the commands
print. ``tests/golden/command_lines.py`` fixes the command lines and ``tests/golden/record.py``
recorded their JSON. This is a regression snapshot: it checks that the output did not move, not
that it is right (the claims do that).

Compared field by field: the same keys, the same strings, integers, booleans and nulls, and
floats within rtol 1e-6, atol 1e-9. Why not exactly: a refactor may reorder floating-point sums,
which moves an adaptive integrator's path at rounding level (1e-16 relative) and its stopping
time and the gradient norm at the stop by up to its own tolerance (1e-10 relative, ``limit``'s
rtol); 1e-6 sits far above that and far below any change in an answer. Wall-clock fields
(``seconds``, ``wall_seconds``) are skipped.
"""

import json
import math
import pathlib
import sys

import pytest
from click.testing import CliRunner

from mesacheck.proofs_check.cli import main

GOLDEN = pathlib.Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
from command_lines import COMMAND_LINES  # noqa: E402

RTOL, ATOL = 1e-6, 1e-9
SKIPPED = {"seconds", "wall_seconds"}


def differences(recorded, now, where="$"):
    """Every place where ``now`` differs from ``recorded``, as readable lines."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        out = []
        if set(recorded) - SKIPPED != set(now) - SKIPPED:
            out.append(f"{where}: keys {sorted(set(recorded) ^ set(now))} added or removed")
        for key in sorted((set(recorded) & set(now)) - SKIPPED):
            out += differences(recorded[key], now[key], f"{where}.{key}")
        return out
    if isinstance(recorded, list) and isinstance(now, list):
        if len(recorded) != len(now):
            return [f"{where}: length {len(recorded)} became {len(now)}"]
        return [
            line for i, (r, n) in enumerate(zip(recorded, now)) for line in differences(r, n, f"{where}[{i}]")
        ]
    if isinstance(recorded, float) and isinstance(now, float | int) and not isinstance(now, bool):
        if math.isclose(recorded, now, rel_tol=RTOL, abs_tol=ATOL):
            return []
        return [f"{where}: {recorded!r} became {now!r}"]
    if type(recorded) is not type(now) or recorded != now:
        return [f"{where}: {recorded!r} became {now!r}"]
    return []


def test_differences_sees_a_moved_value():
    assert differences({"a": [1.0, "x"]}, {"a": [1.0 + 1e-12, "x"]}) == []
    assert differences({"a": [1.0, "x"]}, {"a": [1.001, "x"]}) == ["$.a[0]: 1.0 became 1.001"]
    assert differences({"a": 1}, {"a": 1, "b": 2}) == ["$: keys ['b'] added or removed"]
    assert differences({"a": True}, {"a": 1}) == ["$.a: True became 1"]


@pytest.mark.parametrize("name, argv", COMMAND_LINES, ids=[name for name, _ in COMMAND_LINES])
def test_command_json_is_unchanged(name, argv):
    recorded = json.loads((GOLDEN / f"{name}.json").read_text())
    assert recorded["argv"] == argv, "command_lines.py changed: re-record with tests/golden/record.py"
    result = CliRunner().invoke(main, [*argv, "--json"])
    assert result.exit_code == recorded["exit_code"], result.output
    found = differences(recorded["json"], json.loads(result.output))
    assert not found, "\n".join(found)
