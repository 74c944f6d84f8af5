"""The extension contract: every module in proofs_check/extensions is found, registered, runnable
from the command line and shown in the book, with no edit outside its own files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from mesacheck.proofs_check import CLAIMS
from mesacheck.proofs_check.book import claim_map
from mesacheck.proofs_check.cli import main
from mesacheck.proofs_check.extensions import CHANGES, _template, extension_claims, extension_modules
from mesacheck.proofs_check.registry import PAPER_CLAIMS

BOOK = Path(__file__).resolve().parents[2] / "book"
MODULES = extension_modules()


def test_extensions_are_found_and_their_claims_registered_after_the_papers():
    assert len(MODULES) >= 3
    assert CLAIMS == PAPER_CLAIMS + extension_claims()
    names = [c.__name__ for c in CLAIMS]
    assert len(names) == len(set(names)), "claim names must be unique across extensions"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_each_extension_declares_the_contract_and_has_tests_and_a_chapter(module):
    stem = module.__name__.rsplit(".", 1)[-1]
    assert module.CHANGES in CHANGES and module.CLAIMS
    assert module.law(3).d == 3 and not module.law(3).parameters  # numbers, for the command line
    if hasattr(module, "setting"):  # an assumption about the process or the loss
        assert module.setting(3).law == module.law(3) and not module.setting(3).is_paper_process
    assert (Path(__file__).parent / f"test_{stem}.py").is_file()
    chapter = BOOK / f"extension_{stem}.md"
    assert chapter.is_file()
    shown = claim_map(BOOK)
    assert all(shown.get(claim.__name__) == [chapter.stem] for claim in module.CLAIMS)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_the_command_line_takes_each_extension_by_name(module):
    result = CliRunner().invoke(main, ["limit", "--x1", module.NAME, "--d", "2", "--T", "12", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["ab_flow"] > 0
    conditions = CliRunner().invoke(
        main, ["conditions", "--x1", module.NAME, "--d", "2", "--T", "6", "--json"]
    )
    assert conditions.exit_code == 0, conditions.output


def test_an_extension_takes_no_family_options():
    result = CliRunner().invoke(main, ["limit", "--x1", MODULES[0].NAME, "--sigma", "2"])
    assert result.exit_code == 2 and "takes only --d" in result.output


def test_the_template_is_a_working_extension_left_unregistered():
    assert _template.rademacher_limit().passed
    assert _template.rademacher_limit not in CLAIMS
    assert _template.CHANGES in CHANGES


def test_check_lists_extension_claims_beside_the_papers_with_their_source():
    module = MODULES[0]
    only = ["--only", "ab_limit_sparse", "--only", module.CLAIMS[0].__name__]
    result = CliRunner().invoke(main, ["check", "--quick", *only, "--json"])
    assert result.exit_code == 0, result.output
    sources = {row["claim"]: row["source"] for row in json.loads(result.output)["claims"]}
    assert sources == {"ab_limit_sparse": "paper", module.CLAIMS[0].__name__: module.NAME}
    table = CliRunner().invoke(main, ["check", "--quick", *only]).output
    assert module.NAME in table and "paper" in table


def test_a_hand_formula_that_differs_from_the_library_fails_the_claim():
    from mesacheck.proofs_check.extensions._shared import formula_against_flow
    from mesacheck.symbolic.moments import sparse
    from mesacheck.symbolic.population_loss import T

    wrong = formula_against_flow("x", "s", sparse(2, 1), 1 + 1 / T, {T: 10})
    assert not wrong.passed and wrong.evidence["library_minus_formula"] != "0"
    assert formula_against_flow("x", "s", sparse(2, 1), sympy.S.One, {T: 10}).passed
