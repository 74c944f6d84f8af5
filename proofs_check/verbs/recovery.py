"""Capability: whether the trained mesa-optimizer recovers the sequence (the recovery
condition), with the limit of its error, its expected ratio and its exact test loss."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..costs import announce, guard, recovery_cost
from ._base import InvalidRequest, diagonal_regime, require_paper_process, scaled

__all__ = ["Recovery", "recovery"]


@dataclass(frozen=True)
class Recovery:
    """The trained step p(T) = a b and what it predicts, in the user's units: whether recovery
    holds at T and as T grows, the limit of the error as t grows, the expected ratio at the
    last test position and the exact expected test loss. ``p_T_form`` and ``residual_forms``
    are the closed forms (SymPy, in T); ``report`` is ``mesacheck recovery --json``."""

    p_T: float | str
    holds_at_T: bool
    holds_as_T_grows: bool
    error_limit: float | str
    expected_ratio: float
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
    (default ``T``). ``setting``: a law of x_1 or a :class:`mesacheck.Setting` of the paper's
    process; ``law``: the same law as a :class:`ScaledLaw` (the command line's, with its
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
    require_paper_process(exact, "recovery")
    T_test = T if T_test is None else T_test
    if T_test < 3:
        raise InvalidRequest(f"the test length must be >= 3, got {T_test}")
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
