"""Finite-sample training as the reference runs it, beside the exact population flow."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ..costs import exact_averages_cost, exact_size_guard, guard, model_simulate_cost, simulate_cost
from ._base import InvalidRequest, diagonal_regime, read_model, scaled, start_atol

__all__ = ["Simulation", "simulate"]


@dataclass(frozen=True)
class Simulation:
    """A finite-sample run (:class:`mesacheck.numeric.simulate.TrainingRun`) and the exact
    population flow beside it: ``records`` (the log, each row with ``ab_exact_flow``), the exact
    ``ab_population_limit`` (None where it is not derived), ``flow_curve`` (a b of the exact flow
    at time tau, or None), ``regime`` (why the diagonal flow is exact here, or why there is none)
    and ``report``, as ``mesacheck simulate --json`` prints it."""

    run: object
    records: list
    regime: str
    ab_population_limit: float | None
    flow_curve: object = None
    report: dict = field(default_factory=dict, repr=False, compare=False)


def simulate(
    setting,
    T: int,
    a0: float = 0.1,
    b0: float = 0.1,
    *,
    eta: float = 1e-4,
    steps: int = 150,
    m: int = 10_000,
    m_test: int = 10_000,
    seed: int = 0,
    log_every: int = 10,
    mask: bool = False,
    law=None,
    force: bool = False,
    progress: bool = False,
    model=None,
    init: str = "diagonal",
    sigma_w: float = 0.1,
    init_seed: int = 0,
) -> Simulation:
    """Train by full-batch gradient descent on ``m`` sampled sequences (every entry trainable,
    complex) and integrate the exact flow beside it at tau = eta * step.

    ``setting``: a law of x_1 that can be sampled, or a :class:`mesacheck.Setting`; ``law``: the
    same law as a :class:`ScaledLaw` (the command line's). A law of extreme scale raises
    :class:`InvalidRequest` (the sampled training runs in double precision).

    >>> import mesacheck
    >>> result = mesacheck.simulate(mesacheck.gaussian(2, 1), 5, eta=0.01, steps=2, m=20, m_test=20)
    >>> len(result.records), result.records[0]["ab"] == 0.1 * 0.1
    (2, True)

    ``model`` (a :class:`mesacheck.symbolic.parameterization.Model`; default the paper's) and
    ``init`` ("diagonal" or "random" with scale ``sigma_w``, drawn from ``init_seed``): any model
    other than the paper's from the diagonal start, and any model from a random one, trains by
    :func:`mesacheck.numeric.parameterized.train_model` beside the exact flow of the same model
    (:func:`mesacheck.numeric.parameterized.integrate_model_flow`) at tau = eta * step.
    """
    from mesacheck.numeric.bridge import evaluate
    from mesacheck.numeric.flow import integrate_flow
    from mesacheck.numeric.simulate import simulate_training
    from mesacheck.symbolic.setting import as_setting
    from mesacheck.symbolic.stationary import NotExchangeableError, emergence_limit

    exact = as_setting(setting)
    given = scaled(exact.law if law is None else law, T)
    if given.digits:
        raise InvalidRequest(
            f"x_1 has scale 10^{given.digits}: the sampled training runs in double precision and "
            f"would over- or underflow; simulate x_1 / 10^{given.digits} instead (the flow is invariant: "
            "a b scales by 1/scale^2 and time by 1/scale^4), or use `mesacheck limit`"
        )
    model = read_model(model, mask, given.law.d, init)
    if init not in ("diagonal", "random"):
        raise InvalidRequest(f"init is 'diagonal' or 'random', got {init!r}")
    if not model.is_paper or init == "random":
        return _simulate_model(
            exact,
            given,
            model,
            T,
            a0,
            b0,
            init,
            sigma_w,
            init_seed,
            eta=eta,
            steps=steps,
            m=m,
            m_test=m_test,
            seed=seed,
            log_every=log_every,
            force=force,
        )
    guard(
        simulate_cost(given.law.d, T, m=m, m_test=m_test, steps=steps, log_every=log_every, masked=mask),
        force,
    )
    if not exact.is_paper_process:  # before sampling (the exact p* of _setting_limit needs it)
        exact_size_guard(exact.phases, T, force, exact)
    start = time.perf_counter()
    run = simulate_training(
        exact,
        T=T,
        a0=a0,
        b0=b0,
        eta=eta,
        steps=steps,
        m=m,
        m_test=m_test,
        mask=mask,
        seed=seed,
        log_every=log_every,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    records = run.as_records()
    flow_ab = limit_ab = flow_curve = None
    if not exact.is_paper_process:
        regime, limit_ab = _setting_limit(exact, T, force)
    elif not (a0 == 0 and b0 == 0):
        try:
            regime = diagonal_regime(given, mask)
            solution = integrate_flow(given.law, a0, b0, values=given.values, atol=start_atol(a0, b0))
            flow_curve = solution.ab_at
            flow_ab = flow_curve(run.steps * eta)
            try:
                limit_ab = evaluate(emergence_limit(given.law, a0, b0).ab, given.values)
            except NotExchangeableError:
                limit_ab = float(solution.ab[-1])
        except InvalidRequest as error:
            regime = f"no exact flow: {error}"
    else:
        regime = "no exact flow: (a0, b0) = (0, 0) is stationary"
    for row, value in zip(records, flow_ab if flow_ab is not None else [None] * len(records)):
        row["ab_exact_flow"] = None if value is None else float(value)
    report = {
        "settings": run.settings,
        "seconds": seconds,
        "regime": regime,
        "ab_population_limit": limit_ab,
        "ab_final": records[-1]["ab"],
        "gap_to_population_limit": None if limit_ab is None else records[-1]["ab"] - limit_ab,
        "log": records,
    }
    return Simulation(run, records, regime, limit_ab, flow_curve, report)


def _setting_limit(exact, T: int, force: bool):
    """Beyond the paper's process: the exact p* of the diagonal model when it is derived (no
    noise, exchangeable x_1), with no exact trajectory drawn beside the sampled one."""
    from mesacheck.symbolic.symmetric_line import symmetric_line

    if exact.noise.present:
        return f"{exact.describe()}: no exact flow (noise averages are not derived yet)", None
    guard(exact_averages_cost(T, exact), force)
    try:
        return f"{exact.describe()}: exact p* = beta/alpha of the diagonal model", float(
            symmetric_line(exact, T).ab_star
        )
    except (ValueError, ZeroDivisionError) as error:
        return f"{exact.describe()}: no exact limit ({error})", None


def _simulate_model(
    exact, given, model, T, a0, b0, init, sigma_w, init_seed, *, eta, steps, m, m_test, seed, log_every, force
) -> Simulation:
    """Any model (or a random start): finite-sample descent on the sampled quadratic form beside
    the exact flow of the same model from the same start."""
    import numpy as np

    from mesacheck.numeric.flow import FlowDidNotConverge
    from mesacheck.numeric.full_flow import full_model
    from mesacheck.numeric.parameterized import (
        ParameterizedLoss,
        initialize,
        integrate_model_flow,
        train_model,
    )
    from mesacheck.symbolic.parameterization import InvalidModel

    d = given.law.d
    if d > 5:
        raise InvalidRequest(
            f"training {model.describe()} uses the data's moments, (2d)^6 numbers: d <= 5, got d = {d}"
        )
    if model.masked and init == "random":
        raise InvalidRequest("--mask needs zero off-diagonal prediction blocks: use --init diagonal")
    coordinates = 2 * model.size(d)
    guard(
        model_simulate_cost(
            d, T, m=m, m_test=m_test, steps=steps, log_every=log_every, coordinates=coordinates
        ),
        force,
    )
    if not exact.is_paper_process:
        guard(exact_averages_cost(T), force)
        exact_size_guard(exact.phases, T, force)
    try:  # the exact loss of the setting, as `flow --full` takes it (noise included where derived)
        population = ParameterizedLoss(model, full_model(exact, T))
    except NotImplementedError as error:
        raise InvalidRequest(
            f"{model.describe()} trains beside its exact flow, and the exact loss refuses this setting: "
            f"{error}"
        ) from None
    try:
        start = initialize(population, init, a0=a0, b0=b0, sigma_w=sigma_w, seed=init_seed)
    except InvalidModel as error:
        raise InvalidRequest(str(error)) from None
    if init == "diagonal" and not np.any(start):
        raise InvalidRequest("(a0, b0) = (0, 0) is stationary: nothing trains from there")
    began = time.perf_counter()
    run = train_model(
        exact, model, start, T=T, eta=eta, steps=steps, m=m, m_test=m_test, seed=seed, log_every=log_every
    )
    seconds = time.perf_counter() - began
    records = run.as_records()
    try:
        solution = integrate_model_flow(population, start, tau_max=1e5, allow_unfinished=True, dense=True)
        regime = f"{model.describe()}: its exact flow from the same start"
        limit_ab = float(solution.ab[-1]) if solution.stationary else None

        def flow_curve(tau):
            tau = np.asarray(tau, dtype=float)
            inside = np.minimum(tau, solution.tau[-1])
            if solution.interpolant is None:
                return np.full(tau.shape, solution.ab[-1])
            return np.array([population.ab(solution.interpolant(t)) for t in np.atleast_1d(inside)]).reshape(
                tau.shape
            )

        flow_ab = flow_curve(run.steps * eta)
    except FlowDidNotConverge as error:
        regime, limit_ab, flow_curve, flow_ab = f"no exact flow: {error}", None, None, None
    for row, value in zip(records, flow_ab if flow_ab is not None else [None] * len(records)):
        row["ab_exact_flow"] = None if value is None else float(value)
    settings = {
        "law": given.law.name,
        "setting": exact.describe(),
        "model": {**model.as_dict(), "description": model.describe()},
        "d": d,
        "T": T,
        "init": init,
        **({"a0": a0, "b0": b0} if init == "diagonal" else {"sigma_w": sigma_w, "init_seed": init_seed}),
        "eta": eta,
        "steps": steps,
        "m": m,
        "m_test": m_test,
        "mask": model.masked,
        "seed": seed,
    }
    report = {
        "settings": settings,
        "seconds": seconds,
        "regime": regime,
        "ab_population_limit": limit_ab,
        "ab_final": records[-1]["ab"],
        "gap_to_population_limit": None if limit_ab is None else records[-1]["ab"] - limit_ab,
        "log": records,
    }
    run = replace(run, settings=settings)
    return Simulation(run, records, regime, limit_ab, flow_curve, report)
