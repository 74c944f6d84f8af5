"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import sympy as sp
from hypothesis import strategies as st

__all__ = ["rationals", "real_atom_laws", "complex_atom_laws", "initializations"]


def rationals(low: int = -3, high: int = 3, denominator: int = 8):
    """Exact rationals n / denominator in [low, high]."""
    return st.integers(low * denominator, high * denominator).map(lambda n: sp.Rational(n, denominator))


@st.composite
def real_atom_laws(draw, d=None, max_atoms=3):
    """(points, weights) of a finite real law with exact rational weights summing to 1."""
    from symbolic.moments import Atoms

    d = draw(st.integers(1, 3)) if d is None else d
    count = draw(st.integers(1, max_atoms))
    points = [[draw(rationals(-2, 2, 4)) for _ in range(d)] for _ in range(count)]
    raw = [draw(st.integers(1, 6)) for _ in range(count)]
    weights = [sp.Rational(w, sum(raw)) for w in raw]
    return Atoms(points, weights)


def initializations():
    """(a0, b0) off the saddle half-line a0 = -b0, bounded away from 0."""
    value = st.floats(0.05, 2.0).flatmap(lambda x: st.sampled_from([x, -x]))
    return st.tuples(value, value).filter(lambda ab: abs(ab[0] + ab[1]) > 1e-3)


@st.composite
def complex_atom_laws(draw, d: int, max_atoms: int = 3):
    """A finite complex law: rational real and imaginary parts, exact rational weights."""
    from symbolic.moments import Atoms

    count = draw(st.integers(1, max_atoms))
    points = [
        [draw(rationals(-2, 2, 4)) + sp.I * draw(rationals(-2, 2, 4)) for _ in range(d)] for _ in range(count)
    ]
    raw = [draw(st.integers(1, 6)) for _ in range(count)]
    return Atoms(points, [sp.Rational(w, sum(raw)) for w in raw])
