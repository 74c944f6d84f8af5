"""``mesacheck recovery``: whether the trained mesa-optimizer recovers the sequence."""

from __future__ import annotations

import click

from ._common import emit, number_text, progress_wanted, setting_options
from ._model import model_options
from ._process import process_options


@click.command()
@setting_options()
@process_options()
@model_options(supported=False)
@click.option("--T-test", "T_test", type=int, help="Test sequence length (default: T).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recovery(setting, process, a0, b0, mask, force, T_test, as_json):
    """Whether the trained mesa-optimizer recovers the sequence (the recovery condition), with
    the limit of its error, its expected ratio and its exact test loss."""
    from ..verbs.recovery import recovery as recovery_analysis

    del a0, b0
    T = setting.T
    T_test = T if T_test is None else T_test
    if T_test < 3:
        raise click.BadParameter(f"the test length must be >= 3, got {T_test}", param_hint="--T-test")
    result = recovery_analysis(
        process(setting.sampling_law),
        T,
        T_test=T_test,
        mask=mask,
        law=setting,
        force=force,
        show_cost=progress_wanted(as_json),
    )
    payload = result.report
    if "setting" in payload:
        emit(payload, as_json, _lines_in_setting(setting, payload))
        return
    p_T, error, loss, ratio = result.p_T, result.error_limit, result.test_loss, result.expected_ratio
    per_position = payload["test_loss_per_position"]
    holds_T, holds_inf = result.holds_at_T, result.holds_as_T_grows
    residual_T, residual_inf = result.residual_forms
    verdict = {True: "holds", False: "FAILS"}
    lines = [
        f"{setting.description}, d = {setting.law.d}, trained at T = {T}, tested at T_test = {T_test}",
        f"trained step a b = p(T) = {number_text(p_T, 12)}   "
        f"[{result.p_T_form}; T -> oo: {result.p_T_to_infinity}]",
        f"recovery condition at T = {T}: {verdict[holds_T]}; as T grows: {verdict[holds_inf]}",
        f"  residual E[|x_j|^2 (p |x_j|^2 - 1)^2] at p(T): {residual_T}",
        f"  as T grows: {residual_inf}",
        f"lim_t E||y_t - x_(t+1)||^2 = {number_text(error, 6)}",
        f"expected ratio Re(y_(T_test-1) / x_(T_test)) = {ratio:.6g}"
        f"   [{payload['expected_ratio_closed_form']}]",
        f"exact expected test loss = {number_text(loss, 6)} ({number_text(per_position, 4)} per position)",
    ]
    lines += [payload["units"]] if setting.digits else []
    emit(payload, as_json, lines)


def _lines_in_setting(setting, payload: dict) -> list[str]:
    """The recovery analysis beyond the paper's process, as lines."""
    verdict = {True: "holds", False: "FAILS", None: "not derived"}

    def text(value, digits=6):
        if value is None:
            return "unbounded" if payload["error_unbounded"] else "not derived"
        return number_text(value, digits)

    lines = [
        f"{setting.description}, d = {payload['d']}, trained at T = {payload['T']}, tested at T_test = "
        f"{payload['T_test']}",
        f"setting: {payload['setting']}",
        f"trained step a b = p(T) = {number_text(payload['p_T'], 12)}   [exact: {payload['p_T_exact']}; "
        f"T -> oo: {'not derived' if payload['p_T_to_infinity'] is None else payload['p_T_to_infinity']}]",
        f"recovery at T = {payload['T']}: {verdict[payload['recovery_holds_at_T']]}; as T grows: "
        f"{verdict[payload['recovery_holds_as_T_grows']]}",
        f"  {payload['limit_regime']}: {payload['limit_statement']}",
        "  lim_t E|y_t[j] - x_(t+1)[j]|^2 = "
        + (
            "unbounded for p != 0"
            if payload["error_unbounded"]
            else f"{payload['error_limit_per_coordinate_closed_form']} at p"
        ),
        f"  at p(T): {text(payload['error_limit_per_coordinate'])} per coordinate, relative "
        f"{text(payload['relative_error_limit'])} (noise floor "
        f"{number_text(payload['noise_floor_per_coordinate'], 6)}"
        f", relative {text(payload['relative_noise_floor'])}); as T grows: relative "
        f"{text(payload['relative_error_limit_T_to_infinity'])}",
        f"error per trained position at T = {number_text(payload['error_per_trained_position'], 6)}; exact "
        f"test loss at T_test = {number_text(payload['test_loss'], 6)}",
    ]
    return lines + ([payload["units"]] if "units" in payload else [])
