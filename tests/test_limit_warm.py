"""A warm `mesacheck limit` (the symbolic half read from the cache, the flow integrated again)
prints what the cold run printed, and imports no SymPy (issue 20)."""

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from mesacheck.proofs_check import costs as _cost
from mesacheck.proofs_check.cli import main

ATOMS = '{"points": [[1, 0], [0, 2]], "weights": ["1/2", "1/2"]}'  # not exchangeable: no closed form


def run(*args):
    return CliRunner().invoke(main, ["limit", *args])


def without_seconds(text: str) -> str:
    return re.sub(r"\(\d+\.\d\d s\)", "(s)", text)


@pytest.mark.parametrize(
    "args",
    [
        ["--d", "5", "--T", "10"],  # the reduced flow on a_j = a, b_j = b
        ["--d", "4", "--T", "10", "--a0", "-0.2", "--b0", "0.2"],  # the saddle
        ["--d", "2", "--T", "6", "--sigma", "1e-300", "--a0", "1e290", "--b0", "1e290"],  # rescaled
        ["--x1", "full-one", "--d", "2", "--T", "6", "--mask"],
        ["--x1", "atoms", "--atoms", ATOMS, "--T", "6"],  # the flow in every coordinate
    ],
)
def test_the_warm_answer_is_the_cold_one(args, tmp_path, monkeypatch):
    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))
    cold, cold_text = run(*args, "--json"), run(*args)  # the second one is warm already
    assert cold.exit_code == 0, cold.output
    assert len(list(tmp_path.glob("limit-warm-*.pickle"))) == 1  # one entry for text and JSON

    def no_symbolic_half(*_, **__):
        raise AssertionError("a warm run derived the symbolic half")

    monkeypatch.setattr("mesacheck.symbolic.stationary.emergence_limit", no_symbolic_half)
    warm, warm_text = run(*args, "--json"), run(*args)
    assert warm.exit_code == 0, warm.output
    cold_payload, warm_payload = json.loads(cold.output), json.loads(warm.output)
    cold_payload.pop("seconds"), warm_payload.pop("seconds")
    assert warm_payload == cold_payload  # exactly: the same source in the same solver
    assert list(warm_payload) == list(cold_payload)
    assert without_seconds(warm_text.output) == without_seconds(cold_text.output)


def test_a_warm_run_keeps_the_cost_guard(tmp_path, monkeypatch):
    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))
    assert run("--d", "2", "--T", "6").exit_code == 0
    monkeypatch.setattr(_cost, "MAX_SECONDS", 1e-3)
    refused = run("--d", "2", "--T", "6")
    assert refused.exit_code == 2 and "would take about" in refused.output


def test_an_edited_source_or_another_option_is_a_new_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))
    run("--d", "2", "--T", "6")
    run("--d", "2", "--T", "6", "--json")
    run("--d", "2", "--T", "7")
    assert len(list(tmp_path.glob("limit-warm-*.pickle"))) == 2


def test_a_warm_run_imports_no_sympy(tmp_path):
    environment = {**os.environ, "MESACHECK_CACHE": str(tmp_path)}
    program = (
        "import sys\n"
        "from mesacheck.proofs_check.cli import main\n"
        "try:\n"
        "    main(['limit', '--d', '5', '--T', '1000', '--json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sympy'), file=sys.stderr)\n"
    )
    answers = []
    for expected in ("['sympy", "[]"):  # cold, then warm
        done = subprocess.run(
            [sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True
        )
        answers.append(json.loads(done.stdout)["ab_flow"])
        assert done.stderr.strip().startswith(expected), done.stderr
    assert answers[0] == answers[1]
