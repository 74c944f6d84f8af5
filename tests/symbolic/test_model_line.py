"""The reduced flows of the models, checked symbolically: the plateau time by differentiation,
the heads' quadratic against the one-head line, the conserved quantities by substitution."""

import pytest
import sympy as sp

from mesacheck.symbolic.model_line import antiderivative_check, heads_line, model_line
from mesacheck.symbolic.moments import gaussian, sparse
from mesacheck.symbolic.parameterization import InvalidModel, Model
from mesacheck.symbolic.symmetric_line import symmetric_line


# k = 2 (merged heads) by default through the merged flow's plateau in tests/numeric
@pytest.mark.parametrize("k", [pytest.param(2, marks=pytest.mark.slow), 3])
def test_the_plateau_time_is_an_antiderivative(k):
    assert antiderivative_check(k) == 0


@pytest.mark.parametrize("law, T", [(gaussian(3, 1), 8), (sparse(2, 1), 6)], ids=["gauss", "sparse"])
def test_the_heads_quadratic_restricts_to_the_one_head_line(law, T):
    """On C = p 11^T (one head, a_k = a, b_r = b) the heads' loss is the line's d f(p),
    coefficient by coefficient: two sums over the same K and J, split differently."""
    line = symmetric_line(law, T)
    heads, p = heads_line(line), sp.Symbol("p")
    one_head = law.d * (line.alpha * p**2 - 2 * line.beta * p + line.gamma) / 2
    assert sp.expand(heads.loss(p, p) - one_head) == 0


def test_the_heads_limit_is_below_the_one_head_minimum_for_the_gaussian_token():
    line = symmetric_line(gaussian(3, 1), 8)
    heads = heads_line(line)
    assert heads.limit == (sp.Rational(1, 5), 0)
    assert heads.loss(*heads.limit) < model_line(Model(), line).minimum_loss


def test_the_conserved_quantities_of_every_model_hold_by_substitution():
    line = symmetric_line(gaussian(2, 1), 5)
    for model in (Model(), Model("separate"), Model("separate", heads=2), Model(heads=3)):
        flow = model_line(model, line)
        assert all(flow.time_derivative(c) == 0 for c in flow.conserved)
        # and the velocity of a factor is -f'(p) times the product of its head's other factors
        head = flow.factors[0]
        others = sp.Mul(*head[1:])
        assert sp.expand(flow.velocity[head[0]] + (line.alpha * flow.p - line.beta) * others) == 0


def test_the_diagonal_line_needs_a_key_dimension_of_d():
    with pytest.raises(InvalidModel, match="key_dim >= d"):
        model_line(Model("separate", key_dim=1), symmetric_line(gaussian(2, 1), 5))


def test_the_saddle_is_strict_for_merged_heads_and_of_third_order_for_separate_ones():
    """At the origin the merged line's Hessian couples a and b by -d beta (one negative, one
    positive eigenvalue per head); the separate line's vanishes. The full model's Hessian in
    every entry at 0 says the same: negative curvature for merged, none at all for separate."""
    import numpy as np

    from mesacheck.numeric.full_flow import full_model
    from mesacheck.numeric.parameterized import ParameterizedLoss

    line = symmetric_line(gaussian(2, 1), 5)
    assert model_line(Model(), line).inertia() == (1, 0, 1)
    assert model_line(Model(heads=2), line).inertia() == (2, 0, 2)
    assert model_line(Model("separate"), line).inertia() == (0, 3, 0)
    base = full_model(gaussian(2, 1), 5)
    merged = ParameterizedLoss(Model(), base)
    assert np.linalg.eigvalsh(merged.hessian(np.zeros(merged.size)))[0] < -1
    separate = ParameterizedLoss(Model("separate"), base)
    assert not np.any(separate.hessian(np.zeros(separate.size)))
