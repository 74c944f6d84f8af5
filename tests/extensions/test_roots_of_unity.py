"""The roots-of-unity extension: its claims pass, and they can fail."""

from mesacheck.proofs_check import run_claim
from mesacheck.proofs_check.extensions import roots_of_unity

# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too (the same call and assertion once ran here as well).


def test_the_bound_is_sharp():
    """N = 3T - 6 changes some coefficient; N = 3T - 5 changes none. At T = 4, 5 the claim
    roots_coincide_with_circle checks this at quick settings (every N = 1..3T, test_claim_holds);
    T = 6 it checks only at full settings, so here."""
    T = 6
    assert not roots_of_unity.coincides_with_circle(T, 3 * T - 6)
    assert roots_of_unity.coincides_with_circle(T, 3 * T - 5)


def test_the_real_process_drives_the_other_block():
    """The off-diagonal gradient under N = 2 is far from the unit circle's exact 0."""
    # the verdict test_claim_holds computed (run_claim shares it within a test run; the claim
    # has no quick variant)
    check, _ = run_claim(roots_of_unity.roots_real_process_leaves_diagonal, quick=True)
    assert check.measured > 1e-2 and check.evidence["unit_circle_off_diagonal_gradient"] < 1e-12
