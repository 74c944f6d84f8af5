"""The chapter's table: one registered claim per cell, and each cell can fail."""

import dataclasses

from mesacheck.proofs_check import CLAIMS, run_claim
from mesacheck.proofs_check.claims.theorems_by_setting import ROWS, cell_name, summary


def _verdict(row_key: str, column: str):
    by_name = {c.__name__: c for c in CLAIMS}
    return run_claim(by_name[f"theorems_{row_key}_{column}"], quick=True)[0]


def test_every_cell_is_a_registered_claim_with_its_own_name():
    names = [c.__name__ for c in CLAIMS]
    cells = [cell_name(row, column) for row in ROWS for column in ("emergence", "vanilla_gd", "recovery")]
    assert len(set(cells)) == len(cells) == 3 * len(ROWS)
    assert set(cells) <= set(names)


def test_the_cells_tell_the_settings_apart():
    """Negative control: one setting's prediction against another's measurement fails. The real
    process (N = 2) drives a block the paper's process does not, and a contraction's limiting
    error (1) is not the recovering paper's (0) within its tolerance."""
    paper, real = _verdict("paper_process", "emergence"), _verdict("roots_2", "emergence")
    assert paper.passed and real.passed
    assert not dataclasses.replace(paper, predicted=real.predicted).passed
    contraction, recovering = _verdict("contraction", "recovery"), _verdict("paper_process", "recovery")
    assert not dataclasses.replace(contraction, predicted=recovering.predicted).passed
    assert not dataclasses.replace(recovering, predicted=contraction.predicted).passed


def test_the_table_cells_say_the_verdicts():
    assert summary(_verdict("roots_2", "emergence")).startswith("fails: drives W^KQ upper-right")
    assert summary(_verdict("contraction", "recovery")).startswith("no: relative error -> 1")
    assert summary(_verdict("paper_process", "vanilla_gd")) == "yes (PASS)"
