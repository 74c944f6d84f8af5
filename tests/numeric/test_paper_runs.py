"""The published runs, both ways: the exact curves start where training starts and end at the
exact limit, the stability edge is the Hessian's, and a diverging run is reported."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mesacheck.numeric.full_flow import full_model
from mesacheck.numeric.paper_runs import PUBLISHED_RUNS, reproduce_run
from mesacheck.numeric.simulate import diagonal_initialization
from mesacheck.proofs_check.plots import figure_one, metric_panels
from mesacheck.symbolic.moments import gaussian


def test_largest_curvature_is_the_dense_hessians_top_eigenvalue():
    model = full_model(gaussian(2, 1), 8)
    y = model.pack(*diagonal_initialization(2, 0.7, 1.3))
    dense = np.linalg.eigvalsh(model.hessian(y))[-1]
    assert model.largest_curvature(y) == pytest.approx(dense, rel=1e-9)  # Lanczos tol 1e-10


def test_a_short_run_starts_with_training_and_heads_to_the_exact_limit():
    published = dataclasses.replace(PUBLISHED_RUNS[4], steps=6, T=12)  # sparse, c = 1
    run = reproduce_run(published, 0.5, 1.5, m=40, log_every=3)
    assert run.training is not None and run.diverged is None
    assert run.ab_flow[0] == pytest.approx(0.75, rel=1e-12) == run.training.ab[0]
    assert run.steps[-1] == 6 and len(run.ratio_flow) == len(run.steps) == len(run.test_loss_flow)
    assert run.ab_limit == pytest.approx(1.0, rel=1e-12)  # sparse: 1/c^2 at every T
    assert 0 < run.edge_of_stability < 1
    figures = figure_one([run]), metric_panels([run])
    assert all(len([a for a in f.axes if a.get_visible()]) == 1 for f in figures)


def test_a_run_past_the_edge_of_stability_is_reported_not_raised():
    published = dataclasses.replace(PUBLISHED_RUNS[1], eta=1e-2, steps=30, T=12)  # Gaussian, sigma = 1
    run = reproduce_run(published, 2.0, 2.0, m=40)
    assert run.training is None and "diverged" in run.diverged
    assert run.edge_of_stability > 1
