"""The last-position extension: its claims pass, and the closed form is the library's."""

import pytest
import sympy as sp

from mesacheck.proofs_check.extensions import last_position
from mesacheck.symbolic.moments import gaussian, sigma
from mesacheck.symbolic.population_loss import T
from mesacheck.symbolic.setting import Setting
from mesacheck.symbolic.symmetric_line import symmetric_line

# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too (the same call and assertion once ran here as well).


@pytest.mark.parametrize("d", [1, 2, 4])
def test_the_closed_form_holds_at_every_length(d):
    formula = last_position.last_position_limit(gaussian(d))
    assert sp.simplify(formula - (T - 2) / (sigma**2 * (5 * (T - 2) + d - 1))) == 0
    for length in (3, 4, 7, 15):
        exact = symmetric_line(Setting(gaussian(d, 1), positions="last"), length).ab_star
        assert exact == formula.subs({T: length, sigma: 1})


def test_every_position_differs():
    """The paper's loss (every position) gives another step: the claim can tell them apart."""
    every = symmetric_line(gaussian(5, 1), 100).ab_star
    last = symmetric_line(last_position.setting(5), 100).ab_star
    assert last == sp.Rational(49, 247) and abs(float(every - last)) > 1e-3
