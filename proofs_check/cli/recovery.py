"""``mesacheck recovery``: whether the trained mesa-optimizer recovers the sequence."""

from __future__ import annotations

import click

from ..costs import announce, guard, recovery_cost
from ._common import emit, number_text, progress_wanted, require_diagonal_reduction, setting_options
from ._process import process_options, require_paper_process


@click.command()
@setting_options()
@process_options()
@click.option("--T-test", "T_test", type=int, help="Test sequence length (default: T).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def recovery(setting, process, a0, b0, mask, force, T_test, as_json):
    """Whether the trained mesa-optimizer recovers the sequence (the recovery condition), with
    the limit of its error, its expected ratio and its exact test loss."""
    import sympy as sp

    require_paper_process(process(setting.sampling_law), "recovery")

    from mesacheck.numeric.bridge import evaluate
    from mesacheck.symbolic.capability import error_limit, expected_ratio, p, recovery_condition, test_loss
    from mesacheck.symbolic.conditions import equal_diagonal_condition
    from mesacheck.symbolic.population_loss import T as T_symbol

    del a0, b0
    T = setting.T
    T_test = T if T_test is None else T_test
    if T_test < 3:
        raise click.BadParameter(f"the test length must be >= 3, got {T_test}", param_hint="--T-test")
    cost = recovery_cost(setting.law.d, T, masked=mask)
    guard(cost, force)
    announce(cost, progress_wanted(as_json))
    why = require_diagonal_reduction(setting, mask)
    law = setting.law
    if equal_diagonal_condition(setting.sampling_law, T):
        raise click.UsageError(
            "the equal-diagonal condition fails for this law: the trained step is preconditioned and "
            "the recovery analysis here assumes one step size (see `mesacheck conditions`)"
        )
    condition = recovery_condition(law)
    values = {k: v for k, v in setting.values.items() if k != "T"}
    p_T = evaluate(condition.p_T, setting.values)
    p_inf = sp.limit(condition.p_T, T_symbol, sp.oo)
    error = evaluate(error_limit(law).subs(p, p_T), values)
    ratio = evaluate(expected_ratio(law).subs(p, p_T), {**values, "t": T_test - 1})
    loss = evaluate(test_loss(law).subs(p, p_T), {**values, "T_test": T_test})
    holds_T, holds_inf = condition.holds_at(T), condition.holds_as_T_grows
    user = setting.in_user_units  # p goes like 1/scale^2, errors and losses like scale^2
    per_position = user(loss / (T_test - 2), 2)
    p_T, error, loss = user(p_T, -2), user(error, 2), user(loss, 2)
    payload = {
        "law": setting.description,
        "d": law.d,
        "T": T,
        "T_test": T_test,
        "emergence": why,
        "p_T": p_T,
        "p_T_closed_form": str(condition.p_T),
        "p_T_to_infinity": str(p_inf),
        "recovery_holds_at_T": holds_T,
        "recovery_holds_as_T_grows": holds_inf,
        "residual_at_T": str(condition.residual_T),
        "residual_T_to_infinity": str(condition.residual_infinity),
        "residual_T_to_infinity_value": user(evaluate(condition.residual_infinity, values), 2),
        "error_limit_t_to_infinity": error,
        "error_limit_closed_form": str(sp.factor(error_limit(law).subs(p, condition.p_T))),
        "expected_ratio_closed_form": str(sp.factor(expected_ratio(law).subs(p, condition.p_T))),
        "expected_ratio_T_to_infinity": str(sp.limit(expected_ratio(law).subs(p, p_inf), T_symbol, sp.oo)),
        "test_loss_closed_form": str(test_loss(law).subs(p, sp.Symbol("p_T"))),
        "expected_ratio_last_position": ratio,
        "test_loss": loss,
        "test_loss_per_position": per_position,
    }
    if setting.digits:
        k = setting.digits
        payload["units"] = (
            f"computed with x_1 / 10^{k} and rescaled (p by 10^{-2 * k}, errors and losses by 10^{2 * k}); "
            f"closed forms whose moments are numbers are those of x_1 / 10^{k}"
        )
    verdict = {True: "holds", False: "FAILS"}
    lines = [
        f"{setting.description}, d = {law.d}, trained at T = {T}, tested at T_test = {T_test}",
        f"trained step a b = p(T) = {number_text(p_T, 12)}   [{condition.p_T}; T -> oo: {p_inf}]",
        f"recovery condition at T = {T}: {verdict[holds_T]}; as T grows: {verdict[holds_inf]}",
        f"  residual E[|x_j|^2 (p |x_j|^2 - 1)^2] at p(T): {condition.residual_T}",
        f"  as T grows: {condition.residual_infinity}",
        f"lim_t E||y_t - x_(t+1)||^2 = {number_text(error, 6)}",
        f"expected ratio Re(y_(T_test-1) / x_(T_test)) = {ratio:.6g}"
        f"   [{sp.factor(expected_ratio(law).subs(p, condition.p_T))}]",
        f"exact expected test loss = {number_text(loss, 6)} ({number_text(per_position, 4)} per position)",
    ]
    lines += [payload["units"]] if setting.digits else []
    emit(payload, as_json, lines)
