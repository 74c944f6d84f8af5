"""Capability: whether the trained mesa-optimizer recovers the sequence (the recovery
condition), with the limit of its error, its expected ratio and its exact test loss."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..costs import announce, guard, recovery_cost
from ._base import InvalidRequest, diagonal_regime, scaled

__all__ = ["Recovery", "recovery"]


@dataclass(frozen=True)
class Recovery:
    """The trained step p(T) = a b and what it predicts, in the user's units: whether recovery
    holds at T and as T grows, the limit of the error as t grows, the expected ratio at the
    last test position and the exact expected test loss. ``p_T_form`` and ``residual_forms``
    are the closed forms (SymPy, in T); ``report`` is ``mesacheck recovery --json``. Beyond the
    paper's process ``p_T_form`` is the exact p*, ``residual_forms`` the limiting error per
    coordinate and its relative form (functions of p; None where unbounded or not derived),
    ``expected_ratio`` is None, and a verdict is None where the limit is not derived (a random
    modulus with no atom at 1, given by its moments)."""

    p_T: float | str
    holds_at_T: bool | None
    holds_as_T_grows: bool | None
    error_limit: float | str | None
    expected_ratio: float | None
    test_loss: float | str
    p_T_form: object = None
    p_T_to_infinity: object = None
    residual_forms: tuple = ()
    report: dict = field(default_factory=dict, repr=False, compare=False)


def recovery(
    setting,
    T: int,
    *,
    T_test: int | None = None,
    mask: bool = False,
    law=None,
    force: bool = False,
    show_cost: bool = False,
) -> Recovery:
    """The recovery analysis of the model trained at length ``T``, tested at ``T_test``
    (default ``T``). ``setting``: a law of x_1 or a :class:`mesacheck.Setting` (beyond the
    paper's process: the exact p* of the symmetric line, and the limit of the test error as the
    test position grows from :func:`mesacheck.symbolic.setting_recovery.limiting_error`, against
    the noise floor; an exchangeable law); ``law``: the same law as a :class:`ScaledLaw` (the
    command line's, with its
    parameters as symbols). A law whose equal-diagonal or (unmasked) emergence condition fails
    raises :class:`InvalidRequest`.

    >>> import mesacheck
    >>> result = mesacheck.recovery(mesacheck.sparse(3, 1), 10)
    >>> result.p_T, result.holds_at_T, result.error_limit
    (1.0, True, 0.0)
    """
    import sympy as sp

    from mesacheck.numeric.bridge import evaluate
    from mesacheck.symbolic.capability import error_limit, expected_ratio, p, recovery_condition, test_loss
    from mesacheck.symbolic.conditions import equal_diagonal_condition
    from mesacheck.symbolic.population_loss import T as T_symbol
    from mesacheck.symbolic.setting import as_setting

    exact = as_setting(setting)
    given = scaled(exact.law if law is None else law, T)
    T_test = T if T_test is None else T_test
    if T_test < 3:
        raise InvalidRequest(f"the test length must be >= 3, got {T_test}")
    if not exact.is_paper_process:
        return _recovery_in_setting(exact, given, T, T_test, mask, force, show_cost)
    cost = recovery_cost(given.law.d, T, masked=mask)
    guard(cost, force)
    announce(cost, show_cost)
    why = diagonal_regime(given, mask)
    law = given.law
    if equal_diagonal_condition(given.sampling_law, T):
        raise InvalidRequest(
            "the equal-diagonal condition fails for this law: the trained step is preconditioned and "
            "the recovery analysis here assumes one step size (see `mesacheck conditions`)"
        )
    condition = recovery_condition(law)
    values = {k: v for k, v in given.values.items() if k != "T"}
    p_T = evaluate(condition.p_T, given.values)
    p_inf = sp.limit(condition.p_T, T_symbol, sp.oo)
    error = evaluate(error_limit(law).subs(p, p_T), values)
    ratio = evaluate(expected_ratio(law).subs(p, p_T), {**values, "t": T_test - 1})
    loss = evaluate(test_loss(law).subs(p, p_T), {**values, "T_test": T_test})
    holds_T, holds_inf = condition.holds_at(T), condition.holds_as_T_grows
    user = given.in_user_units  # p goes like 1/scale^2, errors and losses like scale^2
    per_position = user(loss / (T_test - 2), 2)
    p_T, error, loss = user(p_T, -2), user(error, 2), user(loss, 2)
    report = {
        "law": given.description,
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
    if given.digits:
        k = given.digits
        report["units"] = (
            f"computed with x_1 / 10^{k} and rescaled (p by 10^{-2 * k}, errors and losses by 10^{2 * k}); "
            f"closed forms whose moments are numbers are those of x_1 / 10^{k}"
        )
    return Recovery(
        p_T=p_T,
        holds_at_T=holds_T,
        holds_as_T_grows=holds_inf,
        error_limit=error,
        expected_ratio=ratio,
        test_loss=loss,
        p_T_form=condition.p_T,
        p_T_to_infinity=p_inf,
        residual_forms=(condition.residual_T, condition.residual_infinity),
        report=report,
    )


def _recovery_in_setting(
    exact, given, T: int, T_test: int, mask: bool, force: bool, show_cost: bool
) -> Recovery:
    """Recovery beyond the paper's process: p(T) = p* exactly (the symmetric line), the limit of
    the test error per coordinate as the test position grows at that p, and at p_oo = lim p(T);
    recovery iff the limiting relative error is the noise floor's (0 without noise)."""
    import dataclasses

    import sympy as sp

    from mesacheck.symbolic.conditions import equal_diagonal_condition, masking_keeps_diagonal
    from mesacheck.symbolic.setting_recovery import limiting_error, p
    from mesacheck.symbolic.symmetric_line import symmetric_line

    from ..costs import exact_averages_cost, exact_size_guard
    from .conditions import setting_emergence

    setting = dataclasses.replace(exact, law=given.sampling_law)
    guard(exact_averages_cost(max(T, T_test)), force)
    exact_size_guard(setting.phases, max(T, T_test), force)
    cost = recovery_cost(setting.d, T, masked=mask)
    guard(cost, force)
    announce(cost, show_cost)
    offending = setting_emergence(setting, T)
    prediction_only = masking_keeps_diagonal(offending, setting.d)
    if offending and not (mask and prediction_only):
        raise InvalidRequest(
            f"the emergence condition fails in this setting ({len(offending)} non-zero coefficients, e.g. "
            f"{next(iter(offending))}; see `mesacheck conditions`)"
            + (
                ""
                if prediction_only
                else ": entries beyond the prediction blocks' off-diagonal ones are driven, which --mask "
                "does not hold"
            )
            + "; the diagonal model does not describe training here, use `mesacheck flow --full`"
        )
    why = (
        "masked: the off-diagonal entries of the prediction blocks are held at 0"
        if offending
        else "the emergence condition holds in this setting, so the full flow keeps the diagonal prediction "
        "blocks"
    )
    if not offending and equal_diagonal_condition(setting, T):
        raise InvalidRequest(
            "the equal-diagonal condition fails in this setting: the trained step is preconditioned and "
            "the recovery analysis here assumes one step size (see `mesacheck conditions`)"
        )
    try:
        line = symmetric_line(setting, T)
        test_line = line if T_test == T else symmetric_line(setting, T_test)
        limit = limiting_error(setting)
        p_T = line.ab_star
    except (ValueError, NotImplementedError, ZeroDivisionError) as error:
        raise InvalidRequest(str(error).splitlines()[0]) from None
    holds_T = limit.recovers_at(p_T)
    if limit.unbounded:  # for every p(T) != 0, so in the limit of T too
        holds_inf, relative_inf = False, None
    elif limit.p_infinity is not None:
        holds_inf = limit.recovers_at(limit.p_infinity)
        relative_inf = limit.relative_at(limit.p_infinity)
    elif limit.relative is not None and not limit.relative.has(p):  # the same for every p
        holds_inf, relative_inf = limit.recovers_at(p_T), limit.relative
    else:
        holds_inf, relative_inf = None, None
    relative_T = limit.relative_at(p_T)
    error_T = None if limit.error is None or limit.unbounded else sp.factor(limit.error.subs(p, p_T))
    user = given.in_user_units
    d = setting.d
    loss = (test_line.alpha * p_T**2 - 2 * test_line.beta * p_T + test_line.gamma) * d / 2

    def number(value, power):
        return None if value is None else user(float(value), power)

    report = {
        "law": given.description,
        "setting": setting.describe(),
        "d": d,
        "T": T,
        "T_test": T_test,
        "emergence": why,
        "p_T": number(p_T, -2),
        "p_T_exact": str(p_T) if not given.digits else None,
        "p_T_to_infinity": None if limit.p_infinity is None else str(limit.p_infinity),
        "recovery_holds_at_T": holds_T,
        "recovery_holds_as_T_grows": holds_inf,
        "limit_regime": limit.regime,
        "limit_statement": limit.statement,
        "error_unbounded": limit.unbounded,
        "error_limit_per_coordinate_closed_form": None if limit.error is None else str(limit.error),
        "relative_error_limit_closed_form": None if limit.relative is None else str(limit.relative),
        "error_limit_per_coordinate": number(error_T, 2),
        "relative_error_limit": number(relative_T, 0),
        "relative_error_limit_T_to_infinity": number(relative_inf, 0),
        "noise_floor_per_coordinate": number(limit.floor, 2),
        "relative_noise_floor": number(limit.relative_floor, 0),
        "error_per_trained_position": number(line.error_per_position, 2),
        "test_loss": number(loss, 2),
        "test_loss_positions": "as trained (the setting's positions and rho_t) at T_test",
    }
    if given.digits:
        report["units"] = f"computed with x_1 / 10^{given.digits} and rescaled"
    return Recovery(
        p_T=report["p_T"],
        holds_at_T=holds_T,
        holds_as_T_grows=holds_inf,
        error_limit=report["error_limit_per_coordinate"],
        expected_ratio=None,
        test_loss=report["test_loss"],
        p_T_form=p_T,
        p_T_to_infinity=limit.p_infinity,
        residual_forms=(limit.error, limit.relative),
        report=report,
    )
