"""The full flow's closed-form Hessian and the stiff integration that uses it."""

import numpy as np
import pytest

from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.moments import Atoms, full_one, gaussian

# a complex law, so that K and J are complex and every antilinear block is exercised
COMPLEX = Atoms([[1, 1j], [2, -1], [1j, 0]], ["1/2", "1/4", "1/4"], name="complex")


@pytest.mark.parametrize(
    "law", [gaussian(2, 1), full_one(2), full_one(3), COMPLEX], ids=["gauss2", "full-one2", "full-one3", "cx"]
)
def test_closed_form_jacobian_matches_the_hessian_by_cancelled_differences(law):
    """Two routes to the exact Hessian: the closed form (per block, linear plus antilinear
    parts) and 4 gradients per column whose cubic term cancels exactly. Both are exact up to
    rounding, measured 7e-16 relative at d = 5, so 1e-12 relative leaves a 1000x margin."""
    model = full_model(law, 6)
    y = np.random.default_rng(3).normal(scale=0.7, size=12 * law.d**2)
    expected = model.hessian(y)
    np.testing.assert_allclose(model.jacobian(y), expected, rtol=0, atol=1e-12 * np.max(np.abs(expected)))


def test_exact_jacobian_reaches_the_same_limit_and_reports_progress():
    """The limit does not depend on the Jacobian the stiff solver uses: both stop at
    |grad L| <= 1e-11 (rtol 1e-12), so their limits agree far inside 1e-9."""
    model = full_model(full_one(2), 12)
    start = diagonal_initialization(2, 0.1, 0.1)
    seen = []
    exact = integrate_full_flow(model, *start, progress=lambda tau, g: seen.append((tau, g)))
    differenced = integrate_full_flow(model, *start, exact_jacobian=False)
    np.testing.assert_allclose(exact.ab[-1], differenced.ab[-1], rtol=1e-9, atol=0)
    assert seen and seen[-1][1] <= 2e-11 and all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))


def test_losses_along_a_path_equal_the_loss_state_by_state():
    model = full_model(COMPLEX, 6)
    rng = np.random.default_rng(5)
    Q = rng.normal(size=(7, 4, 4)) + 1j * rng.normal(size=(7, 4, 4))
    P = rng.normal(size=(7, 2, 4)) + 1j * rng.normal(size=(7, 2, 4))
    expected = [model.loss(q, p) for q, p in zip(Q, P)]
    np.testing.assert_allclose(model.losses(Q, P, chunk=3), expected, rtol=1e-13)  # rounding only
