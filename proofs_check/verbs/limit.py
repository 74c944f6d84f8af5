"""The limit of a b under the diagonal model's gradient flow: the closed form (or, beyond the
paper's process, the exact p* = beta / alpha on the symmetric line) against the integrated flow."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..costs import announce, exact_averages_cost, exact_size_guard, guard, limit_cost
from ._base import InvalidRequest, NoAnswer, diagonal_regime, in_user_units, scaled, start_atol

__all__ = ["Limit", "limit", "from_symbolic_half", "START_RANGE"]

# In units where x_1 has scale 1: past 1e2 the stopping rule (a Newton step relative to the
# start's size) leaves a b with relative errors above 1e-8 (5e-7 from (1e3, 1e-3), 0.5 from
# (1e6, 1e-30)); below 1e-30 a b underflows.
START_RANGE = (1e-30, 1e2)


@dataclass(frozen=True)
class Limit:
    """lim a b from (a0, b0): the exact value against the integrated flow, with the flow's
    certificate. Values are in the user's units: a float, or a 15-digit string where a double
    cannot hold it.

    ``kind``: "mesa-optimizer", "saddle" (the start a0 = -b0) or "stationary point of the
    diagonal flow" (no closed form); ``ab_exact`` is None where no closed form is derived
    (``reason`` says why; ``a_limit``, ``b_limit`` are then the flow's, per coordinate);
    ``closed_form`` and ``ab_T_to_infinity_form`` are SymPy's text of the expressions in T
    (``sympy.sympify`` reads them back; :func:`mesacheck.ab_limit` gives the expression; None
    beyond the paper's process, where p* is an exact finite sum over positions); ``report`` is
    everything, as ``mesacheck limit --json`` prints it; ``symbolic_half`` is what SymPy derived
    for it, which :func:`from_symbolic_half` turns into the answer again without SymPy."""

    ab_exact: float | str | None
    ab_flow: float | str
    a_limit: object
    b_limit: object
    kind: str
    regime: str
    certificate: dict
    closed_form: object = None
    ab_T_to_infinity_form: object = None
    reason: str | None = None
    report: dict = field(default_factory=dict, repr=False, compare=False)
    symbolic_half: dict | None = field(default=None, repr=False, compare=False)


def limit(
    setting,
    T: int,
    a0: float = 0.1,
    b0: float = 0.1,
    *,
    mask: bool = False,
    tau_max: float = 1e6,
    closed_form: bool = False,
    law=None,
    force: bool = False,
    show_cost: bool = False,
) -> Limit:
    """lim a b of the diagonal model trained by gradient flow from (a0, b0) at length ``T``.

    ``setting``: a law of x_1 or a :class:`mesacheck.Setting`. ``law``: the same law of x_1 as a
    :class:`ScaledLaw` (parameters kept as symbols, extreme scales normalized), as the command
    line gives it; by default the setting's law, as it is. ``mask`` holds the off-diagonal
    prediction blocks at 0; ``closed_form`` refuses a setting without a closed form in T;
    ``force`` runs past the cost guard. The start a0 = -b0 (a != 0) stays on a = -b and runs
    into the strict saddle at the origin: a b -> 0 there, reported as that saddle limit.
    Raises :class:`InvalidRequest` for a request refused before any work.

    >>> import mesacheck
    >>> result = mesacheck.limit(mesacheck.gaussian(5, 1), 100)
    >>> result.kind, round(result.ab_exact, 6), abs(result.ab_flow - result.ab_exact) < 1e-9
    ('mesa-optimizer', 0.191905, True)
    """
    import sympy as sp

    from mesacheck.symbolic.setting import as_setting

    start = time.perf_counter()
    exact = as_setting(setting)
    given = scaled(exact.law if law is None else law, T)
    if a0 == 0 and b0 == 0:
        raise InvalidRequest(
            "(a0, b0) = (0, 0) is a stationary point: with both prediction blocks zero the prediction is "
            "identically 0, every gradient vanishes, and the flow never moves. Start elsewhere."
        )
    # an exchangeable law's flow from the diagonal start stays on a_j = a, b_j = b: its closed form
    # and its flow are derived from 2 coordinates (mesacheck.symbolic.stationary), at any d. From
    # a0 = -b0 the flow must stay on the invariant line a = -b, which is unstable (the saddle):
    # in (u, v) = (a + b, a - b) the reduced flow keeps u = 0 exactly (its u-gradient has the
    # factor u), while the flow of all 2d coordinates leaves the line by rounding at d <= 3 and
    # ends at the mesa-optimizer instead.
    symmetric = given.law.exchangeable and (given.law.d > 3 or a0 == -b0)
    cost = limit_cost(given.law.d, T, masked=mask, exchangeable=symmetric)
    guard(cost, force)
    announce(cost, show_cost)
    # normalized units (ScaledLaw): the start scales with x_1, time and a b do not come back
    # as doubles where they would overflow
    a_start, b_start = (float(sp.Rational(repr(v)) * given.scale) for v in (a0, b0))  # exact 10^k
    low, high = START_RANGE
    if not low <= max(abs(a_start), abs(b_start)) <= high:
        raise InvalidRequest(
            f"the start (a0, b0) = ({a0:g}, {b0:g}) is out of the range where double precision "
            f"integrates this flow: give max(|a0|, |b0|) between 1e{round(math.log10(low)) - given.digits} "
            f"and 1e{round(math.log10(high)) - given.digits} "
            "(the scale of x_1 sets it: a, b go like 1/scale); the limit depends on the start only "
            "through the signs and a0^2 - b0^2"
        )
    if closed_form and not exact.is_paper_process:
        raise InvalidRequest(_no_closed_form(exact))
    if not exact.is_paper_process:
        return _limit_in_setting(given, exact, a_start, b_start, a0, b0, mask, force, start)
    return _limit_closed_form(given, a_start, b_start, a0, b0, mask, tau_max, symmetric, start, cost)


def _limit_closed_form(given, a_start, b_start, a0, b0, mask, tau_max, symmetric, start, cost) -> Limit:
    """The paper's process: the closed form in T against the integrated diagonal flow."""
    half = _symbolic_half(given, a_start, b_start, a0, b0, mask, tau_max, symmetric, cost)
    return from_symbolic_half(half, start)


def _symbolic_half(given, a_start, b_start, a0, b0, mask, tau_max, symmetric, cost) -> dict:
    """Everything of the answer that SymPy derives: the regime, the closed form, its values and
    text, and the generated source of the flow's functions. It depends only on the request and
    the code, so the command line stores it (``Limit.symbolic_half``) and a later run of the
    same command line answers from it without SymPy (:func:`from_symbolic_half`)."""
    import sympy as sp

    from mesacheck.numeric.bridge import evaluate, symmetric_flow_source
    from mesacheck.numeric.bridge import flow_source as diagonal_flow_source
    from mesacheck.symbolic.stationary import (
        NotExchangeableError,
        ab_limit,
        ab_limit_as_T_grows,
        emergence_limit,
    )

    T = given.T
    regime = diagonal_regime(given, mask)
    values = given.values
    try:
        closed = emergence_limit(given.law, a_start, b_start)
    except NotExchangeableError as error:
        closed, reason = None, str(error)
    if closed is not None and not _finite_value(closed.ab, values):
        raise NoAnswer(
            f"the closed form {closed.ab} has a vanishing denominator for this law (its moments make "
            "alpha = 0), so the loss is flat along a b and there is no single limit"
        )
    flow_source = symmetric_flow_source if symmetric else diagonal_flow_source
    user = given.in_user_units
    entry = {
        "flow": flow_source(given.law, values),
        "symmetric": symmetric,
        "a_start": a_start,
        "b_start": b_start,
        "atol": start_atol(a_start, b_start),
        "tau_max": tau_max,
        "cost": cost,
        "digits": given.digits,
        "regime": regime,
        "head": {"x1": given.description, "d": given.law.d, "T": T, "a0": a0, "b0": b0, "regime": regime},
        "closed": None,
        "closed_form": None,
        "asymptote": None,
        "reason": None if closed is not None else reason,
        "tail": {},
    }
    if closed is not None:
        ab_exact = evaluate(closed.ab, values)
        general = ab_limit(given.law)  # lim ab away from the saddle: the formula, in T
        saddle = closed.kind == "saddle"
        asymptote = sp.S.Zero if saddle else ab_limit_as_T_grows(given.law)
        entry["ab_exact"] = ab_exact
        entry["closed_form"] = sp.sstr(closed.ab if saddle else general)
        entry["asymptote"] = sp.sstr(asymptote)
        entry["closed"] = {
            "ab_closed_form": user(ab_exact, -2),
            "ab_exact": user(ab_exact, -2),  # the name every setting's answer uses
            "relative_error": None,  # the flow's, filled in by from_symbolic_half
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
    silent = _silent_coordinates(given.sampling_law)
    if silent:
        tail["silent_coordinates"] = silent
        tail["note"] = (
            f"coordinates {silent} of x_1 are 0 almost surely: the loss does not depend on their a_j, b_j, "
            "which keep their start (every value is stationary in them) and enter the mean a b as a0 b0"
        )
    if given.digits:
        tail["units"] = (
            f"computed with x_1 / 10^{given.digits} and rescaled: a b by 10^{-2 * given.digits}, "
            f"time by 10^{-4 * given.digits}"
        )
    return entry


def from_symbolic_half(entry: dict, start: float) -> Limit:
    """The numeric half, without SymPy: integrate the flow from the generated source in
    ``entry`` (:func:`_symbolic_half`) with ``solve_ivp``, every call, and compare it with the
    closed form."""
    from mesacheck.numeric._compiled_flow import flow_from_source, integrate_compiled, start_state

    flow, symmetric = entry["flow"], entry["symmetric"]
    solution = integrate_compiled(
        flow_from_source(flow),
        start_state(flow.d, entry["a_start"], entry["b_start"], symmetric=symmetric),
        symmetric=symmetric,
        method="LSODA",
        rtol=1e-12,
        atol=entry["atol"],
        xtol=1e-13,
        tau_max=entry["tau_max"],
    )

    def user(value, length_power):
        return in_user_units(value, length_power, entry["digits"])

    closed = entry["closed"]
    a_flow, b_flow = solution.limit[: solution.d], solution.limit[solution.d :]
    ab_flow = float(solution.ab[-1])
    report = {
        **entry["head"],
        "ab_flow": user(ab_flow, -2),
        "certificate": {
            "gradient_norm": user(solution.gradient_norm, 3),
            "relative_newton_step": solution.newton_step,
            "conserved_drift": user(solution.conserved_drift, -2),
            "tau_end": user(float(solution.tau[-1]), -4),
            "method": solution.method,
            "rtol": solution.rtol,
            "state": "(a, b) on the invariant manifold a_j = a, b_j = b (exchangeable law)"
            if symmetric
            else "(a_1..a_d, b_1..b_d)",
        },
    }
    if closed is not None:
        ab_exact = entry["ab_exact"]
        report.update(closed)
        report["relative_error"] = abs(ab_flow - ab_exact) / abs(ab_exact) if ab_exact else None
        report["absolute_error"] = user(abs(ab_flow - ab_exact), -2)
    else:
        report.update(
            {
                "ab_closed_form": None,
                "closed_form_reason": entry["reason"],
                "a_limit": [user(v, -1) for v in a_flow.tolist()],
                "b_limit": [user(v, -1) for v in b_flow.tolist()],
                "limit_kind": "stationary point of the diagonal flow",
            }
        )
    report.update(entry["tail"])
    report["seconds"] = time.perf_counter() - start
    return Limit(
        ab_exact=report.get("ab_exact"),
        ab_flow=report["ab_flow"],
        a_limit=report["a_limit"],
        b_limit=report["b_limit"],
        kind=report["limit_kind"],
        regime=entry["regime"],
        certificate=report["certificate"],
        closed_form=entry["closed_form"],
        ab_T_to_infinity_form=entry["asymptote"],
        reason=entry["reason"],
        report=report,
        symbolic_half=entry,
    )


def _limit_in_setting(given, exact, a_start, b_start, a0, b0, mask, force, start) -> Limit:
    """lim ab of the diagonal model in a setting beyond the paper's process: the exact rational
    p* = beta / alpha from the symmetric line (an exact finite sum over positions) against the
    integrated flow of the diagonal model on the exact loss. A law whose moments change when
    coordinates are permuted has no symmetric line: its flow is the per-coordinate diagonal flow
    on the exact loss, as in the paper's process (:func:`_per_coordinate_limit`)."""
    import numpy as np

    from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow
    from mesacheck.numeric.full_flow import full_model
    from mesacheck.symbolic.process_counts import closed_form_in_T
    from mesacheck.symbolic.symmetric_line import exchangeable, symmetric_line

    T, d = given.T, given.law.d
    guard(exact_averages_cost(T, exact), force)
    exact_size_guard(exact.phases, T, force, exact)
    if not exchangeable(exact.law):
        return _per_coordinate_limit(given, exact, a_start, b_start, a0, b0, mask, start)
    try:
        line = symmetric_line(exact, T)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    if line.alpha == 0:
        raise NoAnswer(
            "alpha = 0: the loss does not depend on a b in this setting, so every a b is stationary "
            "and there is no limit to report"
        )
    model = full_model(exact, T)
    regime, keeps = _regime_in_setting(given, exact, model, a_start, b_start, mask)
    saddle = a_start == -b_start
    p_star = float(line.ab_star)
    # on a = -b the flow runs into the strict saddle: stop 1e6-fold closer to it than the start
    stop = 1e-6 * max(abs(a_start), abs(b_start)) if saddle else 0.0
    solution = integrate_diagonal_flow(model, a_start, b_start, stop_below=stop)
    ab_flow = float(np.mean(solution.ab))
    target = 0.0 if saddle else p_star
    user = given.in_user_units
    report = {
        "x1": given.description,
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
        # past ~2000 positions p* holds unevaluated progression sums: exact, but not one rational
        "ab_exact_rational": str(line.ab_star) if not given.digits and line.ab_star.is_Rational else None,
        "exact_form": (
            "exact: the sums over positions in closed form in T (progression sums; past ~2000 positions "
            "exact numbers evaluated at 50 digits)"
            if closed_form_in_T(exact, T)
            else "an exact finite sum over the positions (no closed form in T is used here)"
        ),
        "error_per_position": user(float(line.error_per_position), 2),
        "ab_flow": user(ab_flow, -2),
        "relative_error": abs(ab_flow - target) / abs(target) if target else None,
        "absolute_error": user(abs(ab_flow - target), -2),
        "certificate": _diagonal_certificate(solution, user),
    }
    if saddle:
        report["note"] = (
            "a0 = -b0: a = -b is invariant and the flow runs into the strict saddle at the origin"
        )
    report["seconds"] = time.perf_counter() - start
    return Limit(
        ab_exact=report["ab_exact"],
        ab_flow=report["ab_flow"],
        a_limit=[user(float(v), -1) for v in solution.a],
        b_limit=[user(float(v), -1) for v in solution.b],
        kind=report["limit_kind"],
        regime=regime,
        certificate=report["certificate"],
        reason="beyond the paper's process: p* = beta / alpha is an exact finite sum over positions",
        report=report,
    )


def _regime_in_setting(given, exact, model, a_start, b_start, mask) -> tuple[str, bool]:
    """Whether the full model keeps the diagonal, from the exact emergence condition of the
    setting over the whole diagonal manifold (every coefficient of the off-manifold gradient, a
    polynomial in a, b, must vanish; not a test at the start), as the regime's text; where it
    fails, the driven blocks and the gradient off the diagonal at the start."""
    import dataclasses

    from mesacheck.numeric.diagonal_flow import off_diagonal_gradient
    from mesacheck.symbolic.conditions import BLOCKS, block_of, masking_keeps_diagonal

    from .conditions import setting_emergence

    d = exact.d
    offending = setting_emergence(dataclasses.replace(exact, law=given.sampling_law), given.T)
    keeps = not offending or (mask and masking_keeps_diagonal(offending, d))
    if not offending:
        return (
            "the full model keeps the diagonal: the emergence condition holds in this setting (proven over "
            "the whole diagonal manifold); the diagonal model is exact"
        ), True
    if keeps:
        return (
            "masked: the off-diagonal entries of the prediction blocks are held at 0; the diagonal model "
            "is exact"
        ), True
    driven = sorted({BLOCKS[block_of(k.split(" ")[1], d)][0] for k in offending})
    off, _ = off_diagonal_gradient(model, a_start, b_start, mask=mask)
    return (
        f"the full model LEAVES the diagonal: the emergence condition fails ({len(offending)} non-zero "
        f"coefficients; driven: {', '.join(driven)}; off-diagonal gradient {off:.2e} at the start): "
        "these are the diagonal model's numbers; `mesacheck flow --full` follows every entry"
    ), False


def _diagonal_certificate(solution, user) -> dict:
    """The diagonal flow's certificate (mesacheck.numeric.diagonal_flow), in the user's units."""
    return {
        "gradient_norm": user(solution.gradient_norm, 3),
        "conserved_drift": user(solution.conserved_drift, -2),
        "tau_end": user(solution.tau, -4),
        "method": "LSODA",
        "rtol": 1e-12,
    }


def _per_coordinate_limit(given, exact, a_start, b_start, a0, b0, mask, start) -> Limit:
    """A law that is not exchangeable: the flow leaves the symmetric line, so there is no single
    p*; the diagonal model's flow on the exact loss, one (a_j, b_j) per coordinate, gives the limit
    (the same keys as the paper's process: ``a_limit``, ``b_limit``, ``limit_kind``)."""
    import numpy as np

    from mesacheck.numeric.diagonal_flow import integrate_diagonal_flow
    from mesacheck.numeric.full_flow import full_model

    model = full_model(exact, given.T)
    regime, keeps = _regime_in_setting(given, exact, model, a_start, b_start, mask)
    # from a0 = -b0 the flow may run into the saddle at the origin (stop 1e6-fold closer to it
    # than the start, before rounding sends it away), or leave: without exchangeability the line
    # a_j = -b_j need not be invariant, so where it ends says which
    stop = 1e-6 * max(abs(a_start), abs(b_start)) if a_start == -b_start else 0.0
    solution = integrate_diagonal_flow(model, a_start, b_start, stop_below=stop)
    saddle = max(np.max(np.abs(solution.a)), np.max(np.abs(solution.b))) <= stop
    user = given.in_user_units
    reason = (
        f"the moments of {exact.law.name} change when coordinates are permuted: the flow leaves the "
        "symmetric line, so there is no single p*; the limit is the per-coordinate diagonal flow's on "
        "the exact loss"
    )
    report = {
        "x1": given.description,
        "setting": exact.describe(),
        "d": given.law.d,
        "T": given.T,
        "a0": a0,
        "b0": b0,
        "regime": regime,
        "diagonal_invariant": keeps,
        "limit_kind": "saddle" if saddle else "stationary point of the diagonal flow",
        "ab_exact": None,
        "closed_form_reason": reason,
        "ab_flow": user(float(np.mean(solution.ab)), -2),
        "ab_flow_per_coordinate": [user(float(v), -2) for v in solution.ab],
        "a_limit": [user(float(v), -1) for v in solution.a],
        "b_limit": [user(float(v), -1) for v in solution.b],
        "certificate": _diagonal_certificate(solution, user) | {"state": "(a_1..a_d, b_1..b_d)"},
    }
    if saddle:
        report["note"] = "a0 = -b0: the flow runs into the saddle at the origin"
    report["seconds"] = time.perf_counter() - start
    return Limit(
        ab_exact=None,
        ab_flow=report["ab_flow"],
        a_limit=report["a_limit"],
        b_limit=report["b_limit"],
        kind=report["limit_kind"],
        regime=regime,
        certificate=report["certificate"],
        reason=reason,
        report=report,
    )


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
    why = setting.phases.no_closed_form()  # the law of W says why, if it is the reason
    if why:
        pass  # the law of W's reason comes first
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
