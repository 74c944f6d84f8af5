"""The figures: shared by the command line (saved as PNG) and the book (shown inline).

Each function draws and returns a matplotlib Figure; the caller saves or shows it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["heatmaps", "ab_against_flow", "figure_one", "metric_panels"]

_COLOURS = ("C0", "C1", "C2")


def heatmaps(W_KQ: np.ndarray, W_PV: np.ndarray, title: str) -> Figure:
    """Re W^KQ and Re W^PV side by side on a symmetric colour scale (the paper's Figure 7)."""
    figure = Figure(figsize=(9, 4), layout="constrained")
    axes = figure.subplots(1, 2)
    for axis, matrix, name in zip(axes, (W_KQ, W_PV), ("W^{KQ}", "W^{PV}")):
        values = np.asarray(matrix).real
        bound = max(float(np.max(np.abs(values))), 1e-12)
        image = axis.imshow(values, cmap="RdBu_r", vmin=-bound, vmax=bound)
        axis.set_title(f"Re ${name}$")
        figure.colorbar(image, ax=axis, shrink=0.8)
    figure.suptitle(title)
    return figure


def ab_against_flow(run, eta: float, flow_ab=None, limit_ab=None, title: str = "") -> Figure:
    """a b of a finite-sample run against the exact flow at tau = eta k (``flow_ab(tau)``)."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axis = figure.subplots()
    axis.plot(run.steps, run.ab, "o-", label=f"finite sample (m = {run.settings['m']})")
    if flow_ab is not None:
        dense = np.linspace(0, run.steps[-1], 400)
        axis.plot(dense, flow_ab(dense * eta), "-", label="exact population flow, tau = eta k")
    if limit_ab is not None:
        axis.axhline(limit_ab, ls="--", c="k", lw=1, label=f"exact limit {limit_ab:.4f}")
    axis.set(xlabel="gradient-descent step k", ylabel="ab", title=title)
    axis.legend()
    return figure


def _by_setting(comparisons):
    settings = list(dict.fromkeys(c.published for c in comparisons))
    return settings, {s: [c for c in comparisons if c.published == s] for s in settings}


def figure_one(comparisons) -> Figure:
    """a b against the step for each published setting (one panel each) and initialization:
    finite-sample training (markers; none where it diverged), the exact flow rescaled to steps
    (lines), the exact limit from each start (dashed) and the paper's line (dotted)."""
    settings, runs = _by_setting(comparisons)
    columns = 3
    rows = -(-len(settings) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.4 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for axis, setting in zip(axes, settings):
        for colour, c in zip(_COLOURS, runs[setting]):
            start = f"$(a_0, b_0) = ({c.a0:g}, {c.b0:g})$"
            if c.training is not None:
                axis.plot(c.training.steps, c.training.ab, "o", ms=3.5, c=colour, label=f"{start}, sampled")
            axis.plot(c.steps, c.ab_flow, "-", c=colour, lw=1.2)
            axis.axhline(c.ab_limit, ls="--", c=colour, lw=0.8)
        axis.axhline(setting.paper_line, ls=":", c="k", lw=1.2, label="paper's line")
        axis.set(title=f"{setting.label}, $\\eta$ = {setting.eta:g}", xlabel="step k", ylabel="ab")
    axes[0].legend(fontsize=7)
    for axis in axes[len(settings) :]:
        axis.set_visible(False)
    return figure


def metric_panels(comparisons) -> Figure:
    """The reference's metrics: the ratio Re(y_{T-1}/x_T) for Gaussian settings, the test loss
    (log scale) for sparse ones; sampled (markers) against exact along the flow (lines)."""
    settings, runs = _by_setting(comparisons)
    figure = Figure(figsize=(4.2 * 3, 3.4 * (-(-len(settings) // 3))), layout="constrained")
    axes = np.atleast_1d(figure.subplots(-(-len(settings) // 3), 3, squeeze=False)).ravel()
    for axis, setting in zip(axes, settings):
        gaussian = setting.family == "gaussian"
        for colour, c in zip(_COLOURS, runs[setting]):
            exact = c.ratio_flow if gaussian else c.test_loss_flow
            if c.training is not None:
                sampled = c.training.ratio if gaussian else c.training.test_loss
                label = f"({c.a0:g}, {c.b0:g}) sampled"
                axis.plot(c.training.steps, sampled, "o", ms=3.5, c=colour, label=label)
            axis.plot(c.steps, exact, "-", c=colour, lw=1.2)
        if gaussian:
            axis.axhline(0.2, ls=":", c="k", lw=1.2, label="paper's line 0.2")
            axis.set(ylabel="ratio")
        else:
            axis.set_yscale("log")
            axis.set(ylabel="test loss")
        axis.set(title=setting.label, xlabel="step k")
    axes[0].legend(fontsize=7)
    for axis in axes[len(settings) :]:
        axis.set_visible(False)
    return figure
