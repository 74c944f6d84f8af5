"""The parallel claim runner and the check report."""

import json
from pathlib import Path

from mesacheck.proofs_check import report, runner

BASELINE = json.loads((Path(__file__).parents[2] / "benchmarks" / "check_baseline_full.json").read_text())
CHEAP = ["ab_limit_sparse", "prediction_is_one_gd_step", "ab_limit_high_precision"]


def test_parallel_rows_come_back_in_registry_order_with_the_same_values():
    claims = runner.find_claims(CHEAP)
    parallel = runner.run_claims(claims, quick=True, workers=2)
    serial = runner.run_claims(claims, quick=True, workers=1)
    assert [r["claim"] for r in parallel] == [c.__name__ for c in claims]
    for p, s in zip(parallel, serial):
        assert p["passed"] and {**p, "seconds": 0} == {**s, "seconds": 0}


def test_every_claim_reaches_a_worker_by_reference():
    # the pool pickles each claim as module.name: a claim made by a factory must be found there too
    import pickle

    for claim in runner.find_claims():
        assert pickle.loads(pickle.dumps(claim)) is claim


def test_the_table_fits_100_columns_and_says_what_was_compared():
    text = report.table(BASELINE["claims"])
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "measured 1.83652 <= bound 5" in text  # a passing bound reads as one
    assert "both directions agree" in text
    assert report.slowest(BASELINE["claims"]).startswith("slowest: random_initialization")


def test_the_list_names_every_claim_for_only():
    names = [line.split()[0] for line in report.claim_list().splitlines()]
    assert names == [c.__name__ for c in runner.find_claims()]


def test_the_pool_takes_the_longest_claims_first_and_remembers_their_times(tmp_path, monkeypatch):
    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))
    shipped = runner.expected_seconds(quick=True)  # no timings in this cache yet: the shipped ones
    # every shipped time is a registered claim's; a claim not timed yet (a new extension's) runs first
    assert set(shipped) <= {c.__name__ for c in runner.find_claims()}
    claims = runner.find_claims(CHEAP)
    rows = runner.run_claims(claims, quick=True, workers=2)
    remembered = runner.expected_seconds(quick=True)  # this cache is warm now: at most the warm times
    warm = json.loads(runner.SHIPPED_SECONDS.read_text())["quick_warm"]
    assert {name: remembered[name] for name in CHEAP} == {
        r["claim"]: min(round(r["seconds"], 3), warm[r["claim"]]) for r in rows
    }
    assert remembered["roots_coincide_with_circle"] == shipped["roots_coincide_with_circle"]  # not run here
    # a damaged timings file only loses the ordering: never an error, never a different row
    (tmp_path / "claim-seconds.json").write_text('{"quick": [1, 2]')
    assert runner.expected_seconds(quick=True) == shipped
    again = runner.run_claims(claims, quick=True, workers=2)
    assert [{**r, "seconds": 0} for r in again] == [{**r, "seconds": 0} for r in rows]
