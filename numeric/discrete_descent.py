"""The exact population gradient-descent map of the full model, theta <- theta - eta grad L,
on every real and imaginary part of W^KQ and W^PV: what the paper's simulations run with a
finite step size, without the sampling (:mod:`mesacheck.numeric.full_flow` gives grad L)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .full_flow import FullModel

__all__ = ["DescentRun", "descend"]


@dataclass(frozen=True)
class DescentRun:
    """``steps`` iterations of the map from ``start``: the gradient norm at the start and at the
    end, the largest distance from the start, and whether the iterates stayed finite and below
    ``blow_up``."""

    eta: float
    steps: int
    gradient_start: float
    gradient_end: float
    largest_distance: float
    finite: bool

    @property
    def growth(self) -> float:
        """|grad L| at the end over |grad L| at the start (inf when the iterates blew up)."""
        return self.gradient_end / self.gradient_start if self.finite else float("inf")


def descend(model: FullModel, y: np.ndarray, *, eta: float, steps: int, blow_up: float = 1e3) -> DescentRun:
    """Iterate y <- y - eta grad L(y) (real coordinates, :meth:`FullModel.real_gradient`)."""
    if not (eta > 0 and np.isfinite(eta)) or steps < 1:
        raise ValueError("eta must be positive and finite, and steps >= 1")
    start = np.asarray(y, dtype=float).copy()
    y = start.copy()
    gradient = model.real_gradient(y)
    first, far, finite = float(np.linalg.norm(gradient)), 0.0, True
    for _ in range(steps):
        y = y - eta * gradient
        far = max(far, float(np.max(np.abs(y - start))))
        if not np.all(np.isfinite(y)) or far > blow_up:
            finite = False
            break
        gradient = model.real_gradient(y)
    last = float(np.linalg.norm(gradient)) if finite else float("inf")
    return DescentRun(eta, steps, first, last, far, finite)
