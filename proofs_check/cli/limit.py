"""``mesacheck limit``: the limit of a b, closed form against the integrated exact flow."""

from __future__ import annotations

import time

import click
import numpy as np

from ._common import POSITIVE, emit, require_diagonal_reduction, setting_options


@click.command()
@setting_options()
@click.option("--tau-max", type=POSITIVE, default=1e6, show_default=True, help="Time budget of the flow.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def limit(setting, a0, b0, mask, tau_max, as_json):
    """The limit of a b: closed form against the integrated exact flow."""
    import sympy as sp

    from numeric.bridge import evaluate
    from numeric.flow import integrate_flow
    from symbolic.population_loss import T as T_symbol
    from symbolic.stationary import NotExchangeableError, emergence_limit

    start = time.perf_counter()
    T = setting.T
    if a0 == 0 and b0 == 0:
        raise click.UsageError(
            "(a0, b0) = (0, 0) is a stationary point: with both prediction blocks zero the prediction is "
            "identically 0, every gradient vanishes, and the flow never moves. Start elsewhere."
        )
    regime = require_diagonal_reduction(setting, mask)
    values = setting.values
    try:
        closed = emergence_limit(setting.law, a0, b0)
    except NotExchangeableError as error:
        closed, reason = None, str(error)
    solution = integrate_flow(setting.law, a0, b0, values=values, tau_max=tau_max)
    d_ = setting.law.d
    a_flow, b_flow = solution.limit[:d_], solution.limit[d_:]
    payload = {
        "x1": setting.description,
        "d": d_,
        "T": T,
        "a0": a0,
        "b0": b0,
        "regime": regime,
        "ab_flow": float(solution.ab[-1]),
        "certificate": {
            "gradient_norm": solution.gradient_norm,
            "relative_newton_step": solution.newton_step,
            "conserved_drift": solution.conserved_drift,
            "tau_end": float(solution.tau[-1]),
            "method": solution.method,
            "rtol": solution.rtol,
        },
    }
    if closed is not None:
        ab_exact = evaluate(closed.ab, values)
        general = closed.ab
        asymptote = sp.limit(general, T_symbol, sp.oo)
        payload.update(
            {
                "ab_closed_form": ab_exact,
                "relative_error": abs(payload["ab_flow"] - ab_exact) / abs(ab_exact) if ab_exact else None,
                "a_limit": evaluate(closed.a, values),
                "b_limit": evaluate(closed.b, values),
                "limit_kind": closed.kind,
                "closed_form": str(general),
                "closed_form_latex": sp.latex(general),
                "ab_T_to_infinity": evaluate(asymptote, values) if asymptote.is_finite is not False else None,
                "ab_T_to_infinity_latex": sp.latex(asymptote),
                "local_rate": evaluate(closed.rate, values),
                "conserved_a2_minus_b2": float(closed.conserved),
            }
        )
    else:
        payload.update(
            {
                "ab_closed_form": None,
                "closed_form_reason": reason,
                "a_limit": a_flow.tolist(),
                "b_limit": b_flow.tolist(),
                "limit_kind": "stationary point of the diagonal flow",
            }
        )
    if closed is not None and closed.kind == "saddle":
        payload["note"] = "a0 = -b0: the flow runs into the strict saddle at the origin (a b -> 0)"
    payload["seconds"] = time.perf_counter() - start
    lines = [f"x_1: {payload['x1']};  d = {d_}, T = {T}, (a0, b0) = ({a0}, {b0});  {regime}"]
    if closed is not None:
        lines += [
            f"closed form     lim ab = {payload['closed_form']}",
            f"                       = {payload['ab_closed_form']:.15g}   ({closed.kind})",
            f"integrated flow lim ab = {payload['ab_flow']:.15g}   "
            f"relative error {payload['relative_error']:.1e}",
            f"a_limit = {payload['a_limit']:.12g}, b_limit = {payload['b_limit']:.12g}",
            f"as T -> infinity: {sp.sstr(asymptote)} = {payload['ab_T_to_infinity']}",
        ]
    else:
        lines += [
            f"no closed form: {reason}",
            f"integrated flow lim ab = {payload['ab_flow']:.15g}",
            f"a_limit = {np.array2string(a_flow, precision=10)}",
            f"b_limit = {np.array2string(b_flow, precision=10)}",
        ]
    lines.append(
        f"certificate: |grad L| = {solution.gradient_norm:.1e}, Newton step {solution.newton_step:.1e}, "
        f"conserved drift {solution.conserved_drift:.1e}  ({payload['seconds']:.2f} s)"
    )
    emit(payload, as_json, lines)
