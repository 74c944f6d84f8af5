"""The moment conditions of a law of x_1: emergence (the full flow keeps the diagonal
prediction blocks) and equal diagonal (the learned step is vanilla GD)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..costs import announce, conditions_cost, guard
from ._base import require_paper_process, scaled

__all__ = ["Conditions", "conditions"]


@dataclass(frozen=True)
class Conditions:
    """Whether each condition holds, with the offending coefficients where it fails (name ->
    exact value; each must be 0). ``equal_diagonal`` is None where the diagonal model is not
    invariant (the emergence condition fails); ``patterns`` are the general form's monomials
    (None for a complex token); ``report`` is ``mesacheck conditions --json``."""

    emergence: bool
    emergence_offending: dict
    equal_diagonal: bool | None
    equal_diagonal_offending: dict | None
    patterns: object = None
    report: dict = field(default_factory=dict, repr=False, compare=False)


def conditions(setting, T: int, *, law=None, force: bool = False, show_cost: bool = False) -> Conditions:
    """Which moment conditions hold for the law of x_1 at training length ``T``.

    ``setting``: a law of x_1 or a :class:`mesacheck.Setting` of the paper's process (else
    :class:`InvalidRequest`); ``law``: the same law as a :class:`ScaledLaw` (as the command line
    gives it, for its description and units).

    >>> import mesacheck
    >>> mesacheck.conditions(mesacheck.full_one(3), 10).emergence
    False
    >>> mesacheck.conditions(mesacheck.sparse(3, 1), 10).equal_diagonal
    True
    """
    from mesacheck.symbolic.conditions import (
        emergence_condition,
        emergence_patterns,
        equal_diagonal_condition,
    )
    from mesacheck.symbolic.setting import as_setting

    exact = as_setting(setting)
    given = scaled(exact.law if law is None else law, T)
    require_paper_process(exact, "conditions")
    cost = conditions_cost(given.law.d, T, exchangeable=given.law.exchangeable)
    guard(cost, force)
    announce(cost, show_cost)
    numeric_law = given.sampling_law
    emergence = emergence_condition(numeric_law, T)
    equal = equal_diagonal_condition(numeric_law, T) if not emergence else None
    patterns = emergence_patterns(min(numeric_law.d, 3), T) if numeric_law.real else None
    report = {
        "law": given.description,
        "d": numeric_law.d,
        "T": T,
        "emergence_condition": {
            "holds": not emergence,
            "general_form": "E[x_j^3 x_k] = E[x_j^5 x_k] = E[x_j^3 x_k^3] = E[x_j^3 x_k x_l^2] = 0, "
            "j, k, l distinct (real x_1)",
            "patterns": patterns,
            "offending": {k: str(v) for k, v in emergence.items()},
        },
        "equal_diagonal_condition": None
        if equal is None
        else {"holds": not equal, "offending": {k: str(v) for k, v in equal.items()}},
    }
    if given.digits:  # the verdicts do not change with the scale; the coefficients do
        report["units"] = f"the coefficients are those of x_1 / 10^{given.digits}"
    return Conditions(
        emergence=not emergence,
        emergence_offending=dict(emergence),
        equal_diagonal=None if equal is None else not equal,
        equal_diagonal_offending=None if equal is None else dict(equal),
        patterns=patterns,
        report=report,
    )
