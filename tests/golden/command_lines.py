"""The fixed command lines whose JSON the refactors of issue 21 must not change.

Each entry is (name, argv). ``record.py`` writes each command's JSON to ``<name>.json``;
``tests/test_json_stability.py`` runs the same command lines and compares field by field. The
recorded files are a snapshot of the command line's output at the commit that recorded them,
not a proof of anything: a change that moves a value on purpose re-records them (and says why
in its commit message).
"""

GAUSSIAN = ["--x1", "gaussian", "--d", "3", "--T", "10"]
ATOMS = '{"points": [[1, 0], [-1, 0], [0, 2], [0, -2]], "weights": ["1/4", "1/4", "1/4", "1/4"]}'

COMMAND_LINES = [
    ("limit_gaussian", ["limit", "--x1", "gaussian", "--d", "5", "--T", "100"]),
    ("limit_sparse", ["limit", "--x1", "sparse", "--c", "1"]),
    ("limit_full_one_masked", ["limit", "--x1", "full-one", "--mask"]),
    ("limit_atoms", ["limit", "--x1", "atoms", "--atoms", ATOMS, "--T", "20"]),
    ("limit_contraction", ["limit", *GAUSSIAN, "--r", "0.9"]),
    ("limit_roots3", ["limit", *GAUSSIAN, "--phases", "roots:3"]),
    ("limit_real_process", ["limit", *GAUSSIAN, "--phases", "roots:2"]),
    ("limit_noise", ["limit", *GAUSSIAN, "--noise", "0.5"]),
    ("limit_modulus", ["limit", *GAUSSIAN, "--modulus", '{"atoms": {"0.9": 0.5, "1": 0.5}}']),
    ("limit_last_position", ["limit", *GAUSSIAN, "--loss-positions", "last"]),
    ("limit_refused", ["limit", "--x1", "gaussian", "--d", "0"]),
    ("conditions_gaussian", ["conditions", *GAUSSIAN]),
    ("conditions_sparse", ["conditions", "--x1", "sparse", "--c", "1"]),
    ("conditions_full_one", ["conditions", "--x1", "full-one", "--d", "3", "--T", "10"]),
    ("recovery_gaussian", ["recovery", *GAUSSIAN]),
    ("recovery_sparse", ["recovery", "--x1", "sparse", "--c", "1", "--T-test", "50"]),
    (
        "flow_full_random",
        ["flow", "--x1", "gaussian", "--d", "2", "--T", "6", "--full", "--init", "random", "--seed", "1"],
    ),
    ("flow_full", ["flow", "--x1", "gaussian", "--d", "2", "--T", "6", "--full"]),
    ("flow_full_contraction", ["flow", "--x1", "gaussian", "--d", "2", "--T", "6", "--full", "--r", "0.8"]),
    (
        "simulate_gaussian",
        ["simulate", "--x1", "gaussian", "--d", "2", "--T", "6", "--steps", "40", "--m", "64", "--seed", "0"],
    ),
    ("check_one_claim", ["check", "--only", "ab_limit_sparse"]),
    (
        "conditions_real_process",
        ["conditions", "--x1", "gaussian", "--d", "2", "--T", "6", "--phases", "roots:2"],
    ),
    (
        # the process of tests/test_cli_hostile.py::test_complex_noise_under_contraction_is_exact
        # (r = 0.9, s = 0.5, T = 10): its exact averages are derived once per run
        "recovery_noise_contraction",
        ["recovery", "--x1", "gaussian", "--d", "2", "--T", "10", "--r", "0.9", "--noise", "0.5"],
    ),
]
