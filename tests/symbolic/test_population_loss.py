"""The derived population loss: the model identity, exact quadrature, and metamorphic laws."""

import itertools

import numpy as np
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from mesacheck.numeric.simulate import diagonal_initialization, sequence_losses
from mesacheck.symbolic.moments import (
    Atoms,
    SymbolicMoments,
    expectation,
    full_one,
    gaussian,
    sigma,
    sparse,
    token,
)
from mesacheck.symbolic.population_loss import T, diagonal_parameters, population_loss
from tests.strategies import rationals, real_atom_laws


def test_diagonal_model_is_one_gd_step_on_ols_for_any_tokens():
    """y_t = B (sum_i x_i x_{i-1}^H) A x_t / (t-1) with A = a I, B = b I is the prediction of
    W_hat = (ab/(t-1)) sum_i x_i x_{i-1}^H, symbolically, for arbitrary complex tokens."""
    d, t = 2, 4
    a, b = sp.symbols("a b")
    X = [sp.Matrix(sp.symbols(f"x{k}_1:{d + 1}")) for k in range(1, t + 1)]
    E = [sp.Matrix.vstack(X[k], X[k - 1] if k else sp.zeros(d, 1)) for k in range(t)]
    W_KQ = sp.zeros(2 * d, 2 * d)
    W_KQ[d:, :d] = a * sp.eye(d)
    W_PV = sp.zeros(d, 2 * d)
    W_PV[:, :d] = b * sp.eye(d)
    attention = sum((e * e.H for e in E), sp.zeros(2 * d, 2 * d))
    transformer = W_PV * attention * W_KQ * E[-1] / (t - 1)
    W_hat = a * b / (t - 1) * sum((X[k] * X[k - 1].H for k in range(1, t)), sp.zeros(d, d))
    assert sp.expand(transformer - W_hat * X[-1]) == sp.zeros(d, 1)


@given(real_atom_laws(), st.integers(3, 7), st.data())
def test_loss_equals_exact_phase_quadrature_for_random_atom_laws(law, length, data):
    """Closed form vs an equispaced phase grid (exact for trigonometric degree < 2T + 1)."""
    d = law.d
    a_values = [float(data.draw(rationals(-2, 2, 4))) for _ in range(d)]
    b_values = [float(data.draw(rationals(-2, 2, 4))) for _ in range(d)]
    a, b = diagonal_parameters(d)
    exact = population_loss(law).subs({T: length, **dict(zip(a, a_values)), **dict(zip(b, b_values))})
    exact = float(exact.xreplace({h: h.doit() for h in exact.atoms(sp.harmonic)}))
    N = 2 * length + 1
    grid = np.exp(2j * np.pi * np.arange(N) / N)
    phases = np.array(list(itertools.product(grid, repeat=d)))
    W_KQ, W_PV = diagonal_initialization(d, a_values, b_values)
    quadrature = 0.0
    for point, weight in zip(law.key[0], law.key[1]):
        atom = np.array([float(v) for v in point])
        X = phases[:, None, :] ** np.arange(length)[None, :, None] * atom
        quadrature += float(weight) * float(np.mean(sequence_losses(W_KQ, W_PV, X)))
    # rounding of ~N^d T double-precision terms; the two routes share no formula
    np.testing.assert_allclose(quadrature, exact, rtol=1e-11, atol=1e-12)


def test_loss_depends_on_x1_only_through_its_fourth_sixth_and_mixed_moments():
    law = SymbolicMoments(2)
    names = sorted(str(s) for s in population_loss(law).free_symbols if s.name.startswith("m_"))
    assert names == ["m_{0,2}", "m_{0,4}", "m_{0,6}", "m_{2,0}", "m_{2,4}", "m_{4,0}", "m_{4,2}", "m_{6,0}"]


@given(st.integers(1, 3), st.fractions(1, 4, max_denominator=8).map(sp.Rational))
def test_rescaling_x1_by_s_rescales_the_loss(d, s):
    """L(a, b; s x_1) = s^2 L(s^2 a, b; x_1): y_t is cubic in x_1, the target linear."""
    a, b = diagonal_parameters(d)
    loss = population_loss(gaussian(d))
    scaled = loss.subs(sigma, s * sigma)
    predicted = s**2 * loss.xreplace({x: s**2 * x for x in a})
    assert sp.expand(scaled - predicted) == 0


def test_gaussian_moments_match_sampled_moments():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400_000, 2)) * 0.8
    law = gaussian(2, sp.Rational(4, 5))
    x1, x2 = token(2)
    for expr in (x1**2 * x2**4, x1**6, x1**4):
        exact = float(expectation(expr, law))
        sample = x[:, 0] ** int(sp.degree(expr, x1)) * x[:, 1] ** int(sp.degree(expr, x2))
        # 6 standard errors of the sample mean
        assert abs(np.mean(sample) - exact) <= 6 * np.std(sample) / np.sqrt(len(sample))


def test_built_in_laws_equal_their_atom_versions():
    """sparse(c) and full-one as explicit atoms give the same loss."""
    d = 2
    atoms = [[s * sp.Rational(3, 2) if k == j else 0 for k in range(d)] for j in range(d) for s in (1, -1)]
    as_atoms = Atoms(atoms, [sp.Rational(1, 2 * d)] * (2 * d))
    assert sp.expand(population_loss(as_atoms) - population_loss(sparse(d, sp.Rational(3, 2)))) == 0
    ones = Atoms([[1] * d], [1])
    assert sp.expand(population_loss(ones) - population_loss(full_one(d))) == 0
