"""The command line: answers, JSON, and clear errors on bad input (exit status, no traceback)."""

import json

import pytest
from click.testing import CliRunner

from mesacheck.proofs_check.cli import main


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result


def test_limit_json_has_the_documented_fields_and_both_routes_agree():
    result = run(
        "limit",
        "--x1",
        "gaussian",
        "--sigma",
        "1",
        "--d",
        "5",
        "--T",
        "100",
        "--a0",
        "0.1",
        "--b0",
        "0.1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    for key in ("ab_closed_form", "ab_flow", "a_limit", "b_limit", "closed_form_latex", "certificate"):
        assert key in payload
    assert abs(payload["ab_flow"] / payload["ab_closed_form"] - 1) < 1e-10
    assert payload["ab_T_to_infinity"] == pytest.approx(0.2, rel=1e-15)


@pytest.mark.parametrize("args", [["--x1", "sparse", "--c", "1"], ["--x1", "full-one", "--mask"]])
def test_limit_other_families(args):
    result = run("limit", *args, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert abs(payload["ab_flow"] / payload["ab_closed_form"] - 1) < 1e-10


def test_limit_for_user_atoms_inline_and_from_a_file(tmp_path):
    atoms = '{"points": [[1, 0], [-1, 0], [0, 2], [0, -2]], "weights": ["1/4", "1/4", "1/4", "1/4"]}'
    inline = run("limit", "--x1", "atoms", "--atoms", atoms, "--T", "20", "--json")
    assert inline.exit_code == 0, inline.output
    path = tmp_path / "atoms.json"
    path.write_text(atoms)
    from_file = run("limit", "--x1", "atoms", "--atoms", str(path), "--T", "20", "--json")
    assert json.loads(from_file.output)["ab_flow"] == json.loads(inline.output)["ab_flow"]
    # coordinates of different scales: no closed form, a per-coordinate answer from the flow
    assert json.loads(inline.output)["ab_closed_form"] is None
    assert len(json.loads(inline.output)["a_limit"]) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--d", "0"], "d must be >= 1"),
        (["--T", "2"], "T must be >= 3"),
        (["--sigma", "0"], "must be positive"),
        (["--sigma", "-1"], "must be positive"),
        (["--x1", "sparse", "--c", "0"], "must be positive"),
        (["--a0", "nan"], "not a finite number"),
        (["--b0", "inf"], "not a finite number"),
        (["--a0", "0", "--b0", "0"], "stationary point"),
        (["--x1", "full-one"], "pass --mask"),
        (["--x1", "atoms", "--atoms", '{"points": [[1, 0]], "weights": ["-1"]}'], "non-negative"),
        (["--x1", "atoms", "--atoms", '{"points": [[1, 0], [0, 1]], "weights": ["1/2", "1/3"]}'], "sum to 1"),
        (["--x1", "atoms", "--atoms", '{"points": [[1, 0], [1]], "weights": ["1/2", "1/2"]}'], "same length"),
        (["--x1", "atoms", "--atoms", '{"points": [[1, "nan"]], "weights": ["1"]}'], "finite"),
        (["--x1", "atoms", "--atoms", "{not json"], "not JSON"),
        (["--x1", "atoms"], "give the atoms"),
        (["--tau-max", "1e-6"], "did not reach a stationary point"),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(args, message):
    result = run("limit", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_check_runs_named_claims_and_reports_json():
    result = run("check", "--quick", "--only", "ab_limit_sparse", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["passed"] and payload["claims"][0]["claim"] == "ab_limit_sparse"


def test_check_rejects_unknown_claims():
    result = run("check", "--only", "no_such_claim")
    assert result.exit_code != 0 and "no claim named" in result.output


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_simulate_writes_its_log_and_a_plot(tmp_path, suffix):
    log, plot = tmp_path / f"log{suffix}", tmp_path / "ab.png"
    result = run(
        "simulate",
        "--d",
        "2",
        "--T",
        "8",
        "--m",
        "40",
        "--m-test",
        "20",
        "--steps",
        "6",
        "--eta",
        "1e-2",
        "--log-every",
        "3",
        "--out",
        str(log),
        "--plot",
        str(plot),
        "--json",
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert [r["step"] for r in payload["log"]] == [0, 3, 6]
    assert payload["ab_population_limit"] > 0 and payload["log"][0]["ab_exact_flow"] == pytest.approx(0.01)
    assert log.stat().st_size > 0 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_rejects_a_bad_log_name(tmp_path):
    result = run("simulate", "--steps", "1", "--out", str(tmp_path / "log.txt"))
    assert result.exit_code != 0 and ".json or .csv" in result.output


def test_conditions_reports_the_offending_moments_of_full_one():
    result = run("conditions", "--x1", "full-one", "--d", "3", "--T", "6", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["emergence_condition"]["holds"] is False
    assert payload["emergence_condition"]["offending"]


def test_conditions_for_gaussian_hold_both():
    payload = json.loads(run("conditions", "--x1", "gaussian", "--d", "3", "--T", "6", "--json").output)
    assert payload["emergence_condition"]["holds"] and payload["equal_diagonal_condition"]["holds"]


@pytest.mark.parametrize(
    "moments, fragment",
    [('{"2": -1}', "negative"), ('{"2": 2, "4": 1}', "Cauchy-Schwarz"), ("[1]", "JSON object")],
)
def test_inconsistent_moments_get_a_clear_error(moments, fragment):
    result = run("conditions", "--x1", "iid", "--moments", moments)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_mixed_length_atoms_get_a_clear_error():
    result = run(
        "conditions", "--x1", "atoms", "--atoms", '{"points": [[1, 2], [1]], "weights": ["1/2", "1/2"]}'
    )
    assert result.exit_code == 2 and "same length" in result.output


def test_full_flow_reports_limit_certificate_structure_and_heatmap(tmp_path):
    heatmap = tmp_path / "w.png"
    result = run(
        "flow", "--full", "--x1", "full-one", "--d", "2", "--T", "8", "--heatmap", str(heatmap), "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (
        payload["structure"] == "symmetric" and payload["certificate"]["gradient_norm"] <= 1.1e-11
    )  # the stopping event
    # crosses gtol = 1e-11 within the solver's root-finding accuracy
    assert heatmap.stat().st_size > 1000


def test_full_flow_that_blows_up_is_reported():
    # entries of size 1e5 on a quartic loss: the flow runs away and leaves the 1e6 box
    result = run(
        "flow", "--full", "--x1", "gaussian", "--d", "1", "--T", "5", "--init", "random", "--sigma-w", "1e5"
    )
    assert result.exit_code == 1 and ("blows up" in result.output or "stationary" in result.output)


def test_limit_refuses_unmasked_full_one_and_points_to_the_full_flow():
    result = run("limit", "--x1", "full-one", "--d", "2", "--T", "6")
    assert result.exit_code == 2 and "flow --full" in result.output


def test_recovery_reports_gaussian_failure_and_sparse_success():
    gaussian_payload = json.loads(run("recovery", "--d", "3", "--T", "20", "--json").output)
    assert (
        not gaussian_payload["recovery_holds_at_T"]
        and gaussian_payload["expected_ratio_T_to_infinity"] == "1/5"
    )
    sparse_payload = json.loads(run("recovery", "--x1", "sparse", "--d", "3", "--T", "20", "--json").output)
    assert sparse_payload["recovery_holds_at_T"] and sparse_payload["test_loss"] == 0.0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--T-test", "2"], "test length"),
        (["--x1", "iid", "--moments", '{"2": 1, "4": 3, "6": 1}'], "moments"),
    ],
)
def test_recovery_bad_input(args, fragment):
    result = run("recovery", *args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_book_refuses_a_folder_that_is_not_a_book(tmp_path):
    result = run("book", "--source", str(tmp_path))
    assert result.exit_code == 1 and "not a book" in result.output and "Traceback" not in result.output


def test_full_flow_reports_the_exact_limit_and_an_unfinished_flow_only_when_asked():
    """Gaussian from a random start: stationary, diagonal, every a_j b_j at the exact p*. The
    sparse token from the same start: its loss cannot see some entries of W^KQ, which keep their
    random values, and the rest converge only algebraically, so the flow is not stationary by
    tau = 10^4: refused by default, reported (marked) with --report-unfinished."""
    common = ["flow", "--full", "--d", "2", "--T", "10", "--init", "random", "--seed", "3", "--json"]
    gaussian = json.loads(CliRunner().invoke(main, [*common, "--x1", "gaussian"]).output)
    assert gaussian["stationary"] and gaussian["structure"] == "diagonal"
    assert gaussian["exact_limit"]["reached"] and gaussian["exact_limit"]["max_relative_gap"] <= 1e-9
    sparse = [*common, "--x1", "sparse", "--tau-max", "1e4"]
    refused = CliRunner().invoke(main, sparse)
    assert refused.exit_code == 1 and "did not become stationary" in refused.output
    reported = CliRunner().invoke(main, [*sparse, "--report-unfinished"])
    assert reported.exit_code == 0, reported.output
    payload = json.loads(reported.output)
    assert not payload["stationary"] and not payload["exact_limit"]["reached"]
    assert payload["off_diagonal"] > 1e-3  # the entries the loss cannot see keep their start


@pytest.mark.parametrize("x1", [["--x1", "gaussian"], ["--x1", "sparse", "--c", "2"]])
def test_conditions_at_large_d_for_an_exchangeable_law_agree_with_small_d(x1):
    """At d = 1000 the emergence condition is its 4-coordinate marginal's and the equal-diagonal
    condition holds by symmetry (mesacheck.symbolic.conditions); at d = 3 both are expanded in
    full: the verdicts agree (issue 25, item 3)."""
    large = json.loads(run("conditions", *x1, "--d", "1000", "--T", "1000000", "--json").output)
    small = json.loads(run("conditions", *x1, "--d", "3", "--T", "20", "--json").output)
    for key in ("emergence_condition", "equal_diagonal_condition"):
        assert large[key]["holds"] == small[key]["holds"] is True


def test_flow_certify_prints_the_box_and_the_verdict():
    result = run("flow", "--full", "--x1", "full-one", "--d", "2", "--T", "10", "--certify")
    assert result.exit_code == 0, result.output
    assert "certify: box of half-width 1e-09" in result.output
    assert "certified on the real parameters" in result.output and "undecided" in result.output
    payload = json.loads(
        run("flow", "--full", "--x1", "gaussian", "--d", "2", "--T", "10", "--certify", "--json").output
    )
    assert payload["certified"]["unique_zero"] is True and payload["certified"]["real_inertia"] == [23, 1, 0]


@pytest.mark.parametrize(
    "extra, fragment",
    [(["--mask"], "drop --mask"), (["--noise", "0.5"], "without noise"), (["--d", "6"], "d <= 5")],
)
def test_flow_certify_refuses_what_it_cannot_prove(extra, fragment):
    args = ["flow", "--full", "--x1", "gaussian", "--d", "2", "--T", "10", "--certify", *extra]
    result = run(*args)
    assert result.exit_code == 2 and fragment in result.output and "Traceback" not in result.output


def test_flow_certify_says_so_at_a_degenerate_limit():
    """Under W = diag(+-1) the sparse token's limit has more zero modes than the rescaling: the
    bordered Jacobian is singular, and the command says it is not certified (no inf printed)."""
    result = run(
        "flow",
        "--full",
        "--x1",
        "sparse",
        "--d",
        "2",
        "--T",
        "5",
        "--phases",
        "roots:2",
        "--certify",
        "--json",
    )
    assert result.exit_code == 0, result.output
    certified = json.loads(result.output)["certified"]
    assert certified["verdict"].startswith("not certified") and certified["contraction"] is None


def test_flow_of_separate_heads_reaches_the_mesa_optimizer_and_reports_every_head():
    """Issue 23: two heads of separate keys and queries from the diagonal start reach the same
    exact p* as the paper's model (the flow stops at |grad L| <= 1e-11: 1e-9 relative, the
    verb's own REACHED_RTOL), and the JSON names the model and gives every head's matrices."""
    result = run("flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--heads", "2", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["model"]["parameterization"] == "separate" and payload["model"]["heads"] == 2
    assert payload["exact_limit"]["reached"] and payload["structure"] == "diagonal"
    assert [sorted(head) for head in payload["heads"]] == [
        ["W_K", "W_KQ (merged)", "W_PV", "W_Q", "structure"]
    ] * 2
    assert payload["certificate"]["conserved_drift"] <= 1e-10


def test_simulate_trains_a_model_beside_its_exact_flow():
    result = run(
        *["simulate", "--d", "2", "--T", "6", "--model", "separate", "--key-dim", "2", "--a0", "0.3"],
        *[
            "--b0",
            "0.3",
            "--eta",
            "0.05",
            "--steps",
            "20",
            "--m",
            "200",
            "--m-test",
            "50",
            "--log-every",
            "10",
        ],
        "--json",
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["settings"]["model"]["key_dim"] == 2 and len(payload["log"]) == 3
    assert all(row["ab_exact_flow"] is not None for row in payload["log"])
    assert payload["log"][0]["ab"] == payload["log"][0]["ab_exact_flow"]  # the same start


def test_flow_certify_refuses_a_model_other_than_the_papers():
    result = run("flow", "--full", "--d", "2", "--T", "6", "--model", "separate", "--certify")
    assert result.exit_code == 2 and "paper's model" in result.output and "Traceback" not in result.output
