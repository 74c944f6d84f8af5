"""The paper's published simulations, run both ways: finite-sample training as the reference
runs it, and the exact population flow rescaled to its gradient-descent steps (tau = eta k).

``PUBLISHED_RUNS`` is the table of ``shared/spec/model.md`` (d = 5, T = 100). For each run,
:func:`reproduce_run` returns the finite-sample log beside the exact flow's a b, the exact
expected ratio Re(y_{T-1} / x_T) and the exact test loss at the same steps: along the flow from
an equal diagonal start a_j b_j = a b for every j, so both metrics are functions of a b alone
(:mod:`mesacheck.symbolic.capability`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from mesacheck.symbolic.capability import expected_ratio, p, test_loss
from mesacheck.symbolic.moments import Distribution, gaussian, sparse
from mesacheck.symbolic.stationary import emergence_limit

from .bridge import evaluate
from .flow import integrate_flow
from .full_flow import full_model
from .simulate import TrainingRun, diagonal_initialization, simulate_training

__all__ = ["PublishedRun", "PUBLISHED_RUNS", "PUBLISHED_INITIALIZATIONS", "RunComparison", "reproduce_run"]

PUBLISHED_INITIALIZATIONS = ((0.1, 0.1), (0.5, 1.5), (2.0, 2.0))


@dataclass(frozen=True)
class PublishedRun:
    """One row of the published settings: a family, its scale, step size and step count."""

    family: str  # "gaussian" or "sparse"
    scale: sp.Rational
    eta: float
    steps: int
    d: int = 5
    T: int = 100

    @property
    def law(self) -> Distribution:
        return (gaussian if self.family == "gaussian" else sparse)(self.d, self.scale)

    @property
    def paper_line(self) -> float:
        """The line the paper draws: a b -> 1/(5 sigma^2) (Gaussian) or 1/c^2 (sparse)."""
        return float(1 / (5 * self.scale**2) if self.family == "gaussian" else 1 / self.scale**2)

    @property
    def label(self) -> str:
        return f"{'Gaussian, sigma' if self.family == 'gaussian' else 'sparse, c'} = {self.scale}"


_half = sp.Rational(1, 2)
PUBLISHED_RUNS = (
    PublishedRun("gaussian", _half, 1e-3, 200),
    PublishedRun("gaussian", sp.S.One, 1e-4, 150),
    PublishedRun("gaussian", sp.S(2), 2e-6, 201),
    PublishedRun("sparse", _half, 3e-2, 200),
    PublishedRun("sparse", sp.S.One, 1e-3, 201),
    PublishedRun("sparse", sp.S(2), 1e-4, 121),
)


@dataclass(frozen=True)
class RunComparison:
    """A finite-sample run and the exact population flow at the same steps k (tau = eta k)."""

    published: PublishedRun
    a0: float
    b0: float
    training: TrainingRun | None  # None when finite-sample training diverged
    diverged: str | None  # the simulator's message when it did
    edge_of_stability: float  # eta * (largest eigenvalue of the exact full-model Hessian at the start) / 2
    steps: np.ndarray  # dense grid of steps for the exact curves
    ab_flow: np.ndarray
    ratio_flow: np.ndarray  # exact E Re(y_{T-1} / x_T) at a b(eta k)
    test_loss_flow: np.ndarray  # exact expected test loss (T_test = T) at a b(eta k)
    ab_limit: float  # exact lim a b from (a0, b0)


def reproduce_run(
    published: PublishedRun, a0: float, b0: float, *, m: int = 10_000, seed: int = 0, log_every: int = 10
) -> RunComparison:
    """Train on m sampled sequences (m test sequences) and integrate the exact flow from (a0, b0).

    Gradient descent with step eta is stable near a point only where eta times the largest
    Hessian eigenvalue is below 2; ``edge_of_stability`` reports half that product for the
    exact population loss of the full model at the start. A finite-sample run that diverges is
    reported (``diverged``), not raised.
    """
    law = published.law
    values = {"T": published.T}
    training, diverged = None, None
    try:
        training = simulate_training(
            law,
            T=published.T,
            a0=a0,
            b0=b0,
            eta=published.eta,
            steps=published.steps,
            m=m,
            m_test=m,
            seed=seed,
            log_every=log_every,
        )
    except FloatingPointError as error:
        diverged = str(error)
    model = full_model(law, published.T)
    start = model.pack(*diagonal_initialization(law.d, a0, b0))
    curvature = model.largest_curvature(start)
    flow = integrate_flow(law, a0, b0, values=values)
    steps = np.linspace(0, published.steps, 101)
    ab = flow.ab_at(steps * published.eta)
    at_end = {"t": published.T - 1, "T_test": published.T}
    ratio, loss = expected_ratio(law), test_loss(law)
    return RunComparison(
        published=published,
        a0=a0,
        b0=b0,
        training=training,
        diverged=diverged,
        edge_of_stability=published.eta * curvature / 2,
        steps=steps,
        ab_flow=ab,
        ratio_flow=np.polyval(_coefficients_in_p(ratio, at_end), ab),
        test_loss_flow=np.polyval(_coefficients_in_p(loss, at_end), ab),
        ab_limit=evaluate(emergence_limit(law, a0, b0).ab, values),
    )


def _coefficients_in_p(expr: sp.Expr, values: dict) -> list[float]:
    """The coefficients of a polynomial in p = a b, each evaluated exactly at ``values``."""
    return [evaluate(c, values) for c in sp.Poly(expr, p).all_coeffs()]
