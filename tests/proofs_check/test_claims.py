"""Every registered claim holds (quick settings), and every check is able to fail."""

import dataclasses

import pytest

from mesacheck.proofs_check import CLAIMS, Check, claim_fields, claim_table, run_claim
from mesacheck.proofs_check.claims import _template


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.__name__)
def test_claim_holds(claim):
    check, _ = run_claim(claim, quick=True)
    assert check.claim == claim.__name__
    assert check.passed, check.as_dict()


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.__name__)
def test_a_claims_certified_ball_contains_its_closed_form(claim):
    """A claim whose prediction is exact and algebraic reports a ball (`check --json`) that
    contains the closed form evaluated by mpmath at 50 digits and rejects it shifted by 1e-30
    relative (its verdict is shared with test_claim_holds: no second run)."""
    from mesacheck.numeric.bridge import algebraic_data
    from mesacheck.numeric.certify import certified_value

    from ..numeric.test_certify import WRONG, contains_50_digits

    check, _ = run_claim(claim, quick=True)
    if check.exact is None:
        return
    value = certified_value(algebraic_data(check.exact))
    assert contains_50_digits(value, check.exact)
    assert not contains_50_digits(value, check.exact * (1 + WRONG))
    reported = check.as_dict()["certified"]
    assert reported["contains_predicted"] and reported["radius"] == value.radius


def test_at_least_ten_claims_carry_a_certified_ball():
    """Issue 24's acceptance: >= 10 claims carry an exact algebraic prediction (listed after the
    claims' own tests, so that their shared verdicts are ready)."""
    exact = [c.__name__ for c in CLAIMS if run_claim(c, quick=True)[0].exact is not None]
    assert len(exact) >= 10, exact


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.__name__)
def test_claim_is_documented_as_a_statement(claim):
    fields = claim_fields(claim)
    assert fields["derivation"].split()[0].startswith(("eq-", "thm-", "asm-", "ex-", "fig-"))
    assert len(fields["claim"]) > 40 and fields["reference"]


def test_the_template_claim_runs_and_holds():
    assert _template.my_claim().passed


def _check(**changes):
    base = dict(
        claim="c",
        statement="s",
        kind="equal",
        predicted=1.0,
        measured=1.0,
        rtol=1e-9,
        atol=0.0,
        tolerance="t",
    )
    return Check(**(base | changes))


def test_equal_fails_outside_rtol_and_atol():
    assert _check(measured=1.0 + 5e-10).passed
    assert not _check(measured=1.0 + 2e-9).passed
    assert _check(predicted=0.0, measured=1e-13, atol=1e-12).passed
    assert not _check(predicted=0.0, measured=1e-11, atol=1e-12).passed


def test_vanishes_upper_bound_and_iff_can_fail():
    assert not _check(kind="vanishes", predicted=0.0, measured=1e-3, atol=1e-6).passed
    assert not _check(kind="upper_bound", predicted=1.0, measured=1.1).passed
    assert _check(kind="upper_bound", predicted=1.0, measured=0.5).passed
    assert not _check(kind="iff", predicted=(True, False), measured=(True, True)).passed
    assert not _check(measured=float("nan")).passed


@pytest.mark.parametrize(
    "claim",
    [c for c in CLAIMS if c.__name__ in ("ab_limit_gaussian", "ab_limit_sparse", "full_one_masked_limit")],
)
def test_a_wrong_prediction_would_be_caught(claim):
    """Negative control: shifting the prediction by 1e-8 relative fails the emergence claims,
    so their tolerance is tight enough to see a wrong closed form (e.g. a wrong harmonic term,
    which moves the Gaussian limit by percent)."""
    check, _ = run_claim(claim, quick=True)
    wrong = dataclasses.replace(check, predicted=check.predicted * (1 + 1e-8))
    assert check.passed and not wrong.passed


def test_claim_table_lists_every_claim_with_its_fields():
    table = claim_table()
    assert [row["name"] for row in table] == [c.__name__ for c in CLAIMS]
    assert all({"claim", "derivation", "guarantee", "reference"} <= set(row) for row in table)


def test_as_dict_turns_nested_evidence_into_plain_json():
    import json

    check = _check(evidence={"cases": [{"d": 1, "errors": [1e-16, 2e-16]}], "ratio": 0.5})
    assert json.loads(json.dumps(check.as_dict()))["evidence"]["cases"][0]["d"] == 1
