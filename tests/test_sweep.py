"""Sweeps on Dask (mesacheck.proofs_check.sweep, `mesacheck sweep`): the table of a local cluster equals
the points run one by one in this process; a re-run recomputes nothing and an interrupted sweep
resumes with the unfinished points only; a failing point is recorded; an existing scheduler
(started here on loopback) gives the same table; bad specs are refused before any work."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesacheck.proofs_check.cli import main
from mesacheck.proofs_check.sweep import arguments, read_sweep, run_point, run_sweep

# four quick exact limits (d = 2, T = 6) and one point that the command refuses: full-one on the
# unit circle fails the emergence condition, so `limit` will not report the diagonal closed form
SMALL = """
name = "small"
command = "limit"
[fixed]
d = 2
T = 6
[axes]
x1 = ["gaussian", "sparse", "full-one"]
r = [0.9, 1.0]
[plot]
x = "r"
y = "x1"
value = "ab_exact"
"""


def _values(rows):
    return {(row["x1"], row["r"]): (row["status"], row.get("ab_exact"), row.get("error")) for row in rows}


# the tests that read the small sweep run on one worker, so that it runs once
SMALL_GROUP = pytest.mark.xdist_group("small-sweep")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("small")
    return out, run_sweep(read_sweep(SMALL), out, commands=main, workers=2)


@SMALL_GROUP
def test_a_local_cluster_gives_the_table_of_the_points_run_one_by_one(small):
    _, result = small
    sweep = read_sweep(SMALL)
    one_by_one = {}
    for options in sweep.points():
        answer = run_point(arguments("limit", options), main)
        one_by_one[options["x1"], options["r"]] = (
            answer["status"],
            (answer.get("answer") or {}).get("ab_exact"),
            answer.get("error"),
        )
    assert _values(result.rows) == one_by_one
    assert result.computed == 6 and result.cached == 0 and result.failed == 1


@SMALL_GROUP
def test_a_failing_point_is_recorded_with_its_error_and_the_rest_answer(small):
    out, result = small
    failed = [row for row in result.rows if row["status"] != "ok"]
    assert [(row["x1"], row["r"]) for row in failed] == [("full-one", 1.0)]
    # what only the command's run can tell is a failing point too, with the command's message; a
    # sweep whose every point fails writes its table and exits non-zero
    spec = _write(out, 'command = "limit"\n[fixed]\nd = 2\nT = 6\n[axes]\nr = [1.5]\n')
    bad = CliRunner().invoke(main, ["sweep", spec, "--out", str(out / "bad"), "--workers", "1"])
    assert bad.exit_code == 1 and "every one of the 1 points failed" in bad.output, bad.output
    assert "r must lie in (0, 1]" in bad.output and "Traceback" not in bad.output
    assert (out / "bad" / "table.csv").read_text().count("\n") == 2  # the header and the point
    assert "emergence condition fails" in failed[0]["error"]
    assert all(isinstance(row["ab_exact"], float) for row in result.rows if row["status"] == "ok")
    # the tidy table on disk: one row per point, in Parquet and CSV, and the heatmap
    import pyarrow.parquet as pq

    table = pq.read_table(out / "table.parquet")
    assert table.num_rows == 6 and {"x1", "r", "status", "error", "wall_seconds", "ab_exact"} <= set(
        table.column_names
    )
    assert (out / "table.csv").read_text().count("\n") == 7 and (out / "plot.png").stat().st_size > 1000


@SMALL_GROUP
def test_a_rerun_recomputes_nothing_and_a_deleted_point_only(small):
    out, first = small
    again = run_sweep(read_sweep(SMALL), out, commands=main, workers=1)
    assert again.computed == 0 and again.cached == 6 and _values(again.rows) == _values(first.rows)
    stored = sorted((out / "points").glob("*.json"))
    for path in stored[:2]:
        path.unlink()
    resumed = run_sweep(read_sweep(SMALL), out, commands=main, workers=1)
    assert resumed.computed == 2 and resumed.cached == 4 and _values(resumed.rows) == _values(first.rows)


def test_an_interrupted_sweep_resumes_with_the_unfinished_points_only(tmp_path):
    """The command is killed (with its worker processes) once two points are stored; the re-run
    computes exactly the points that were not stored, and the table is complete."""
    spec = tmp_path / "slow.toml"
    spec.write_text(
        'command = "flow"\n[fixed]\nfull = true\nd = 2\nT = 8\ninit = "random"\n'
        "[axes]\nseed = {range = [0, 4]}\nsigma-w = [0.1, 0.5]\n"
    )
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", "from mesacheck.proofs_check.cli import main; main()", "sweep", str(spec)]
        + ["--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while len(list((out / "points").glob("*.json"))) < 2:
            assert process.poll() is None, "the sweep ended before it could be interrupted"
            assert time.monotonic() < deadline, "no point was stored within 2 minutes"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    stored = len(list((out / "points").glob("*.json")))
    assert 2 <= stored < 8
    # one worker: the statement is which points are computed, not how many processes do it
    resumed = run_sweep(read_sweep(spec), out, commands=main, workers=1)
    assert resumed.computed == 8 - stored and resumed.cached == stored and resumed.failed == 0
    assert all(row["exact_limit.reached"] for row in resumed.rows)  # Gaussian: every run ends at p*


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@SMALL_GROUP
def test_an_existing_scheduler_on_loopback_gives_the_same_table(tmp_path, small):
    _, local = small
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    scheduler = subprocess.Popen(
        # this Python's dask (the one that has this mesacheck), not whichever `dask` is on PATH
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-dashboard"],
        **common,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1"]
        + ["--no-dashboard"],
        **common,
    )
    try:
        result = CliRunner().invoke(
            main,
            [
                "sweep",
                _write(tmp_path, SMALL),
                "--out",
                str(tmp_path / "remote"),
                "--scheduler",
                address,
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary["computed"] == 6 and summary["failed"] == 1
        remote = read_sweep(SMALL)
        import csv

        with open(summary["files"]["csv"]) as handle:
            rows = list(csv.DictReader(handle))
        by_point = {(row["x1"], float(row["r"])): row for row in rows}
        for (x1, r), (status, ab, _) in _values(local.rows).items():
            assert by_point[x1, r]["status"] == status
            if ab is not None:
                assert float(by_point[x1, r]["ab_exact"]) == ab  # the same computation, bit for bit
        assert remote.size == len(rows)
    finally:
        for process in (worker, scheduler):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _write(folder: Path, text: str) -> str:
    path = folder / "spec.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ('command = "limit"\n[axes]\nd = []\n', "non-empty list"),
        ('command = "rm"\n[axes]\nd = [2]\n', "command must be one of"),
        ('command = "limit"\n', "at least one axis"),
        ('command = "limit"\n[fixed]\nd = 2\n[axes]\nd = [3]\n', "both fixed and an axis"),
        ('command = "limit"\n[axes]\nseed = {range = [0, 100000000]}\n', "range"),
        ('command = "limit"\n[axes]\nsigma = [nan]\n', "finite"),
        ('command = "limit"\n[axes]\n"--d" = [2]\n', "option name"),
        ('command = "limit"\n[axes]\nd = [2, 2]\n', "repeats"),
        ('command = "limit"\n[axes]\nd = [[2]]\n', "number, a string"),
        ('command = "limit"\n[axes]\nd = [2]\n[plot]\nx = "T"\nvalue = "ab"\n', "not an axis"),
        ('command = "limit"\n[axes]\nd = [2]\nx = [1]\ny = [1]\nz = [1]\n[extra]\n', "unknown sweep keys"),
        ('command = "limit"\n[axes]\nd = ["two"]\n', "is not a valid integer"),  # the command's parser
        ('command = "limit"\n[axes]\nd = [2]\ncolour = ["red"]\n', "No such option"),
        ("this is not toml", "not valid TOML"),
        (
            'command = "limit"\n[axes]\n' + "".join(f"{n} = {{range = [0, 100]}}\n" for n in "abc"),
            "more than",
        ),
    ],
)
def test_a_bad_sweep_is_refused_in_one_line_before_any_work(tmp_path, text, message):
    result = CliRunner().invoke(main, ["sweep", _write(tmp_path, text), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "points").exists() or not any((tmp_path / "o" / "points").iterdir())


@pytest.mark.parametrize(
    "arguments_, message",
    [
        (["/no/such.toml"], "no sweep file"),
        (["/dev/zero"], "no sweep file"),
        (["SPEC", "--scheduler", "http://x"], "address like"),
        (["SPEC", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], "drop it with --scheduler"),
        (["SPEC", "--workers", "0"], "0"),
        (["SPEC", "--out", "/proc/forbidden"], "cannot create"),
    ],
)
def test_bad_sweep_options_are_refused_in_one_line(tmp_path, arguments_, message):
    spec = _write(tmp_path, 'command = "limit"\n[fixed]\nd = 2\nT = 6\n[axes]\nx1 = ["gaussian"]\n')
    result = CliRunner().invoke(main, ["sweep", *[spec if a == "SPEC" else a for a in arguments_]])
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_an_unreachable_scheduler_is_one_line(tmp_path, monkeypatch):
    # nothing listens on the port, so every try fails at once: the 20 s the command gives a slow
    # scheduler would only be waited out here
    monkeypatch.setattr("mesacheck.proofs_check.sweep.SCHEDULER_TIMEOUT", "2s")
    spec = _write(tmp_path, 'command = "limit"\n[fixed]\nd = 2\nT = 6\n[axes]\nx1 = ["gaussian"]\n')
    address = f"tcp://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["sweep", spec, "--scheduler", address, "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "cannot reach the Dask scheduler" in result.output
    assert len(result.output.strip().splitlines()) == 1
