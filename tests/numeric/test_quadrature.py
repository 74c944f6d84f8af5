"""The phase grid of the quadrature: 3T - 5 points per coordinate are exact, one fewer is not
(the loss has frequencies up to 3(T - 2) in one phase; mesacheck.numeric.quadrature)."""

import numpy as np
import pytest
import sympy as sp

from mesacheck.numeric import laws, quadrature
from mesacheck.symbolic.moments import Atoms, gaussian
from mesacheck.symbolic.setting import Noise, Setting, circle

LAW = Atoms([[1], [sp.Rational(-1, 2) + sp.I], [2 * sp.I]], ["1/2", "1/4", "1/4"])


@pytest.mark.parametrize(
    "setting, T",
    [
        (Setting(gaussian(2, 1)), 3),
        (Setting(gaussian(2, 1)), 5),
        (Setting(LAW, circle(sp.Rational(9, 10))), 4),
        (Setting(LAW, noise=Noise("complex", sp.Rational(1, 2))), 3),
    ],
)
def test_the_grid_is_exact_and_one_point_fewer_is_not_at_T_3(setting, T, monkeypatch):
    rng = np.random.default_rng(T)
    d = setting.d
    W_KQ = rng.normal(size=(2 * d, 2 * d)) + 1j * rng.normal(size=(2 * d, 2 * d))
    W_PV = rng.normal(size=(d, 2 * d)) + 1j * rng.normal(size=(d, 2 * d))

    def with_points(points):
        monkeypatch.setattr(laws, "phase_points", lambda T: points)
        return quadrature.quadrature_loss_and_gradient(setting, T, W_KQ, W_PV, {"sigma": 1})

    exact, fine = with_points(3 * T - 5), with_points(4 * T)  # 4T: the grid before issue 20
    for e, f in zip(exact, fine):
        assert np.max(np.abs(np.asarray(e) - f)) <= 1e-13 * np.max(np.abs(f))
    if T == 3:  # the bound 3(T - 2) is reached at T = 3
        coarse = with_points(3 * T - 6)
        assert abs(coarse[0] - fine[0]) > 1e-3 * abs(fine[0])
