"""``mesacheck limit``: the limit of a b, closed form against the integrated exact flow (the
mathematics is :func:`mesacheck.proofs_check.verbs.limit.limit`; this reads options and prints)."""

from __future__ import annotations

import functools

import click

from ._common import POSITIVE, emit, number_text, progress_wanted, setting_options
from ._limit_warm import warm_path
from ._model import model_options
from ._process import process_options


def _show(result, as_json: bool) -> None:
    """Print a :class:`mesacheck.proofs_check.verbs.limit.Limit` as lines or JSON."""
    payload = result.report
    if "setting" in payload:  # beyond the paper's process
        emit(payload, as_json, _lines_in_setting(payload))
        return
    lines = [
        f"x_1: {payload['x1']};  d = {payload['d']}, T = {payload['T']}, "
        f"(a0, b0) = ({payload['a0']}, {payload['b0']});  {result.regime}"
    ]
    if result.ab_exact is not None:
        error = (
            f"relative error {payload['relative_error']:.1e}"
            if payload["relative_error"] is not None
            else f"absolute error {number_text(payload['absolute_error'], 2)}"
        )
        lines += [
            f"closed form     lim ab = {payload['closed_form']}",
            f"                       = {number_text(payload['ab_closed_form'], 15)}   ({result.kind})",
            f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}   {error}",
            f"a_limit = {number_text(payload['a_limit'], 12)}, "
            f"b_limit = {number_text(payload['b_limit'], 12)}",
            f"as T -> infinity: {result.ab_T_to_infinity_form} = "
            f"{number_text(payload['ab_T_to_infinity'], 15)}",
        ]
    else:
        lines += [
            f"no closed form: {result.reason}",
            f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}",
            f"a_limit = {', '.join(number_text(v, 10) for v in payload['a_limit'])}",
            f"b_limit = {', '.join(number_text(v, 10) for v in payload['b_limit'])}",
        ]
    lines += [payload[key] for key in ("note", "units") if key in payload]
    certificate = payload["certificate"]
    lines.append(
        f"certificate: |grad L| = {number_text(certificate['gradient_norm'], 2)}, Newton step "
        f"{certificate['relative_newton_step']:.1e}, conserved drift "
        f"{number_text(certificate['conserved_drift'], 2)}  ({payload['seconds']:.2f} s)"
    )
    emit(payload, as_json, lines)


@click.command()
@functools.partial(warm_path, show=_show)
@setting_options()
@process_options()
@model_options(supported=False)
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
    from ..verbs.limit import limit as ab_limit_of_flow

    return ab_limit_of_flow(
        process(setting.sampling_law),
        setting.T,
        a0,
        b0,
        mask=mask,
        tau_max=tau_max,
        closed_form=closed_form,
        law=setting,
        force=force,
        show_cost=progress_wanted(as_json),
    )


def _lines_in_setting(payload: dict) -> list[str]:
    """The text of an answer beyond the paper's process (p* on the symmetric line, or the
    per-coordinate flow of a law that is not exchangeable)."""
    head = [
        f"x_1: {payload['x1']};  d = {payload['d']}, T = {payload['T']}, "
        f"(a0, b0) = ({payload['a0']}, {payload['b0']})",
        f"setting: {payload['setting']}",
        payload["regime"],
    ]
    certificate = (
        f"certificate: |grad L| = {number_text(payload['certificate']['gradient_norm'], 2)}, conserved drift "
        f"{number_text(payload['certificate']['conserved_drift'], 2)}  ({payload['seconds']:.2f} s)"
    )
    if payload["ab_exact"] is None:
        return [
            *head,
            f"no p*: {payload['closed_form_reason']}",
            f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)} (mean over coordinates)",
            f"a_limit = {', '.join(number_text(v, 10) for v in payload['a_limit'])}",
            f"b_limit = {', '.join(number_text(v, 10) for v in payload['b_limit'])}",
            *([payload["note"]] if "note" in payload else []),
            certificate,
        ]
    error = (
        f"relative error {payload['relative_error']:.1e}"
        if payload["relative_error"] is not None
        else f"absolute error {number_text(payload['absolute_error'], 2)}"
    )
    lines = [
        *head,
        f"exact           lim ab = {number_text(payload['ab_exact'], 15)}   ({payload['limit_kind']}; "
        "beta/alpha on the symmetric line, an exact finite sum over positions)",
        f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}   {error}",
    ]
    if "note" in payload:
        lines.append(payload["note"])
    lines.append(certificate)
    return lines
