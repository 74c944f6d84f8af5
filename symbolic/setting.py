"""A setting: every assumption about the data and the model, as one object every stage reads.

The paper's setting is one point of a larger space (``shared/spec/model.md``):

* the law of x_1 (:class:`symbolic.moments.Distribution`);
* the law of W's diagonal entries, i.i.d. across coordinates (:class:`PhaseLaw`): uniform
  phases on the unit circle (the paper), on a circle of radius r (a contraction), or the N-th
  roots of unity (N = 2 is the real process W = diag(+-1));
* additive noise x_{t+1} = W x_t + xi_t (:class:`Noise`; the paper has none);
* the model and the loss: the normalization rho_t and which positions the loss sums
  (``positions``: every t = 2..T-1 as in the paper, the last only, or weights omega_t).

:func:`as_setting` turns a bare law into the paper's setting for that law, so code written for
laws keeps working. The averages over W that the loss needs are exact for every finite T
(:mod:`symbolic.process_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from .moments import DEFAULT_RHO, Distribution, exact_number, position

__all__ = [
    "PhaseLaw",
    "Noise",
    "Setting",
    "as_setting",
    "UNIT_CIRCLE",
    "NO_NOISE",
    "circle",
    "roots_of_unity",
    "T_symbol",
]

T_symbol = sp.Symbol("T", integer=True, positive=True)  # the sequence length, in position weights


@dataclass(frozen=True)
class PhaseLaw:
    """The law of one diagonal entry lambda of W: ``kind`` is ``"circle"`` (lambda = r e^{i
    theta}, theta uniform, 0 < r <= 1) or ``"roots"`` (lambda uniform on the N-th roots of
    unity). :meth:`average` is E[lambda^n conj(lambda)^m].

    >>> circle(sp.Rational(1, 2)).average(2, 2), circle(sp.Rational(1, 2)).average(2, 1)
    (1/16, 0)
    >>> roots_of_unity(2).average(3, 1), roots_of_unity(3).average(3, 1)
    (1, 0)
    """

    kind: str = "circle"
    radius: sp.Expr = sp.S.One
    N: int = 0  # roots of unity only

    def __post_init__(self):
        if self.kind == "circle":
            r = sp.sympify(self.radius)
            if not (r.is_Rational and 0 < r <= 1):
                raise ValueError(f"the radius r of W's entries must be an exact number in (0, 1], got {r}")
            object.__setattr__(self, "radius", r)
        elif self.kind == "roots":
            if isinstance(self.N, bool) or not isinstance(self.N, int) or self.N < 1:
                raise ValueError(f"the number N of roots of unity must be an integer >= 1, got {self.N!r}")
        else:
            raise ValueError(f"the law of W's entries is 'circle' or 'roots', got {self.kind!r}")

    @property
    def is_unit_circle(self) -> bool:
        return self.kind == "circle" and self.radius == 1

    @property
    def modulus_squared(self) -> Fraction:
        """|lambda|^2, exact."""
        r = self.radius if self.kind == "circle" else sp.S.One
        q = r**2
        return Fraction(int(q.p), int(q.q))

    def average(self, n: int, m: int) -> sp.Expr:
        """E[lambda^n conj(lambda)^m] for integers n, m >= 0."""
        if self.kind == "roots":
            return sp.S.One if (n - m) % self.N == 0 else sp.S.Zero
        return self.radius ** (n + m) if n == m else sp.S.Zero

    def describe(self) -> str:
        if self.kind == "roots":
            return f"W = diag of uniform N-th roots of unity, N = {self.N}"
        if self.is_unit_circle:
            return "W = diag of uniform phases on the unit circle"
        return f"W = diag of uniform phases on the circle of radius {self.radius}"


UNIT_CIRCLE = PhaseLaw()


def circle(radius) -> PhaseLaw:
    """Uniform phases on the circle of radius ``radius`` (a number in (0, 1], kept exact)."""
    return PhaseLaw("circle", exact_number(radius))


def roots_of_unity(N: int) -> PhaseLaw:
    """Uniform on the N-th roots of unity; N = 2 is the real process W = diag(+-1)."""
    return PhaseLaw("roots", sp.S.One, N)


@dataclass(frozen=True)
class Noise:
    """Additive noise xi_t, i.i.d. over t and coordinates, independent of W and x_1:
    ``"none"``, ``"complex"`` (circular CN(0, s^2)) or ``"real"`` (N(0, s^2))."""

    kind: str = "none"
    scale: sp.Expr = sp.S.Zero

    def __post_init__(self):
        if self.kind not in ("none", "complex", "real"):
            raise ValueError(f"the noise kind is 'none', 'complex' or 'real', got {self.kind!r}")
        s = sp.sympify(self.scale)
        if s.is_number and not (s.is_finite and s >= 0):
            raise ValueError(f"the noise scale s must be a finite number >= 0, got {s}")
        object.__setattr__(self, "scale", s)

    @property
    def present(self) -> bool:
        return self.kind != "none" and self.scale != 0


NO_NOISE = Noise()


@dataclass(frozen=True)
class Setting:
    """Every assumption of a run. ``positions`` is ``"all"`` (t = 2..T-1, the paper),
    ``"last"`` (t = T-1 only) or an expression omega_t in the position ``t`` and the length ``T``
    (the loss sums omega_t 1/2 ||y_t - x_{t+1}||^2)."""

    law: Distribution
    phases: PhaseLaw = UNIT_CIRCLE
    noise: Noise = NO_NOISE
    rho: sp.Expr = field(default=None)
    positions: str | sp.Expr = "all"

    def __post_init__(self):
        if isinstance(self.law, Setting):  # a setting that changes only rho_t, given as the token
            inner = self.law
            if not inner.is_paper_process:
                raise TypeError(f"give a law of x_1, not a setting with its own process ({inner.describe()})")
            object.__setattr__(self, "law", inner.law)
            if self.rho is None:
                object.__setattr__(self, "rho", inner.rho)
        if not isinstance(self.law, Distribution):
            raise TypeError(f"the law of x_1 must be a Distribution, got {type(self.law).__name__}")
        object.__setattr__(self, "rho", sp.sympify(DEFAULT_RHO if self.rho is None else self.rho))
        if not isinstance(self.positions, str):
            object.__setattr__(self, "positions", sp.sympify(self.positions))
        elif self.positions not in ("all", "last"):
            raise ValueError(
                f"positions is 'all', 'last' or an expression in t and T, got {self.positions!r}"
            )

    @property
    def d(self) -> int:
        return self.law.d

    def __getattr__(self, name: str):
        """The token's own attributes (``moment``, ``name``, ``real``, ``parameters``, ...), so
        that a setting goes wherever a law of x_1 goes: the derivations for the paper's process
        read the law from it, and rho_t from :attr:`rho`."""
        if name.startswith("__") or name == "law":
            raise AttributeError(name)
        return getattr(self.law, name)

    @property
    def is_paper_process(self) -> bool:
        """The paper's process and loss (any law of x_1 and any rho_t): unit-circle phases, no
        noise, every position."""
        return self.phases.is_unit_circle and not self.noise.present and self.positions == "all"

    @property
    def identity(self) -> tuple:
        """What identifies the setting, for caches."""
        law = self.law.identity
        if self.is_paper_process and self.rho == DEFAULT_RHO:
            return law
        return (law, *self.process_identity)

    @property
    def process_identity(self) -> tuple:
        """What the averages over W depend on: everything but the law of x_1."""
        return (str(self.rho), self.phases, self.noise.kind, str(self.noise.scale), str(self.positions))

    def position_weights(self, T: int) -> dict[int, Fraction]:
        """omega_t for t = 2..T-1, exact; positions with omega_t = 0 are left out."""
        if self.positions == "all":
            return {t: Fraction(1) for t in range(2, T)}
        if self.positions == "last":
            return {T - 1: Fraction(1)}
        out = {}
        for t in range(2, T):
            value = self.positions.subs({position: t, T_symbol: T})
            if not value.is_Rational:
                raise ValueError(f"the position weight omega_t = {self.positions} is not rational at t = {t}")
            if value < 0:
                raise ValueError(f"the position weight omega_{t} = {value} is negative")
            if value:
                out[t] = Fraction(int(value.p), int(value.q))
        if not out:
            raise ValueError("every position weight omega_t is 0: the loss is constant")
        return out

    def normalization(self, T: int) -> dict[int, Fraction]:
        """rho_t for t = 2..T-1, exact and non-zero."""
        from .full_model import _weights

        return _weights(self.rho, range(2, T), -1)  # 1 / rho_t^(-1): the one check of rho_t

    def describe(self) -> str:
        parts = [self.phases.describe()]
        if self.noise.present:
            parts.append(f"{self.noise.kind} Gaussian noise of scale {self.noise.scale}")
        if self.rho != DEFAULT_RHO:
            parts.append(f"rho_t = {self.rho}")
        if self.positions != "all":
            parts.append(f"loss at {'the last position' if self.positions == 'last' else self.positions}")
        return "; ".join(parts)


def as_setting(law_or_setting) -> Setting:
    """The setting itself, or the paper's setting for a bare law of x_1."""
    if isinstance(law_or_setting, Setting):
        return law_or_setting
    if isinstance(law_or_setting, Distribution):
        return Setting(law_or_setting)
    raise TypeError(f"expected a Setting or a Distribution, got {type(law_or_setting).__name__}")
