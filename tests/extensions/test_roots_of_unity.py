"""The roots-of-unity extension: its claims pass, and they can fail."""

from mesacheck.proofs_check.extensions import roots_of_unity

# Its claims pass at quick settings: tests/proofs_check/test_claims.py::test_claim_holds runs every
# registered claim, this extension's too (the same call and assertion once ran here as well).


def test_the_bound_is_sharp():
    """N = 3T - 6 changes some coefficient; N = 3T - 5 changes none."""
    for T in (4, 5, 6):
        assert not roots_of_unity.coincides_with_circle(T, 3 * T - 6)
        assert roots_of_unity.coincides_with_circle(T, 3 * T - 5)


def test_the_real_process_drives_the_other_block():
    """The off-diagonal gradient under N = 2 is far from the unit circle's exact 0."""
    check = roots_of_unity.roots_real_process_leaves_diagonal()
    assert check.measured > 1e-2 and check.evidence["unit_circle_off_diagonal_gradient"] < 1e-12
