"""Settings beyond the paper's process through the numeric routes: the exact engine against
torus quadrature (an independent average over W), and the finite-sample simulator against the
exact loss."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mesacheck.numeric.bridge import full_model_arrays
from mesacheck.numeric.full_flow import FullModel, full_model
from mesacheck.numeric.quadrature import modulus_rule, quadrature_loss_and_gradient
from mesacheck.numeric.simulate import diagonal_initialization, sample_sequences, sampled_loss
from mesacheck.symbolic.moments import Atoms, gaussian
from mesacheck.symbolic.setting import Noise, Setting, circle, modulus_atoms, random_modulus, roots_of_unity
from tests.strategies import complex_atom_laws, examples, noisy_settings, process_settings


@given(
    st.integers(1, 3).flatmap(complex_atom_laws).flatmap(process_settings),
    st.integers(3, 6),
    st.integers(0, 2**32 - 1),
)
def test_engine_equals_quadrature(setting, T, seed):
    # a modulus given by its moments has ~3T/2 radii per coordinate in the quadrature's grid
    assume(setting.phases.fixed_modulus or setting.d < 3)
    _assert_engine_equals_quadrature(setting, T, seed)


def _assert_engine_equals_quadrature(setting, T: int, seed: int) -> None:
    """The exact loss and both gradients against quadrature at random complex matrices."""
    rng = np.random.default_rng(seed)
    d = setting.d
    W_KQ = rng.normal(size=(2 * d, 2 * d)) + 1j * rng.normal(size=(2 * d, 2 * d))
    W_PV = rng.normal(size=(d, 2 * d)) + 1j * rng.normal(size=(d, 2 * d))
    model = FullModel(full_model_arrays(setting, T, {}))
    loss, (g_KQ, g_PV) = model.loss(W_KQ, W_PV), model.gradient(W_KQ, W_PV)
    q_loss, q_KQ, q_PV = quadrature_loss_and_gradient(setting, T, W_KQ, W_PV)
    # both routes are exact up to double rounding of sums of O(T^3) terms (with noise, the
    # quadrature sums ~10^6 weighted terms): 1e-12 relative
    assert abs(loss - q_loss) <= 1e-12 * abs(q_loss) + 1e-14
    np.testing.assert_allclose(g_KQ, q_KQ, rtol=0, atol=1e-12 * np.abs(q_KQ).max() + 1e-14)
    np.testing.assert_allclose(g_PV, q_PV, rtol=0, atol=1e-12 * np.abs(q_PV).max() + 1e-14)


@pytest.mark.parametrize(
    "setting",
    [
        Setting(gaussian(3, 1), circle(sp.Rational(9, 10))),
        Setting(gaussian(3, 1), roots_of_unity(2)),
        Setting(gaussian(3, 1), positions="last"),
        Setting(gaussian(3, 1), noise=Noise("complex", sp.Rational(1, 2))),
        Setting(gaussian(3, 1), roots_of_unity(2), noise=Noise("real", sp.Rational(1, 2))),
        Setting(gaussian(3, 1), random_modulus("1/(k+1)")),
        Setting(gaussian(3, 1), modulus_atoms({"1/2": "1/2", "1": "1/2"})),
        Setting(gaussian(3, 1), circle(sp.Rational(9, 10)), Noise("complex", sp.Rational(1, 2))),
    ],
    ids=[
        *("r=0.9", "roots:2", "last", "complex-noise", "real-noise"),
        *("disk", "modulus-atoms", "r=0.9-complex-noise"),
    ],
)
def test_sampled_loss_matches_the_exact_loss(setting):
    """The mean loss over m sampled sequences is within 4 standard errors of the exact loss
    (a false alarm has probability ~6e-5), and a wrong process would be far outside."""
    T, m = 12, 4000
    point = diagonal_initialization(3, 0.4, 0.3)
    mean, standard_error = sampled_loss(setting, T, *point, m, np.random.default_rng(0))
    exact = full_model(setting, T).loss(*point)
    assert abs(mean - exact) <= 4 * standard_error
    paper = full_model(Setting(setting.law), T).loss(*point)
    assert abs(paper - exact) > 10 * standard_error  # the check can tell the settings apart


def test_sampled_noise_has_the_stated_second_moment():
    """x_{t+1} = W x_t + xi_t on the unit circle: E|x_t|^2 = E|x_1|^2 + (t - 1) s^2."""
    s, T, m = 0.5, 6, 20000
    for kind in ("complex", "real"):
        X = sample_sequences(
            Setting(gaussian(2, 1), noise=Noise(kind, sp.Rational(1, 2))), T, m, np.random.default_rng(1)
        )
        second = np.mean(np.abs(X) ** 2, axis=(0, 2))
        expected = 1 + np.arange(T) * s**2
        # |x_t|^2 has standard deviation ~ sqrt(2) E|x_t|^2 per draw; 5 standard errors
        assert np.all(np.abs(second - expected) <= 5 * np.sqrt(2) * expected / np.sqrt(2 * m))


# 4 examples by default (~2 s each cold), the thorough profile's count otherwise: each kind of noise
# is also checked against quadrature at fixed settings, complex on the circle and real on the
# real process by the claims noise_loss_matches_quadrature and noise_real_loss_matches_quadrature
# (tests/proofs_check/test_claims.py), under a contraction by the test below
@settings(max_examples=examples(4))
@given(noisy_settings(), st.integers(0, 2**32 - 1))
def test_engine_equals_quadrature_with_noise(setting_and_T, seed):
    """The exact noise terms against the tensor Gauss-Hermite rule over every noise variable
    (exact through degree 7 in each; the loss has degree 6)."""
    _assert_engine_equals_quadrature(*setting_and_T, seed)


@pytest.mark.parametrize("radius", [sp.Rational(1, 2), sp.Rational(9, 10)])
@pytest.mark.parametrize(
    "noise",
    [Noise("complex", sp.Rational(1, 2)), Noise("complex", moments=(1, 3, 12))],
    ids=["gaussian", "moments"],
)
# T = 4 trains t = 2, 3 (geometric sums of up to 3 noise times); T = 3, where every position is
# the last (t = 2 alone), runs with MESACHECK_SLOW=1
@pytest.mark.parametrize("T", [pytest.param(3, marks=pytest.mark.slow), 4])
def test_engine_equals_quadrature_with_noise_under_contraction(radius, noise, T):
    """|lambda| = r < 1 with circular complex noise: the exact noise terms (geometric sums over
    each block's noise time) against 3T - 5 phases on the circle of radius r and the noise rule over
    every noise variable, d = 1 (d = 2 needs more than the quadrature's 4 * 10^6 sequences)."""
    for positions in ("all", "last"):
        setting = Setting(complex_gaussian_atoms(), circle(radius), noise, positions=positions)
        _assert_engine_equals_quadrature(setting, T, seed=T)


def complex_gaussian_atoms():
    """A finite complex law of x_1 (d = 1) with every moment the loss needs non-zero."""
    from mesacheck.symbolic.moments import Atoms

    return Atoms(
        [[1], [sp.Rational(-1, 2) + sp.I], [2 * sp.I]],
        [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)],
    )


def test_the_simulator_tracks_the_exact_descent_under_contraction_and_noise():
    """Along the exact full flow (r = 9/10, complex noise s = 1/2, d = 3, T = 12), at its start,
    midway and at its limit, the mean loss of m sampled sequences is within 4 standard errors of
    the exact loss (a false alarm has probability ~2e-4 over the three points), and the
    noise-free contraction's loss is far outside."""
    from mesacheck.numeric.full_flow import integrate_full_flow

    setting, T, m = (
        Setting(gaussian(3, 1), circle(sp.Rational(9, 10)), Noise("complex", sp.Rational(1, 2))),
        12,
        4000,
    )
    model = full_model(setting, T)
    flow = integrate_full_flow(model, *diagonal_initialization(3, 0.1, 0.1))
    rng = np.random.default_rng(7)
    noise_free = full_model(Setting(gaussian(3, 1), circle(sp.Rational(9, 10))), T)
    for index in (0, len(flow.tau) // 2, -1):
        point = flow.W_KQ[index], flow.W_PV[index]
        mean, standard_error = sampled_loss(setting, T, *point, m, rng)
        exact = model.loss(*point)
        assert abs(mean - exact) <= 4 * standard_error, index
        assert abs(noise_free.loss(*point) - exact) > 10 * standard_error


@pytest.mark.parametrize(
    "moments",
    [(1, 3, 9), (1, 7, 49), (1, 1, 1), (1, 3, 12), (sp.Rational(1, 3), sp.Rational(1, 5), sp.Rational(1, 7))],
)
def test_the_moment_rule_has_the_given_moments_even_with_an_atom_at_zero(moments):
    """(1, 3, 9) is |xi|^2 in {0, 3}: the rule's smaller node is 0 exactly, not a NaN from a
    root that rounding made negative."""
    from mesacheck.numeric.quadrature import noise_rule

    nodes, weights = noise_rule(Noise("complex", moments=moments))
    assert np.all(np.isfinite(nodes)) and np.all(weights >= 0)
    y = np.abs(nodes) ** 2
    # exact rule, built from exact roots: only the final rounding to doubles
    np.testing.assert_allclose(
        [np.sum(weights * y**k) for k in (1, 2, 3)], [float(m) for m in moments], rtol=1e-13, atol=0
    )


@pytest.mark.parametrize("moments", ["1/(k+1)", "2/((k+1)*(k+2))", "(1/4)^k/2 + 1/2"])
def test_the_modulus_rule_has_the_given_moments(moments):
    """The Gauss rule from the moments reproduces E rho^(2k) for every k <= 3T + 1 (the loss's
    degree in rho^2 at T is 3(T - 2)). Its nodes are eigenvalues at 40 digits, so the error is
    double rounding of sums of <= 16 positive terms: 1e-14 relative. A law on two points gets
    two nodes."""
    phases, T = random_modulus(moments), 10
    radii, weights = modulus_rule(phases, T)
    for k in range(3 * T + 2):
        exact = float(phases.modulus_moment(k))
        assert abs(np.sum(weights * radii ** (2 * k)) - exact) <= 1e-14 * exact + 1e-300
    assert np.all((radii > 0) & (radii <= 1 + 1e-15)) and abs(weights.sum() - 1) <= 1e-15
    if moments.endswith("+ 1/2"):
        assert len(radii) == 2


_REAL_NOISE = {"gaussian": Noise("real", sp.Rational(1, 2)), "moments": Noise("real", moments=(1, 3, 12))}
# one case in the default run (~9 s cold: the real-noise terms are the engine's slowest
# derivation); roots of unity, noise by moments and the last position with MESACHECK_SLOW=1, and
# real noise on the roots of unity against enumeration in tests/symbolic/test_noise_counts.py
_REAL_DEFAULT = ((circle(1), "gaussian", "all"),)


@pytest.mark.parametrize(
    "phases, noise, positions",
    [
        *_REAL_DEFAULT,
        *(
            pytest.param(phases, noise, positions, marks=pytest.mark.slow)
            for phases in (circle(1), roots_of_unity(3), roots_of_unity(4))
            for noise in _REAL_NOISE
            for positions in ("all", "last")
            if (phases, noise, positions) not in _REAL_DEFAULT
        ),
    ],
)
def test_engine_equals_quadrature_with_real_noise_and_complex_phases(phases, noise, positions):
    """Real noise with complex phases: an unbalanced block's time enters its class's phase
    equation. Against 3T - 5 phases (or the N roots) and the noise rule over every noise variable,
    d = 1, T = 4 (~15 s cold each: two cases by default, the rest in the slow profile)."""
    setting = Setting(complex_gaussian_atoms(), phases, _REAL_NOISE[noise], positions=positions)
    _assert_engine_equals_quadrature(setting, 4, seed=4)


def test_real_noise_with_complex_phases_leaves_the_diagonal_and_complex_noise_does_not():
    """Real noise is not circular: E xi^2 = s^2 couples plain factors, and the blocks that pair x
    with x (not its conjugate) get a gradient at a diagonal point, by the engine and by
    quadrature alike; circular complex noise keeps the diagonal (d = 1, T = 4)."""
    from mesacheck.numeric.full_flow import off_diagonal_size

    point = diagonal_initialization(1, 0.3, 0.2)
    for kind, leaves in (("real", True), ("complex", False)):
        setting = Setting(gaussian(1, 1), noise=Noise(kind, sp.Rational(1, 2)))
        engine = off_diagonal_size(*full_model(setting, 4).gradient(*point))
        quadrature = off_diagonal_size(*quadrature_loss_and_gradient(setting, 4, *point)[1:])
        # both exact up to double rounding of O(10^4) weighted terms: 1e-12 of the gradient's scale
        assert abs(engine - quadrature) <= 1e-12
        assert (engine > 1e-3) == leaves


@pytest.mark.parametrize(
    "setting, T",
    [
        (Setting(gaussian(1, 1), circle(sp.Rational(1, 2))), 32),
        pytest.param(Setting(gaussian(1, 1), roots_of_unity(7)), 52, marks=pytest.mark.slow),
        (Setting(gaussian(1, 1), positions="last"), 40),
    ],
    ids=["r=0.5", "roots:7", "last"],
)
def test_engine_in_closed_form_in_T_equals_quadrature(setting, T):
    """Past the fit's positions (T > 30, > 50 for roots:7) the engine's averages over W are the
    closed forms in T (process_counts.fitted_setting_counts): against torus quadrature."""
    _assert_engine_equals_quadrature(setting, T, seed=T)


# Not exchangeable: coordinate 1 is +-1, coordinate 2 is +-2 (sign-symmetric, so the full model
# keeps the diagonal; the two coordinates learn different steps)
UNEQUAL = Atoms([[1, 2], [1, -2], [-1, 2], [-1, -2]], ["1/4"] * 4)


@pytest.mark.parametrize(
    "setting",
    [
        Setting(UNEQUAL, circle(sp.Rational(4, 5))),
        Setting(UNEQUAL, roots_of_unity(3)),
        Setting(UNEQUAL, modulus_atoms({"9/10": "1/2", "1": "1/2"})),
        Setting(UNEQUAL, positions="last"),
    ],  # (noise: its quadrature needs 4^16 nodes at d = 2, T = 5; the engine's noise terms are
    # checked against quadrature at d = 1 above)
    ids=["contraction", "roots", "random-modulus", "last-position"],
)
def test_a_law_that_is_not_exchangeable_gets_the_per_coordinate_limit_in_every_setting(setting):
    """The limit verb's per-coordinate answer (the diagonal flow on the exact engine's loss) is a
    stationary point of the loss averaged over W by torus quadrature, an independent route."""
    import mesacheck

    T = 5
    result = mesacheck.limit(setting, T)
    assert result.ab_exact is None and result.kind == "stationary point of the diagonal flow"
    a, b = np.array(result.a_limit), np.array(result.b_limit)
    assert not np.allclose(a * b, np.mean(a * b))  # the coordinates learn different steps
    _, gradient_kq, gradient_pv = quadrature_loss_and_gradient(setting, T, *diagonal_initialization(2, a, b))
    # 1e-9 (the bound): the flow stops at |grad| <= 1e-12 (in units where ||J|| = 1, here
    # of order 1) and the quadrature sums ~1e3 terms in double precision (~1e-14)
    np.testing.assert_allclose(gradient_kq, 0, atol=1e-9, rtol=0)
    np.testing.assert_allclose(gradient_pv, 0, atol=1e-9, rtol=0)
