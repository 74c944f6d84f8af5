"""``mesacheck limit``: the limit of a b, closed form against the integrated exact flow."""

from __future__ import annotations

import math
import time

import click

from ._common import (
    POSITIVE,
    emit,
    number_text,
    progress_wanted,
    require_diagonal_reduction,
    setting_options,
    start_atol,
)
from ._cost import announce, guard, limit_cost
from ._limit_warm import answer, warm_path
from ._process import exact_setting_cost, process_options

# In units where x_1 has scale 1: past 1e2 the stopping rule (a Newton step relative to the
# start's size) leaves a b with relative errors above 1e-8 (5e-7 from (1e3, 1e-3), 0.5 from
# (1e6, 1e-30)); below 1e-30 a b underflows.
START_RANGE = (1e-30, 1e2)


@click.command()
@warm_path
@setting_options()
@process_options()
@click.option("--tau-max", type=POSITIVE, default=1e6, show_default=True, help="Time budget of the flow.")
@click.option(
    "--closed-form",
    is_flag=True,
    help="Require the closed form in T; refused, saying what is given instead, where none is derived.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def limit(setting, process, a0, b0, mask, force, tau_max, closed_form, as_json):
    """The limit of a b: closed form against the integrated exact flow.

    The start a0 = -b0 (a != 0) stays on a = -b and runs into the strict saddle at the origin:
    a b -> 0 there, and it is reported as that saddle limit."""
    import sympy as sp

    from mesacheck.numeric.bridge import evaluate, symmetric_flow_source
    from mesacheck.numeric.bridge import flow_source as diagonal_flow_source
    from mesacheck.symbolic.stationary import (
        NotExchangeableError,
        ab_limit,
        ab_limit_as_T_grows,
        emergence_limit,
    )

    start = time.perf_counter()
    T = setting.T
    if a0 == 0 and b0 == 0:
        raise click.UsageError(
            "(a0, b0) = (0, 0) is a stationary point: with both prediction blocks zero the prediction is "
            "identically 0, every gradient vanishes, and the flow never moves. Start elsewhere."
        )
    # an exchangeable law's flow from the diagonal start stays on a_j = a, b_j = b: its closed form
    # and its flow are derived from 2 coordinates (mesacheck.symbolic.stationary), at any d
    symmetric = setting.law.exchangeable and setting.law.d > 3
    cost = limit_cost(setting.law.d, T, masked=mask, exchangeable=symmetric)
    guard(cost, force)
    announce(cost, progress_wanted(as_json))
    # normalized units (Setting): the start scales with x_1, time and a b do not come back
    # as doubles where they would overflow
    a_start, b_start = (float(sp.Rational(repr(v)) * setting.scale) for v in (a0, b0))  # exact 10^k
    low, high = START_RANGE
    if not low <= max(abs(a_start), abs(b_start)) <= high:
        raise click.UsageError(
            f"the start (a0, b0) = ({a0:g}, {b0:g}) is out of the range where double precision "
            f"integrates this flow: give max(|a0|, |b0|) between 1e{round(math.log10(low)) - setting.digits} "
            f"and 1e{round(math.log10(high)) - setting.digits} "
            "(the scale of x_1 sets it: a, b go like 1/scale); the limit depends on the start only "
            "through the signs and a0^2 - b0^2"
        )
    exact = process(setting.sampling_law)
    if closed_form and not exact.is_paper_process:
        raise click.UsageError(_no_closed_form(exact))
    if not exact.is_paper_process:
        return _limit_in_setting(setting, exact, a_start, b_start, a0, b0, mask, force, as_json, start)
    regime = require_diagonal_reduction(setting, mask)
    values = setting.values
    try:
        closed = emergence_limit(setting.law, a_start, b_start)
    except NotExchangeableError as error:
        closed, reason = None, str(error)
    if closed is not None and not _finite_value(closed.ab, values):
        raise click.ClickException(
            f"the closed form {closed.ab} has a vanishing denominator for this law (its moments make "
            "alpha = 0), so the loss is flat along a b and there is no single limit"
        )
    flow_source = symmetric_flow_source if symmetric else diagonal_flow_source
    user = setting.in_user_units
    # the symbolic half; _limit_warm integrates the flow, compares and prints, and stores this
    # half so that the next run of this command line needs no SymPy
    entry = {
        "flow": flow_source(setting.law, values),
        "symmetric": symmetric,
        "a_start": a_start,
        "b_start": b_start,
        "atol": start_atol(a_start, b_start),
        "tau_max": tau_max,
        "cost": cost,
        "digits": setting.digits,
        "head": {"x1": setting.description, "d": setting.law.d, "T": T, "a0": a0, "b0": b0, "regime": regime},
        "closed": None,
        "reason": None if closed is not None else reason,
        "tail": {},
    }
    if closed is not None:
        ab_exact = evaluate(closed.ab, values)
        general = ab_limit(setting.law)  # lim ab away from the saddle: the formula, in T
        saddle = closed.kind == "saddle"
        asymptote = sp.S.Zero if saddle else ab_limit_as_T_grows(setting.law)
        entry["ab_exact"] = ab_exact
        entry["asymptote"] = sp.sstr(asymptote)
        entry["closed"] = {
            "ab_closed_form": user(ab_exact, -2),
            "ab_exact": user(ab_exact, -2),  # the name every setting's answer uses
            "relative_error": None,  # the flow's, filled in by _limit_warm
            "absolute_error": None,
            "a_limit": user(evaluate(closed.a, values), -1),
            "b_limit": user(evaluate(closed.b, values), -1),
            "limit_kind": closed.kind,
            "closed_form": str(closed.ab if saddle else general),
            "closed_form_latex": sp.latex(closed.ab if saddle else general),
            "ab_T_to_infinity": user(evaluate(asymptote, values), -2)
            if asymptote.is_finite is not False
            else None,
            "ab_T_to_infinity_latex": sp.latex(asymptote),
            "local_rate": user(evaluate(closed.rate, values), 4),
            "conserved_a2_minus_b2": user(float(closed.conserved), -2),
        }
    tail = entry["tail"]
    if closed is not None and closed.kind == "saddle":
        tail["ab_mesa_optimizer"] = user(evaluate(general, values), -2)
        tail["note"] = (
            "a0 = -b0: a = -b is invariant, so a b = -a^2 <= 0 and the flow runs into the strict saddle "
            f"at the origin (a b -> 0); every other start reaches the mesa-optimizer a b = {sp.sstr(general)}"
        )
    silent = _silent_coordinates(setting.sampling_law)
    if silent:
        tail["silent_coordinates"] = silent
        tail["note"] = (
            f"coordinates {silent} of x_1 are 0 almost surely: the loss does not depend on their a_j, b_j, "
            "which keep their start (every value is stationary in them) and enter the mean a b as a0 b0"
        )
    if setting.digits:
        tail["units"] = (
            f"computed with x_1 / 10^{setting.digits} and rescaled: a b by 10^{-2 * setting.digits}, "
            f"time by 10^{-4 * setting.digits}"
        )
    answer(entry, as_json, start)


def _limit_in_setting(setting, exact, a_start, b_start, a0, b0, mask, force, as_json, start):
    """lim ab of the diagonal model in a setting beyond the paper's process: the exact rational
    p* = beta / alpha from the symmetric line (an exact finite sum over positions) against the
    integrated flow of the diagonal model on the exact loss."""
    import numpy as np

    from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow, off_diagonal_gradient
    from mesacheck.numeric.full_flow import full_model
    from mesacheck.symbolic.symmetric_line import symmetric_line

    T, d = setting.T, setting.law.d
    exact_setting_cost(T, force)
    try:
        line = symmetric_line(exact, T)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if line.alpha == 0:
        raise click.ClickException(
            "alpha = 0: the loss does not depend on a b in this setting, so every a b is stationary "
            "and there is no limit to report"
        )
    model = full_model(exact, T)
    off, keeps = off_diagonal_gradient(model, a_start, b_start, mask=mask)
    regime = (
        f"{'masked: ' if mask else ''}the full model keeps the diagonal here: the diagonal model is exact"
        if keeps
        else f"the full model LEAVES the diagonal here (off-diagonal gradient {off:.2e} at the start): "
        "these are the diagonal model's numbers; `mesacheck flow --full` follows every entry"
    )
    saddle = a_start == -b_start
    p_star = float(line.ab_star)
    # on a = -b the flow runs into the strict saddle: stop 1e6-fold closer to it than the start
    stop = 1e-6 * max(abs(a_start), abs(b_start)) if saddle else 0.0
    solution = integrate_diagonal_flow(model, a_start, b_start, stop_below=stop)
    ab_flow = float(np.mean(solution.ab))
    target = 0.0 if saddle else p_star
    user = setting.in_user_units
    payload = {
        "x1": setting.description,
        "setting": exact.describe(),
        "d": d,
        "T": T,
        "a0": a0,
        "b0": b0,
        "regime": regime,
        "diagonal_invariant": bool(keeps),
        "limit_kind": "saddle" if saddle else "mesa-optimizer",
        "ab_exact": user(target, -2),
        "ab_mesa_optimizer": user(p_star, -2),
        "ab_exact_rational": str(line.ab_star) if not setting.digits else None,
        "exact_form": "an exact finite sum over the positions (no closed form in T is used here)",
        "error_per_position": user(float(line.error_per_position), 2),
        "ab_flow": user(ab_flow, -2),
        "relative_error": abs(ab_flow - target) / abs(target) if target else None,
        "absolute_error": user(abs(ab_flow - target), -2),
        "certificate": {
            "gradient_norm": user(solution.gradient_norm, 3),
            "conserved_drift": user(solution.conserved_drift, -2),
            "tau_end": user(solution.tau, -4),
            "method": "LSODA",
            "rtol": 1e-12,
        },
    }
    if saddle:
        payload["note"] = (
            "a0 = -b0: a = -b is invariant and the flow runs into the strict saddle at the origin"
        )
    payload["seconds"] = time.perf_counter() - start
    error = (
        f"relative error {payload['relative_error']:.1e}"
        if payload["relative_error"] is not None
        else f"absolute error {number_text(payload['absolute_error'], 2)}"
    )
    lines = [
        f"x_1: {payload['x1']};  d = {d}, T = {T}, (a0, b0) = ({a0}, {b0})",
        f"setting: {payload['setting']}",
        regime,
        f"exact           lim ab = {number_text(payload['ab_exact'], 15)}   ({payload['limit_kind']}; "
        "beta/alpha on the symmetric line, an exact finite sum over positions)",
        f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}   {error}",
    ]
    if "note" in payload:
        lines.append(payload["note"])
    lines.append(
        f"certificate: |grad L| = {number_text(payload['certificate']['gradient_norm'], 2)}, conserved drift "
        f"{number_text(payload['certificate']['conserved_drift'], 2)}  ({payload['seconds']:.2f} s)"
    )
    emit(payload, as_json, lines)


def _finite_value(expr, values) -> bool:
    """Whether a closed form has a finite value here (not nan, not complex infinity)."""
    from mesacheck.numeric.bridge import evaluate

    try:
        return math.isfinite(evaluate(expr, values))
    except TypeError:  # SymPy's zoo (a zero denominator) does not convert to float
        return False


def _silent_coordinates(law) -> list[int]:
    """The coordinates (1-based) that are 0 almost surely under a law of atoms."""
    if law.name != "atoms":
        return []
    points = law.key[0]
    return [j + 1 for j in range(law.d) if not any(point[j] for point in points)]


def _no_closed_form(setting) -> str:
    """Why this setting has no closed form in T here, and what is given instead."""
    if setting.phases.kind == "modulus":
        why = "under a random modulus the sums over positions are sums of moments of rho, with no closed form"
    elif setting.phases.kind == "circle" and setting.phases.radius != 1:
        why = "under a contraction the sums over positions are partial Lerch sums, with no closed form in T"
    elif setting.phases.kind == "roots":
        why = (
            "over the roots of unity the sums over positions are periodic in T mod N; "
            "no closed form is derived"
        )
    elif setting.noise.present:
        why = (
            "its sums over positions have closed forms in T (harmonic numbers, used past T = 400), but p* is "
            "not assembled as one expression in T"
        )
    elif setting.positions == "last":
        why = "the last-position loss has one (extension last-position), but this command does not derive it"
    else:
        why = "no closed form in T is derived for it"
    return (
        f"no closed form for {setting.describe()}: {why}; without --closed-form, `mesacheck limit` gives p* "
        "exactly (an exact finite sum over positions) against the integrated flow"
    )
