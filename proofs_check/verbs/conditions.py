"""The moment conditions of a law of x_1: emergence (the full flow keeps the diagonal
prediction blocks) and equal diagonal (the learned step is vanilla GD)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..costs import announce, conditions_cost, guard
from ._base import InvalidRequest, scaled

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

    ``setting``: a law of x_1 or a :class:`mesacheck.Setting` (any law of W, noise, rho_t and
    trained positions: the conditions are derived from the setting's exact K and J, with the
    blocks that stay zero in ``report["blocks"]``); ``law``: the same law as a
    :class:`ScaledLaw` (as the command line
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
    if not exact.is_paper_process:
        return _conditions_in_setting(exact, given, T, force, show_cost)
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


def _conditions_in_setting(exact, given, T: int, force: bool, show_cost: bool) -> Conditions:
    """The conditions beyond the paper's process: the same exact derivation (the gradient on the
    whole diagonal manifold as a polynomial in a, b; every coefficient must vanish) from the
    setting's K and J, and which blocks it drives (thm-block-invariance)."""
    import dataclasses

    from mesacheck.symbolic.conditions import block_invariance, equal_diagonal_condition

    from ..costs import exact_averages_cost, exact_size_guard

    setting = dataclasses.replace(exact, law=given.sampling_law)
    guard(exact_averages_cost(T), force)
    exact_size_guard(setting.phases, T, force)
    cost = conditions_cost(setting.d, T, exchangeable=setting.law.exchangeable)
    guard(cost, force)
    announce(cost, show_cost)
    emergence = setting_emergence(setting, T)
    try:
        equal = equal_diagonal_condition(setting, T) if not emergence else None
    except (ValueError, NotImplementedError) as error:
        raise InvalidRequest(str(error).splitlines()[0]) from None
    blocks = block_invariance(setting, emergence)
    drivers = _driving_moments(setting, T)
    for block in blocks:
        block["driving_moments"] = drivers.get(block["block"]) if block["driven_entries"] else []
    report = {
        "law": given.description,
        "setting": setting.describe(),
        "d": setting.d,
        "T": T,
        "emergence_condition": {
            "holds": not emergence,
            "general_form": "every coefficient of the gradient off the diagonal manifold (a polynomial in "
            "the "
            "diagonal a, b, derived exactly from this setting's K and J) must vanish",
            "offending": {k: str(v) for k, v in emergence.items()},
        },
        "blocks": blocks,
        "block_rule": "a block shifts the phase degree of its terms by its phase_offset; uniform phases "
        "average it against the target to 0 unless the offset is 0, the N-th roots of unity unless it is "
        "0 mod N, real noise also lets an even offset through (E xi^2 need not be conjugated); the exact "
        "coefficients decide",
        "equal_diagonal_condition": None
        if equal is None
        else {"holds": not equal, "offending": {k: str(v) for k, v in equal.items()}},
    }
    if given.digits:
        report["units"] = f"the coefficients are those of x_1 / 10^{given.digits}"
    return Conditions(
        emergence=not emergence,
        emergence_offending=dict(emergence),
        equal_diagonal=None if equal is None else not equal,
        equal_diagonal_offending=None if equal is None else dict(equal),
        patterns=None,
        report=report,
    )


def setting_emergence(setting, T: int) -> dict:
    """The emergence condition of a setting, or :class:`InvalidRequest` where it is not derived."""
    from mesacheck.symbolic.conditions import emergence_condition

    try:
        return emergence_condition(setting, T)
    except (ValueError, NotImplementedError) as error:
        raise InvalidRequest(str(error).splitlines()[0]) from None


def _driving_moments(setting, T: int) -> dict:
    """For each block the general form drives: the moments of x_1 in its coefficients that are
    not 0 for this law, named for a real token by their pattern (E[x_j^3 x_k] -> "E[x_j^3 x_k]"),
    and "the noise alone" where a coefficient has a term free of x_1's moments. Derived on the law of symbols
    (:func:`mesacheck.symbolic.moments.SymbolicMoments`) on min(d, 3) coordinates."""
    import dataclasses

    import sympy as sp

    from mesacheck.symbolic.conditions import BLOCKS, block_of, moment_exponents, pattern_of
    from mesacheck.symbolic.moments import SymbolicMoments

    d = min(setting.d, 3)
    general = dataclasses.replace(setting, law=SymbolicMoments(d, real=setting.law.real))
    out: dict = {}
    for key, value in setting_emergence(general, T).items():
        name = BLOCKS[block_of(key.split(" ")[1], d)][0]
        names = out.setdefault(name, set())
        value = sp.expand(value)
        moments = value.free_symbols
        if value.subs({m: 0 for m in moments}) != 0:
            names.add("the noise alone")
        for m in moments:
            if not setting.law.real:
                names.add(str(m))
                continue
            exponents = moment_exponents(m)
            alpha = (*exponents, *(0,) * (setting.d - len(exponents)))
            if setting.law.moment(alpha, (0,) * setting.d) != 0:  # the law's own moment drives it
                names.add(_pattern_name(pattern_of(exponents)))
    return {k: sorted(v) for k, v in out.items()}


def _pattern_name(pattern) -> str:
    letters = "jkl"
    return (
        "E[" + " ".join(f"x_{letters[i]}" + (f"^{e}" if e > 1 else "") for i, e in enumerate(pattern)) + "]"
    )
