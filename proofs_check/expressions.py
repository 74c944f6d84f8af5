"""Exact expressions from untrusted text (command-line options, sweep files), read without
evaluating them."""

from __future__ import annotations

import re
from tokenize import TokenError

__all__ = ["read_expression"]


def read_expression(text, names: dict, what: str, *, exponents_in: tuple = ()):
    """An exact expression from untrusted text, read without evaluating it: digits, the given
    names, + - * / ^ ( ) and decimal points (decimals kept exact), at most 200 characters;
    numbers of at most 30 digits; every power's exponent an integer or a*s + b for s in
    ``exponents_in``, with |a|, |b| <= 64, so nothing huge is computed (9^9^9^9 is refused, not
    evaluated). ``ValueError`` says what is wrong."""
    import sympy as sp
    from sympy.parsing.sympy_parser import auto_number, parse_expr, rationalize, standard_transformations

    allowed = ", ".join(sorted(names)) or "no names"
    if not isinstance(text, str) or len(text) > 200 or not re.fullmatch(r"[0-9A-Za-z_+\-*/^(). ]+", text):
        raise ValueError(
            f"{what}: a string of at most 200 characters: digits, {allowed}, + - * / ^ ( ) and ."
        )
    unknown = set(re.findall(r"[A-Za-z_]\w*", text)) - set(names)
    if unknown or re.search(r"\.\s*[A-Za-z_(]", text):
        raise ValueError(f"{what}: unknown names {sorted(unknown)}; use digits and {allowed}")
    try:
        expression = parse_expr(
            text.replace("^", "**"),
            local_dict=dict(names),  # the text's only identifiers, checked above
            transformations=(*standard_transformations, auto_number, rationalize),
            evaluate=False,
        )
    except (SyntaxError, TypeError, NameError, sp.SympifyError, TokenError) as error:
        raise ValueError(f"cannot read {what} {text!r}: {type(error).__name__}") from None
    for node in sp.preorder_traversal(expression):
        if node.is_Integer and abs(node) > 10**30:
            raise ValueError(f"{what}: numbers must have at most 30 digits, got {node}")
        if node.is_Pow:
            exponent = node.exp
            free = exponent.free_symbols
            linear = sp.Poly(exponent, *exponents_in) if free <= set(exponents_in) and exponents_in else None
            if exponent.is_Integer:
                ok = abs(exponent) <= 64
            else:
                ok = (
                    linear is not None
                    and linear.total_degree() <= 1
                    and all(c.is_Integer and abs(c) <= 64 for c in linear.coeffs())
                    and not node.base.free_symbols
                )
            if not ok:
                raise ValueError(
                    f"{what}: every power must be to an integer"
                    + (f" or a*{exponents_in[0]} + b" if exponents_in else "")
                    + f" with |a|, |b| <= 64, got {node}"
                )
    return expression
