"""Certified results (mesacheck.numeric.certify): balls that contain the exact values, and
Krawczyk's test, which proves the full flow's limits and refuses points off them.

Independent routes: each ball is compared with the closed form evaluated by mpmath at 50 digits
(SymPy's N), not with FLINT; the interval gradient and Hessian with the float model's closed
forms (FullModel.real_gradient and FullModel.jacobian, written separately in NumPy)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from mesacheck.numeric.bridge import algebraic_data, exact_value
from mesacheck.numeric.certify import (
    _precision,
    balanced_mesa_optimizer,
    certified_value,
    certify_stationary,
    conserved_quantity,
    encloses,
    exact_full_model,
    gradient,
    hessian_blocks,
    stability_threshold,
)
from mesacheck.numeric.discrete_descent import descend
from mesacheck.numeric.full_flow import full_model, integrate_full_flow
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.symbolic.moments import full_one, gaussian, sparse
from mesacheck.symbolic.stationary import ab_limit

DIGITS = 50  # the independent evaluation's digits; its own error is below 1e-48 relative
WRONG = sp.Rational(1, 10**30)  # a relative shift far above the balls' radii (~1e-38), far below 1e-15


_QUINTIC_ROOT = sp.CRootOf(sp.Poly([1, 0, 0, 0, -1, -1], sp.Symbol("x")), 0)


def contains_50_digits(value, exact) -> bool:
    """Whether the ball meets the closed form evaluated by mpmath at 50 digits (with its error)."""
    number = sp.N(exact, DIGITS)
    return value.contains(
        str(number), radius=f"{abs(number) * sp.Rational(1, 10**48) + sp.Rational(1, 10**60):.3e}"
    )


@pytest.mark.parametrize(
    "exact",
    [
        sp.Rational(-7, 3),
        sp.sqrt(2) / 3,
        sp.CRootOf(sp.Poly([1, 0, 0, 0, -1, -1], sp.Symbol("x")), 0),  # x^5 - x - 1
        (sp.CRootOf(sp.Poly([1, 0, 0, 0, -1, -1], sp.Symbol("x")), 0) + 1) / (7 - 2 * _QUINTIC_ROOT**3),
        exact_value(ab_limit(gaussian(5)), {"T": 100, "sigma": 1}),
    ],
    ids=["rational", "radical", "quintic", "function-of-quintic", "gaussian-p*"],
)
def test_a_ball_contains_the_exact_value_and_rejects_a_wrong_one(exact):
    value = certified_value(algebraic_data(exact))
    assert value.radius <= 1e-35 * max(1.0, abs(float(exact)))
    assert contains_50_digits(value, exact)
    assert not contains_50_digits(value, exact * (1 + WRONG))


def test_a_root_outside_its_interval_or_not_isolated_is_refused():
    with pytest.raises(ArithmeticError):
        certified_value(("root", (-2, 0, 1), (Fraction(2), Fraction(3))))  # no root of x^2 - 2 there
    with pytest.raises(ArithmeticError):
        certified_value(("root", (-2, 0, 1), (Fraction(-2), Fraction(2))))  # two roots


def _limit(law, T):
    start = diagonal_initialization(law.d, 0.1, 0.1)
    Q, P = integrate_full_flow(full_model(law, T), *start).limit
    return Q.real, P.real, conserved_quantity(*start)


def test_interval_gradient_and_hessian_match_the_float_model():
    """At a random real point (d = 2, T = 10): the Arb gradient and the Hessians of the real and
    the imaginary parts contain the float model's to its rounding."""
    law, T, d = gaussian(2, 1), 10, 2
    rng = np.random.default_rng(3)
    Q, P = rng.normal(size=(2 * d, 2 * d)), rng.normal(size=(d, 2 * d))
    floats = full_model(law, T)
    y = floats.pack(Q.astype(complex), P.astype(complex))
    n2, dn = (2 * d) ** 2, d * 2 * d
    real = list(range(n2)) + list(range(2 * n2, 2 * n2 + dn))
    imaginary = list(range(n2, 2 * n2)) + list(range(2 * n2 + dn, 2 * n2 + 2 * dn))
    model = exact_full_model(law, T)
    from flint import arb

    with _precision(106):
        point = [arb(float(v)) for v in np.concatenate([Q.ravel(), P.ravel()])]
        g = gradient(model, point)
        H_re, H_im = hessian_blocks(model, point)
    expected_g = floats.real_gradient(y)[real]
    hessian = floats.jacobian(y)
    scale = np.abs(hessian).max()
    # the float routes round each of ~1e3 terms: 1e-13 of the largest entry covers them
    assert np.allclose([float(v.mid()) for v in g], expected_g, rtol=1e-12, atol=1e-13 * scale)
    for block, rows in ((H_re, real), (H_im, imaginary)):
        mid = np.array([[float(block[i, j].mid()) for j in range(len(rows))] for i in range(len(rows))])
        assert np.allclose(mid, hessian[np.ix_(rows, rows)], rtol=1e-12, atol=1e-13 * scale)
        assert (
            max(float(block[i, j].rad()) for i in range(len(rows)) for j in range(len(rows))) < 1e-20 * scale
        )


@pytest.mark.parametrize("law", [gaussian(2, 1), full_one(2)], ids=["gaussian", "full-one"])
def test_krawczyk_certifies_the_limit_and_refuses_a_point_moved_off_it(law):
    Q, P, h0 = _limit(law, 10)
    model = exact_full_model(law, 10)
    certificate = certify_stationary(model, Q, P, conserved=h0)
    assert certificate.unique_zero and certificate.contraction < 1e-2
    assert certificate.strict_minimum_real and certificate.real_inertia == (23, 1, 0)
    assert not certificate.strict_minimum_complex  # one degenerate imaginary direction: reported
    assert certificate.verdict.startswith("certified on the real parameters")
    moved = Q.copy()
    moved[2, 0] += 1e-6
    refused = certify_stationary(model, moved, P, conserved=h0)
    assert refused.unique_zero is False and refused.verdict.startswith("refused")


def test_the_proven_box_contains_the_closed_form_and_a_wrong_level_set_is_refused():
    law = gaussian(2, 1)
    Q, P, h0 = _limit(law, 10)
    model = exact_full_model(law, 10)
    p_star = float(exact_value(ab_limit(gaussian(2)), {"T": 10, "sigma": 1}))
    products = certify_stationary(model, Q, P, conserved=h0).products
    assert all(lo <= p_star <= hi and hi - lo < 1e-12 for lo, hi in products)
    exact = exact_value(ab_limit(gaussian(2)), {"T": 10, "sigma": 1})
    assert encloses([products[0]], certified_value(algebraic_data(exact)))
    assert not encloses([products[0]], certified_value(algebraic_data(exact * (1 + sp.Rational(1, 10**10)))))
    # the same point on another level of the conserved quantity is not a zero of the bordered system
    assert certify_stationary(model, Q, P, conserved=h0 + Fraction(1, 10**6)).unique_zero is False


def test_a_degenerate_point_is_not_certified():
    """The origin is stationary (a saddle) where the conserved quantity's gradient vanishes:
    the test says so instead of passing."""
    certificate = certify_stationary(exact_full_model(gaussian(2, 1), 10), np.zeros((4, 4)), np.zeros((2, 4)))
    assert certificate.unique_zero is None and certificate.verdict.startswith("not certified")


def test_bad_input_is_refused():
    model = exact_full_model(gaussian(2, 1), 10)
    with pytest.raises(ValueError):
        certify_stationary(model, np.zeros((3, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError):
        certify_stationary(model, np.zeros((4, 4)) * 1j + 1j, np.zeros((2, 4)))
    with pytest.raises(ValueError):
        certify_stationary(model, np.zeros((4, 4)), np.zeros((2, 4)), radius=float("nan"))


@pytest.mark.slow
@pytest.mark.parametrize("law", [gaussian(5, 1), full_one(5)], ids=["gaussian", "full-one"])
def test_krawczyk_certifies_the_published_limits(law):
    """Acceptance (issue 24): d = 5, T = 100, all 150 real parameters; a point moved 1e-6 off the
    limit is refused (proven: no stationary point in its box). ~10 s each."""
    Q, P, h0 = _limit(law, 100)
    model = exact_full_model(law, 100)
    certificate = certify_stationary(model, Q, P, conserved=h0)
    assert certificate.strict_minimum_real and certificate.real_inertia == (149, 1, 0)
    assert certificate.imaginary_inertia == (145, 1, 4)  # the d - 1 degenerate phase directions
    moved = P.copy()
    moved[0, 0] += 1e-6
    assert certify_stationary(model, Q, moved, conserved=h0).unique_zero is False


@pytest.mark.parametrize(
    "law, symbolic_law",
    [(gaussian(2, 1), gaussian(2)), (sparse(2, 1), sparse(2))],
    ids=["gaussian", "sparse"],
)
def test_the_proven_largest_eigenvalue_contains_the_float_hessians(law, symbolic_law):
    """eta* = 2 / lambda_max: the Arb enclosure against numpy's eigvalsh of the float model's
    closed-form Hessian (FullModel.jacobian) at the same point, on all real and imaginary parts."""
    p_star = exact_value(ab_limit(symbolic_law), {"T": 10, "sigma": 1, "c": 1})
    threshold = stability_threshold(
        exact_full_model(law, 10), balanced_mesa_optimizer(2, Fraction(int(p_star.p), int(p_star.q)))
    )
    floats = full_model(law, 10)
    root = float(p_star) ** 0.5
    top = np.linalg.eigvalsh(floats.jacobian(floats.pack(*diagonal_initialization(2, root, root)))).max()
    lower, upper = threshold.lambda_max
    assert upper - lower < 1e-12 * top  # proven to ~1e-14 relative
    assert lower - 1e-12 * top <= top <= upper + 1e-12 * top  # eigvalsh's rounding: ~1e-14 relative
    assert threshold.eta_star[0] <= 2 / top * (1 + 1e-12) and 2 / top * (1 - 1e-12) <= threshold.eta_star[1]


def test_descend_refuses_bad_steps_and_reports_a_blow_up():
    model = full_model(gaussian(2, 1), 10)
    y = model.pack(*diagonal_initialization(2, 0.1, 0.1))
    for eta, steps in ((0.0, 10), (float("nan"), 10), (0.1, 0)):
        with pytest.raises(ValueError):
            descend(model, y, eta=eta, steps=steps)
    run = descend(model, y, eta=10.0, steps=200)  # 500x eta*: the iterates run away
    assert not run.finite and run.growth == float("inf")
