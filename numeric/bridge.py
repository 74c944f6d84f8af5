"""The one bridge from symbolic to numeric code: every formula crosses here, via lambdify.

Numeric code never retypes a formula; it asks this module for a compiled version of an
expression from :mod:`symbolic`, with T and the law's parameters fixed to given values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from symbolic.flow import gradient_flow
from symbolic.moments import Distribution

__all__ = ["CompiledFlow", "compile_flow", "evaluate"]


@dataclass(frozen=True)
class CompiledFlow:
    """The diagonal flow of one law at fixed T, compiled: every function takes the state
    y = (a_1..a_d, b_1..b_d) as a 1-d array (or a sequence of mpf for ``module="mpmath"``)."""

    d: int
    loss: Callable
    gradient: Callable
    hessian: Callable
    conserved: Callable
    gradient_scale: Callable  # sum of |terms| of each gradient entry: its rounding error is ~eps times this


def _frozen(values: dict) -> tuple:
    return tuple(sorted(((str(k), sp.nsimplify(v)) for k, v in values.items()), key=lambda kv: kv[0]))


def compile_flow(law: Distribution, values: dict, *, module: str = "numpy") -> CompiledFlow:
    """Compile the flow of ``law`` with ``values`` (e.g. {T: 100, sigma: 1}) substituted."""
    return _compile(law, _frozen(values), module)


@lru_cache(maxsize=64)
def _compile(law: Distribution, values: tuple, module: str) -> CompiledFlow:
    flow = gradient_flow(law)
    by_name = {s.name: s for s in flow.loss.free_symbols}
    substitution = {by_name[k]: v for k, v in values if k in by_name}
    loss = flow.loss.xreplace(substitution)
    loss = loss.xreplace({h: h.doit() for h in loss.atoms(sp.harmonic)})
    unknown = loss.free_symbols - set(flow.parameters)
    if unknown:
        raise ValueError(f"give values for {sorted(map(str, unknown))}")
    y = sp.MatrixSymbol("y", 2 * law.d, 1)
    state = {p: y[k, 0] for k, p in enumerate(flow.parameters)}
    poly = sp.Poly(loss, *flow.parameters)  # polynomial arithmetic: 10x faster than Expr.diff
    gradient_poly = [poly.diff(p) for p in flow.parameters]
    gradient = [g.as_expr() for g in gradient_poly]
    magnitudes = [
        sp.Poly.from_dict({m: abs(c) for m, c in g.terms()}, *flow.parameters).as_expr()
        for g in gradient_poly
    ]
    hessian = sp.Matrix([[g.diff(q).as_expr() for q in flow.parameters] for g in gradient_poly])
    conserved = list(flow.conserved)

    def build(exprs, shape):
        f = sp.lambdify(y, [e.xreplace(state) for e in exprs], modules=module, cse=True)
        if module == "mpmath":
            return lambda v: f(mpmath.matrix(list(v)))
        return lambda v: np.asarray(f(np.asarray(v, dtype=float).reshape(-1, 1)), dtype=float).reshape(shape)

    n = 2 * law.d
    magnitude, loss_vector = build(magnitudes, (n,)), build([loss], (1,))
    return CompiledFlow(
        law.d,
        lambda v: loss_vector(v)[0],
        build(gradient, (n,)),
        build(list(hessian), (n, n)),
        build(conserved, (len(conserved),)),
        lambda v: magnitude(np.abs(np.asarray(v, dtype=float))),
    )


def _harmonic_value(args: tuple, dps: int) -> sp.Expr:
    """H_n^(k) exactly for moderate n; for large n from mpmath (an exact rational with
    hundreds of thousands of digits would cost minutes)."""
    n, order = args if len(args) == 2 else (args[0], sp.S.One)
    if not n.is_Integer or n <= 2000:
        return sp.harmonic(*args)
    with mpmath.workdps(dps + 10):
        value = (
            mpmath.harmonic(int(n))
            if order == 1
            else mpmath.zeta(int(order)) - mpmath.zeta(int(order), int(n) + 1)
        )
        return sp.Float(value, dps + 10)


def evaluate(expr: sp.Expr, values: dict, *, dps: int | None = None):
    """A closed form at ``values``: a float, or an mpf with ``dps`` digits.

    >>> evaluate(sp.harmonic(sp.Symbol("n")), {"n": 3})
    1.8333333333333333
    """
    expr = sp.sympify(expr)
    names = {s.name: s for s in expr.free_symbols}
    point = {names[str(k)]: sp.nsimplify(v) for k, v in values.items() if str(k) in names}
    # Harmonic numbers first: SymPy evaluates harmonic(n) eagerly once n is an integer.
    out = expr.xreplace(
        {
            h: _harmonic_value(tuple(a.xreplace(point) for a in h.args), dps or 30)
            for h in expr.atoms(sp.harmonic)
        }
    ).xreplace(point)
    if out.free_symbols:
        raise ValueError(f"give values for {sorted(map(str, out.free_symbols))}")
    if dps is None:
        return float(out)
    return mpmath.mpf(sp.N(out, dps + 5).evalf(dps + 5).__str__())
