"""Hostile and degenerate input to the command line: a clear one-line refusal with a non-zero
exit, or a finite answer; never a traceback, a hang, nan or inf (issue 11)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.proofs_check import costs as _cost
from mesacheck.proofs_check.cli import main

NON_FINITE = re.compile(r"(?<![\w.])[-+]?(nan|inf)(?![\w])", re.IGNORECASE)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_clean(result, as_json=False):
    """The contract: exit 0 with a finite answer, or non-zero with one line (JSON under --json)."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 0:  # an answer: finite (a refusal may quote the user's nan)
        assert not NON_FINITE.search(result.output), result.output
    else:
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        if as_json:
            assert "error" in json.loads(lines[0])


@pytest.fixture(autouse=True)
def small_budget(monkeypatch):
    """Everything past a few seconds is refused here, so that no drawn input can run long."""
    monkeypatch.setattr(_cost, "MAX_SECONDS", 5.0)
    monkeypatch.setattr(_cost, "MAX_BYTES", 1e9)


# the issue's examples that must be refused, with what the message must say
@pytest.mark.parametrize(
    "args, code, fragment",
    [
        (["limit", "--d", "1000000"], 2, "too large"),
        (["limit", "--x1", "complex-gaussian", "--d", "0"], 2, "d must be >= 1"),  # found by the fuzz
        # (the paper's process at this T is answered now, its counts in closed form in T:
        # tests/symbolic/test_position_sums.py; a random modulus still sums every position)
        (
            ["flow", "--full", "--d", "2", "--T", "1000000000", "--modulus", '{"moments": "1/(k+1)"}'],
            2,
            "too large",
        ),
        (["recovery", "--d", "1000", "--T", "1000000"], 2, "too large"),
        # a law that is not exchangeable expands every coordinate (the Gaussian at d = 50 is
        # answered now: its 4-coordinate marginal, tests/test_cli.py)
        (["conditions", "--x1", "anisotropic-gaussian", "--d", "50"], 2, "--force"),
        (["limit", "--x1", "atoms", "--atoms", "/dev/zero"], 2, "not a regular file"),
        (["limit", "--x1", "atoms", "--atoms", "nosuch.json"], 2, "no such file"),
        (["limit", "--x1", "atoms", "--atoms", '{"points": [[0, 0]], "weights": [1]}'], 2, "x_1 = 0 almost"),
        (["limit", "--x1", "iid", "--moments", '{"2": 0, "4": 0, "6": 0}'], 2, "x_1 = 0 almost"),
        (["limit", "--sigma", "1e300"], 2, "out of the range"),
        (["limit", "--a0", "1e300"], 2, "out of the range"),
        (["simulate", "--out", "/no/such/dir/log.csv"], 2, "No such file"),
        (["simulate", "--out", "/proc/x.csv"], 2, "cannot write"),
        (["simulate", "--m", "1000000000"], 2, "too large"),
        (["flow", "--full", "--heatmap", "nodir/w.png"], 2, "cannot write"),
        (["flow", "--full", "--d", "30"], 2, "too large"),
        (
            ["limit", "--x1", "atoms", "--atoms", '{"points": [[NaN]], "weights": [1]}'],
            2,
            "not a number JSON",
        ),
        (["limit", "--x1", "atoms", "--atoms", "[" * 100000], 2, "not JSON"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_the_issues_examples_are_refused_in_one_line(args, code, fragment, as_json):
    result = run(*args, *(["--json"] if as_json else []))
    assert result.exit_code == code, result.output
    assert_clean(result, as_json)
    if as_json:
        payload = json.loads(result.output)
        assert fragment in payload["error"] and payload["exit_code"] == code
    else:
        assert fragment in result.output and result.output.startswith("Error: ")


@pytest.mark.parametrize("d, T", [(1000, 10**6), (5, 10**9)])
def test_large_gaussian_limits_answer_with_the_closed_form(monkeypatch, tmp_path, d, T):
    """Issue 12: the guard and the limit cost the same at T = 10^6 or 10^9 as at T = 100, and an
    exchangeable law's cost does not grow with d (cold: ~1.8 s through a fresh process)."""
    import mpmath

    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))  # an empty derivation cache
    result = run("limit", "--x1", "gaussian", "--d", d, "--T", T, "--json")
    assert result.exit_code == 0, result.output
    assert_clean(result, as_json=True)
    payload = json.loads(result.output)
    with mpmath.workdps(50):
        exact = mpmath.mpf(T - 2) / (5 * T + (d - 1) * mpmath.harmonic(T - 2) - 10)
    # the closed form is a double: a few roundings of H_{T-2} and one division, ~1e-16 relative
    assert abs(payload["ab_closed_form"] - float(exact)) <= 1e-14 * float(exact) + 0.0
    # the flow stops at a relative Newton step ~1e-12 (LSODA, rtol 1e-12): 1e-10 is a 100x margin;
    # atol 0: the limit is ~0.2, never near 0
    assert abs(payload["ab_flow"] - float(exact)) <= 1e-10 * float(exact) + 0.0


def test_recovery_of_full_one_suggests_only_options_that_exist():
    result = run("recovery", "--x1", "full-one")
    assert result.exit_code == 2 and "--mask" in result.output and "--clip" not in result.output


def test_tiny_scale_is_computed_in_normalized_units_and_reported_exactly():
    result = run(
        "limit", "--sigma", "1e-300", "--d", "2", "--T", "20", "--a0", "1e290", "--b0", "1e290", "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    reference = json.loads(
        run("limit", "--d", "2", "--T", "20", "--a0", "1e-10", "--b0", "1e-10", "--json").output
    )
    # lim ab scales like 1/sigma^2: the same digits, 600 decades up
    mantissa, exponent = payload["ab_closed_form"].split("e+")
    assert int(exponent) == 599 and float(mantissa) / 10 == pytest.approx(
        reference["ab_closed_form"], rel=1e-13
    )
    flow_mantissa, flow_exponent = payload["ab_flow"].split("e+")
    assert flow_exponent == exponent and float(flow_mantissa) == pytest.approx(float(mantissa), rel=1e-9)


START_GRID = {
    "origin": ("0", "0"),
    "a0 = -b0": ("0.3", "-0.3"),
    "a0 = 0": ("0", "0.3"),
    "b0 = 0": ("0.3", "0"),
    "negative": ("-0.2", "-0.4"),
}
SMALL = {
    "limit": ["--d", "2", "--T", "6"],
    "recovery": ["--d", "2", "--T", "6"],
    "conditions": ["--d", "2", "--T", "5"],
    "simulate": ["--d", "2", "--T", "5", "--m", "20", "--m-test", "10", "--steps", "3", "--no-progress"],
    "flow": ["--full", "--d", "2", "--T", "5"],
}


@pytest.mark.parametrize("command", SMALL)
@pytest.mark.parametrize("start", START_GRID)
@pytest.mark.parametrize("as_json", [False, True])
def test_every_command_over_the_special_starts(command, start, as_json):
    a0, b0 = START_GRID[start]
    result = run(command, *SMALL[command], "--a0", a0, "--b0", b0, *(["--json"] if as_json else []))
    assert_clean(result, as_json)
    if command == "limit" and start == "origin":
        assert result.exit_code == 2 and "stationary point" in result.output
        return
    assert result.exit_code == 0, result.output
    if command != "limit":
        return
    if as_json:
        payload = json.loads(result.output)
        kind, ab = payload["limit_kind"], payload["ab_closed_form"]
        assert abs(payload["ab_flow"] - ab) <= 1e-9
    else:
        kind = "saddle" if "(saddle)" in result.output else "mesa-optimizer"
        ab = None
    if start == "a0 = -b0":
        assert kind == "saddle" and ab in (None, 0.0)
        assert "strict saddle at the origin" in result.output
    else:
        assert kind == "mesa-optimizer" and (ab is None or ab > 0)


# Hypothesis: random command lines from hostile pieces
COMMANDS = ["limit", "recovery", "conditions", "simulate", "flow"]
OPTIONS = [
    "--x1", "--sigma", "--c", "--atoms", "--moments", "--d", "--T", "--a0", "--b0", "--mask", "--tau-max",
    "--m", "--m-test", "--steps", "--eta", "--seed", "--log-every", "--T-test", "--full", "--init",
    "--sigma-w", "--out", "--heatmap", "--plot", "--bogus",
    # the setting's options (issue #25: the hostile suite draws every option added since)
    "--r", "--phases", "--modulus", "--noise", "--noise-kind", "--noise-moments", "--loss-positions",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "2",
            "3",
            "1e300",
            "-1e300",
            "1e-300",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "2.5",
            "gaussian",
            "sparse",
            "full-one",
            "atoms",
            "iid",
            "complex-gaussian",
            "nosuch",
            "/dev/zero",
            "/proc/x.csv",
            "nodir/x.png",
            "",
            "ünïcødé",
            "∞",
            "1/3",
            "0x10",
            "99999999999999999999999",
            # values of the setting's options, right and wrong
            "uniform",
            "roots:7",
            "roots:2",
            "roots:0",
            "roots:-3",
            "roots:1e9",
            "complex",
            "real",
            "last",
            "all",
            "{}",
            "[1, 2]",
            '{"2": 1, "4": 3}',
            '{"9/10": "1/2", "1": "1/2"}',
            '{"1": "2"}',
            "1/(k+1)",
            "(1/2)^k",
            "sign:0.3",
            "__import__('os').system('false')",
            "{",
        ]
    ),  # fmt: skip
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**400), 10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=12,
)


@given(
    command=st.sampled_from(COMMANDS),
    pieces=st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=5),
    as_json=st.booleans(),
)
def test_random_command_lines_end_cleanly(command, pieces, as_json):
    args = [command, *(["--full"] if command == "flow" else []), "--d", "2", "--T", "5"]
    for option, value in pieces:  # a flag given a value becomes a stray argument: also hostile
        args += [option, value]
    result = run(*args, *(["--json"] if as_json else []))
    assert_clean(result, as_json)


@given(
    which=st.sampled_from(["atoms", "moments", "points"]),
    value=JSON_VALUES,
    nan_text=st.sampled_from(["", "NaN", "Infinity", "-Infinity", "1e400"]),
)
def test_random_json_laws_end_cleanly(which, value, nan_text):
    if which == "points":  # well formed, with hostile numbers inside
        value = {"points": [[value, nan_text or 1]], "weights": [1]}
        text = json.dumps(value, allow_nan=True)
    else:
        text = json.dumps(value, allow_nan=True) if not nan_text else f'{{"2": {nan_text}}}'
    option = "--moments" if which == "moments" else "--atoms"
    x1 = "iid" if which == "moments" else "atoms"
    result = run("limit", "--x1", x1, option, text, "--T", "5", "--json")
    assert_clean(result, as_json=True)
    if result.exit_code == 0:
        assert json.loads(result.output)["ab_flow"] is not None


def test_the_full_flow_progress_bar_counts_decades_of_the_gradient_down_to_gtol():
    from mesacheck.proofs_check.cli._common import progress_wanted
    from mesacheck.proofs_check.cli.flow import _FlowProgress

    bar = _FlowProgress(gtol=1e-11)
    for tau, norm in [(0.0, 10.0), (1.0, 1e-4), (2.0, 1e-3), (3.0, 1e-12)]:  # a bump never goes back
        bar(tau, norm)
        if tau == 2.0:
            assert bar.bar.n == 5.0
    assert bar.bar.n == bar.bar.total == 12.0
    bar.close()
    assert progress_wanted(as_json=True) is False


@pytest.mark.parametrize(
    "error, fragment",
    [
        (OSError(28, "No space left on device", "log.csv"), "cannot use log.csv: No space left on device"),
        (MemoryError("Unable to allocate 24.0 GiB"), "out of memory (Unable to allocate 24.0 GiB)"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_a_full_disk_or_exhausted_memory_is_one_line(monkeypatch, tmp_path, error, fragment, as_json):
    from mesacheck.proofs_check.cli import simulate

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(simulate, "_write_log", fail)
    args = [*SMALL["simulate"], "--out", tmp_path / "log.csv"]
    result = run("simulate", *args, *(["--json"] if as_json else []))
    assert result.exit_code == 1
    assert_clean(result, as_json)
    assert fragment in (json.loads(result.output)["error"] if as_json else result.output)


def test_atoms_of_huge_length_are_refused_before_they_are_read():
    atoms = json.dumps({"points": [[1] * 200_000], "weights": [1]})
    result = run("conditions", "--x1", "atoms", "--atoms", atoms)
    assert result.exit_code == 2 and "too large" in result.output and "2d = 400000" in result.output


def test_a_coordinate_that_is_zero_almost_surely_is_named():
    atoms = '{"points": [[1, 0], [-1, 0]], "weights": ["1/2", "1/2"]}'
    result = run("limit", "--x1", "atoms", "--atoms", atoms, "--T", "6", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["silent_coordinates"] == [2] and "0 almost surely" in payload["note"]
    assert payload["a_limit"][1] == payload["b_limit"][1] == 0.1  # never moved


def test_mesacheck_alone_shows_the_help_not_an_error():
    result = run()
    assert result.output.startswith("Usage:") and "Commands:" in result.output
    assert "Error" not in result.output


def test_the_cost_guard_gives_its_estimate_and_force_overrides_it(monkeypatch):
    monkeypatch.setattr(_cost, "MAX_SECONDS", 1e-3)
    refused = run("limit", "--d", "2", "--T", "6")
    assert refused.exit_code == 2 and "would take about" in refused.output and "--force" in refused.output
    forced = run("limit", "--d", "2", "--T", "6", "--force", "--json")
    assert forced.exit_code == 0 and json.loads(forced.output)["limit_kind"] == "mesa-optimizer"


@pytest.mark.parametrize(
    "a0, b0", [("-1e-6", "1e-6"), ("-1e-30", "1e-30"), ("1e-20", "3e-20"), ("100", "0.01")]
)
def test_starts_at_the_edges_of_the_range_reach_the_right_limit(a0, b0):
    result = run("limit", "--d", "2", "--T", "10", "--a0", a0, "--b0", b0, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    saddle = float(a0) == -float(b0)
    assert payload["limit_kind"] == ("saddle" if saddle else "mesa-optimizer")
    if saddle:  # into the origin: a b falls by far more than 12 decades below a0 b0
        assert payload["ab_closed_form"] == 0 and abs(payload["ab_flow"]) <= 1e-12 * float(a0) ** 2
    else:
        assert abs(payload["ab_flow"] / payload["ab_closed_form"] - 1) <= 1e-8


def test_recovery_at_a_tiny_scale_rescales_exactly():
    tiny = json.loads(run("recovery", "--sigma", "1e-300", "--d", "3", "--T", "20", "--json").output)
    unit = json.loads(run("recovery", "--d", "3", "--T", "20", "--json").output)
    mantissa, exponent = tiny["p_T"].split("e+")  # p goes like 1/sigma^2
    assert exponent == "599" and float(mantissa) / 10 == pytest.approx(unit["p_T"], rel=1e-13)
    mantissa, exponent = tiny["error_limit_t_to_infinity"].split("e-")  # errors like sigma^2
    assert float(mantissa) * 10.0 ** -(int(exponent) - 600) == pytest.approx(
        unit["error_limit_t_to_infinity"]
    )
    assert tiny["expected_ratio_last_position"] == pytest.approx(unit["expected_ratio_last_position"])
    assert "x_1 / 10^-300" in tiny["units"]


# --- the setting options (issue 13): every command reads them the same way ---------------

SETTING_REFUSALS = [
    (["--r", "0"], "r must lie in (0, 1]"),
    (["--r", "-0.5"], "r must lie in (0, 1]"),
    (["--r", "1.5"], "r must lie in (0, 1]"),
    (["--r", "nan"], "not a finite number"),
    (["--phases", "roots:0"], "N must be an integer >= 1"),
    (["--phases", "roots:-3"], "N must be an integer >= 1"),
    (["--phases", "roots:two"], "give 'roots:N' with N a whole number"),
    (["--phases", "roots:1000000000"], "N = 1000000000 is too large: give N <= 999999999"),
    (["--phases", "roots:" + "9" * 60], "(60 digits) is too large"),
    (["--phases", "roots:3", "--r", "0.5"], "roots of unity have modulus 1"),
    (["--noise", "-1"], "noise scale s must be >= 0"),
    (["--noise", "inf"], "not a finite number"),
    (["--loss-positions", "first"], "'first' is not one of"),
]


@pytest.mark.parametrize("command", ["limit", "flow", "recovery", "conditions", "simulate"])
@pytest.mark.parametrize(
    "arguments, message", SETTING_REFUSALS, ids=[" ".join(a) for a, _ in SETTING_REFUSALS]
)
def test_setting_options_refuse_impossible_values(command, arguments, message):
    extra = ["--full"] if command == "flow" else []
    result = CliRunner().invoke(main, [command, *extra, *arguments, "--d", "2", "--T", "6"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["limit", "flow", "recovery", "conditions"])
@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--noise", "0.5", "--r", "0.9", "--noise-kind", "real"], "under a contraction"),
        (["--noise", "0.5", "--modulus", '{"moments": "1/(k+1)"}'], "random modulus"),
    ],
    ids=["real-noise-contraction", "noise-random-modulus"],
)
def test_noise_is_refused_where_its_averages_are_not_derived(command, arguments, message):
    extra = ["--full"] if command == "flow" else []
    result = CliRunner().invoke(main, [command, *extra, *arguments, "--d", "2", "--T", "6", "--json"])
    assert result.exit_code == 2
    assert message in json.loads(result.output)["error"]


def test_noise_is_exact_where_derived():
    result = CliRunner().invoke(main, ["limit", "--noise", "0.5", "--d", "2", "--T", "10", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert (
        "complex Gaussian noise of scale 1/2" in payload["setting"] and payload["diagonal_invariant"] is True
    )
    assert payload["relative_error"] < 1e-9  # the diagonal flow stops at |grad| <= 1e-12 relative


def test_real_noise_with_complex_phases_is_exact():
    """--noise 0.5 --noise-kind real on the unit circle: an unbalanced pair's time enters the
    phase equations; limit's exact p* agrees with its flow, and the full model keeps the
    diagonal (real noise has E xi^2 = s^2 but no circular symmetry)."""
    arguments = ["--noise", "0.5", "--noise-kind", "real", "--d", "2", "--T", "6", "--json"]
    result = CliRunner().invoke(main, ["limit", *arguments])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert "real Gaussian noise of scale 1/2" in payload["setting"]
    assert payload["relative_error"] < 1e-9  # the diagonal flow stops at |grad| <= 1e-12 relative


def test_complex_noise_under_contraction_is_exact():
    """--r 0.9 --noise 0.5: limit gives p* as an exact finite sum and agrees with its flow; the
    full flow takes the setting too."""
    arguments = ["--noise", "0.5", "--r", "0.9", "--d", "2", "--T", "10", "--json"]
    result = CliRunner().invoke(main, ["limit", *arguments])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert "radius 9/10; complex Gaussian noise of scale 1/2" in payload["setting"]
    assert "exact finite sum" in payload["exact_form"] and payload["diagonal_invariant"] is True
    assert payload["relative_error"] < 1e-9  # the diagonal flow stops at |grad| <= 1e-12 relative
    full = CliRunner().invoke(main, ["flow", "--full", *arguments])
    assert full.exit_code == 0, full.output


def test_conditions_and_recovery_answer_in_a_setting_and_name_the_driven_block():
    """roots:2 (W = diag(+-1)): conditions answers (the upper-right block of W^KQ is driven by
    E[x_j^4]); recovery refuses in one line, since the diagonal model does not describe training."""
    arguments = ["--phases", "roots:2", "--d", "2", "--T", "6"]
    result = CliRunner().invoke(main, ["conditions", *arguments, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    driven = {b["block"]: b for b in payload["blocks"] if b["driven_entries"]}
    assert payload["emergence_condition"]["holds"] is False
    assert "E[x_j^4]" in driven["W^KQ upper-right"]["driving_moments"]
    refused = CliRunner().invoke(main, ["recovery", *arguments])
    assert refused.exit_code == 2 and "emergence condition fails in this setting" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def test_limit_in_a_setting_agrees_with_its_flow_and_says_what_it_is():
    result = CliRunner().invoke(main, ["limit", "--r", "0.9", "--d", "2", "--T", "10", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert "radius 9/10" in payload["setting"] and payload["diagonal_invariant"] is True
    assert payload["relative_error"] < 1e-9  # the diagonal flow stops at |grad| <= 1e-12 relative
    saddle = CliRunner().invoke(
        main,
        ["limit", "--phases", "roots:2", "--d", "2", "--T", "10", "--a0", "0.3", "--b0", "-0.3", "--json"],
    )
    payload = json.loads(saddle.output)
    assert payload["limit_kind"] == "saddle" and payload["diagonal_invariant"] is False
    assert abs(payload["ab_flow"]) < 1e-9


@pytest.mark.parametrize(
    "arguments",
    [
        ["--r", "0.9"],
        ["--phases", "roots:3"],
        ["--noise", "0.5"],
        ["--loss-positions", "last"],
        ["--modulus", '{"moments": "1/(k+1)"}'],
    ],
)
def test_a_closed_form_asked_for_where_none_is_derived_is_refused_with_what_is_given(arguments):
    result = CliRunner().invoke(main, ["limit", "--closed-form", *arguments, "--d", "2", "--T", "6"])
    assert result.exit_code == 2 and "no closed form" in result.output and "exact finite sum" in result.output
    paper = CliRunner().invoke(main, ["limit", "--closed-form", "--d", "2", "--T", "6", "--json"])
    assert paper.exit_code == 0 and json.loads(paper.output)["closed_form"]


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"2": 1, "4": 0.5, "6": 1}', "no complex noise has moments"),
        ('{"2": 1}', "moments of degree 2, 4 and 6"),
        ('{"2": NaN, "4": 1, "6": 1}', "NaN"),
        ("[1, 2, 3]", "moments of degree 2, 4 and 6"),
        ('{"2": "x", "4": 1, "6": 1}', "numbers"),
    ],
)
def test_noise_moments_that_no_law_has_or_that_are_not_moments_are_refused(value, message):
    result = CliRunner().invoke(main, ["limit", "--noise-moments", value, "--d", "2", "--T", "6"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_noise_by_moments_is_exact_and_sampled():
    rademacher = [
        "--noise-moments",
        '{"2": 1, "4": 1, "6": 1}',
        "--noise-kind",
        "real",
        "--phases",
        "roots:2",
    ]
    result = CliRunner().invoke(main, ["limit", *rademacher, "--d", "2", "--T", "8", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["relative_error"] < 1e-9
    sampled = CliRunner().invoke(
        main, ["simulate", *rademacher, "--d", "2", "--T", "6", "--steps", "2", "--m", "20"]
    )
    assert sampled.exit_code == 0, sampled.output


@pytest.mark.parametrize(
    "value, message",
    [
        ('{"moments": "2^k"}', "no law of rho"),
        ('{"moments": "9^9^9^9"}', "every power"),  # refused before anything is evaluated
        ('{"moments": "(1/2)^(1000*k)"}', "every power"),
        ('{"moments": "__import__(1)"}', "unknown names"),
        ('{"moments": "k.__class__"}', "unknown names"),
        ('{"moments": "1/(k+1"}', "cannot read"),
        ('{"moments": "1/(k-1)"}', "not a rational number"),
        ('{"moments": 3}', "digits, k"),
        ('{"atoms": {"1.5": 1}}', "(0, 1]"),
        ('{"atoms": {"0.5": 0.5}}', "sum to 1"),
        ('{"atoms": {"0.5": NaN}}', "NaN"),
        ('{"atoms": [0.5]}', "radius: probability"),
        ('{"radius": 1}', '{"atoms"'),
    ],
)
def test_a_modulus_law_that_is_not_a_law_is_refused(value, message):
    result = run("limit", "--modulus", value, "--d", "2", "--T", "6")
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert_clean(result)


def test_a_random_modulus_is_exact_and_sampled_and_refused_where_not_derived():
    disk = ["--modulus", '{"moments": "1/(k+1)"}', "--d", "2"]
    result = run("limit", *disk, "--T", "8", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["relative_error"] < 1e-9
    assert run("simulate", *disk, "--T", "6", "--steps", "2", "--m", "20").exit_code == 0
    for arguments in (["--r", "0.9"], ["--phases", "roots:2"], ["--noise", "0.5"]):
        refused = run("limit", *disk, "--T", "6", *arguments)
        assert refused.exit_code == 2 and len(refused.output.strip().splitlines()) == 1, refused.output
    too_long = run("simulate", *disk, "--T", "60", "--steps", "1", "--m", "10")
    assert too_long.exit_code != 0 and "atoms" in too_long.output
    assert_clean(too_long)


# --- text that SymPy would evaluate: never reaches it (found by the hostile replay, issue 25) --

INJECTIONS = [
    ["--phases", "sign:__import__('os').system('touch {marker}')"],
    ["--modulus", '{{"atoms": {{"__import__(\\"os\\").system(\\"touch {marker}\\")": 1}}}}'],
    ["--noise-moments", '{{"2": "__import__(\\"os\\").system(\\"touch {marker}\\")", "4": 1, "6": 1}}'],
]


@pytest.mark.parametrize("arguments", INJECTIONS, ids=[a[0] for a in INJECTIONS])
def test_code_in_a_number_is_refused_and_never_run(arguments, tmp_path):
    marker = tmp_path / "ran"
    option, value = arguments
    result = CliRunner().invoke(main, ["limit", option, value.format(marker=marker), "--d", "2", "--T", "6"])
    assert result.exit_code == 2, result.output
    assert "not a number" in result.output and "Traceback" not in result.output
    assert not marker.exists()  # SymPy's eval never saw the text


def test_a_sweep_file_nested_too_deeply_is_one_line(tmp_path):
    spec = tmp_path / "nested.toml"
    spec.write_text('name = "n"\ncommand = "limit"\n[axes]\nd = ' + "[" * 5000 + "1" + "]" * 5000 + "\n")
    result = CliRunner().invoke(main, ["sweep", str(spec)])
    assert result.exit_code == 2 and "nests its arrays or tables too deeply" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["limit"],
        ["flow", "--full", "--d", "2"],
        ["simulate", "--d", "2", "--T", "20", "--steps", "10", "--m", "100", "--m-test", "100"],
    ],
    ids=["limit", "flow", "simulate"],
)
def test_exact_numbers_that_would_grow_huge_are_refused_with_the_estimate(command):
    """r = 1e-300 adds ~2000 bits per power of |lambda|^2 (issue 25: the limit ran past 60 s)."""
    result = CliRunner().invoke(main, [*command, "--r", "1e-300"])
    assert result.exit_code == 2, result.output
    assert "bits" in result.output and "limit 20,000 bits" in result.output and "--force" in result.output


# --- the model options (issue 23): read one way, refused clearly where impossible ---------------


@pytest.mark.parametrize("command", [["flow", "--full"], ["simulate"]])
@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["--heads", "0"], "must be >= 1"),
        (["--heads", "-3"], "must be >= 1"),
        (["--heads", "1.5"], "whole number"),
        (["--heads", "two"], "whole number"),
        (["--heads", "9"], "<= 8"),
        (["--heads", "1" + "0" * 40], "whole number"),
        (["--model", "separate", "--key-dim", "0"], "must be >= 1"),
        (["--model", "separate", "--key-dim", "nan"], "whole number"),
        (["--model", "separate", "--key-dim", "65"], "<= 64"),
        (["--model", "separate", "--key-dim", "21"], "<= 4 d = 20"),  # over the limit at d = 5
        (["--key-dim", "3"], "needs separate keys"),
        (["--model", "tied"], "Invalid value for '--model'"),
        (["--model", "separate", "--mask"], "mask only merged"),
        (["--model", "separate", "--key-dim", "1"], "--init random"),  # a diagonal start of rank d > 1
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_impossible_models_are_refused_in_one_line(command, arguments, fragment, as_json):
    result = run(*command, *arguments, *(["--json"] if as_json else []))
    assert result.exit_code == 2, result.output
    assert_clean(result, as_json)
    assert fragment in (json.loads(result.output)["error"] if as_json else result.output)


@pytest.mark.parametrize("command", [["limit"], ["recovery"], ["conditions"]])
@pytest.mark.parametrize("arguments", [["--model", "separate"], ["--heads", "2"]])
def test_commands_without_models_refuse_them_naming_those_that_take_them(command, arguments):
    result = run(*command, *arguments)
    assert result.exit_code == 2, result.output
    assert_clean(result)
    assert "`mesacheck flow --full` and `mesacheck simulate` take --model" in result.output


def test_the_papers_model_named_explicitly_is_the_default_everywhere():
    named = run("limit", "--d", "2", "--T", "5", "--model", "merged", "--heads", "1", "--json")
    default = run("limit", "--d", "2", "--T", "5", "--json")
    assert named.exit_code == default.exit_code == 0
    assert json.loads(named.output)["ab_closed_form"] == json.loads(default.output)["ab_closed_form"]


def test_a_model_in_a_setting_the_exact_loss_refuses_is_one_line():
    """A model trains beside its exact flow: real noise under a contraction has no exact
    averages, so simulate refuses it for any model but the paper's (which trains alone)."""
    result = run(
        *["simulate", "--d", "2", "--T", "6", "--model", "separate", "--noise", "0.3", "--r", "0.9"],
        *["--noise-kind", "real", "--steps", "2", "--m", "20", "--m-test", "10"],
    )
    assert result.exit_code == 2, result.output
    assert_clean(result)
    assert "exact loss refuses this setting" in result.output
