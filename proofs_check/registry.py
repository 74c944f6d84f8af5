"""Every registered claim, in the order the report lists them: the paper's, then the
extensions'."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from .check import Check, claim_fields
from .claims import (
    beyond_condition,
    capability,
    certified,
    conserved,
    discrete_stability,
    emergence,
    emergence_condition,
    full_loss,
    gd_step,
    models,
    population_loss,
    stability,
)
from .extensions import extension_claims

__all__ = ["CLAIMS", "PAPER_CLAIMS", "run_claim", "claim_table"]

PAPER_CLAIMS: tuple[Callable[..., Check], ...] = (
    gd_step.prediction_is_one_gd_step,
    population_loss.population_loss_matches_phase_quadrature,
    population_loss.population_loss_matches_monte_carlo,
    emergence.ab_limit_gaussian,
    emergence.ab_limit_sparse,
    emergence.ab_limit_full_one_masked,
    emergence.ab_limit_high_precision,
    emergence.finite_sample_training_follows_population_descent,
    emergence.finite_sample_masked_training_follows_population_descent,
    conserved.balance_conserved_by_exact_flow,
    conserved.balance_conserved_by_full_model,
    full_loss.full_loss_matches_torus_quadrature,
    emergence_condition.emergence_patterns_stable_in_d,
    emergence_condition.emergence_condition_iff_quadrature,
    emergence_condition.emergence_condition_iff_full_flow,
    emergence_condition.equal_diagonal_condition_iff_full_flow,
    stability.off_manifold_directions_do_not_grow,
    stability.random_initialization_reaches_diagonal_limit,
    beyond_condition.full_one_masked_limit,
    beyond_condition.full_one_unmasked_limit,
    beyond_condition.full_one_not_vanilla_gd,
    beyond_condition.asymmetric_violation_leaves_the_diagonal,
    certified.gaussian_limit_certified,
    certified.full_one_unmasked_limit_certified,
    discrete_stability.discrete_descent_threshold,
    capability.error_limit_is_recovery_residual,
    capability.trained_step_size_formula,
    capability.recovery_condition_in_moments,
    capability.limiting_error_by_quadrature,
    capability.recovery_iff_quadrature,
    capability.weakened_conditions_have_counterexamples,
    capability.gaussian_ratio_and_test_loss_match_simulator,
    capability.sparse_test_loss_vanishes,
    models.separate_keys_reach_the_same_mesa_optimizer,
    models.plateau_time_of_separate_keys,
    models.merged_and_separate_training_follow_exact_descent,
    models.d_heads_learn_the_coordinatewise_step,
)

# The paper's claims, then every extension's (proofs_check/extensions, found by module name).
CLAIMS: tuple[Callable[..., Check], ...] = PAPER_CLAIMS + extension_claims()


# A folder in which processes share verdicts: the test run sets it (tests/conftest.py), so that
# a claim runs once per run, whether its test or the chapter of the book that shows it asks first.
VERDICTS = "MESACHECK_VERDICTS"


def run_claim(claim: Callable[..., Check], *, quick: bool = False) -> tuple[Check, float]:
    """Run one claim; return its Check and the wall time in seconds.

    Under ``MESACHECK_VERDICTS`` (a folder), the first process to ask runs the claim and stores
    its verdict there; the others wait for it (a lock per claim) and read it."""
    folder = os.environ.get(VERDICTS)
    if not folder:
        return _timed(claim, quick)
    import fcntl
    import pickle

    path = Path(folder) / f"{claim.__module__}.{claim.__name__}.{'quick' if quick else 'full'}.pickle"
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if path.exists():
            return pickle.loads(path.read_bytes())
        verdict = _timed(claim, quick)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps(verdict))
        partial.replace(path)  # a process killed while writing leaves no half verdict
        return verdict


def _timed(claim: Callable[..., Check], quick: bool) -> tuple[Check, float]:
    start = time.perf_counter()
    check = claim(quick=quick)
    return check, time.perf_counter() - start


def claim_table() -> list[dict]:
    """Claim name, module, and the four docstring fields, for every registered claim."""
    return [{"name": c.__name__, "module": c.__module__, **claim_fields(c)} for c in CLAIMS]
