"""Extension: W = diag(+-1) with biased signs: lambda = +1 with probability p, -1 otherwise.

Why: the paper's phases are uniform, so every average E[lambda^n conj(lambda)^m] with n != m
vanishes, and the roots of unity keep that symmetry modulo N (roots:2 is the fair sign,
p = 1/2). A biased sign breaks it: the process keeps a direction, E lambda = 2p - 1, and the
averages depend on n + m, not on n - m. The question is what the trained model does when the
data's dynamics has a drift that no rotation removes.

What changes (the law of W): E[lambda^n conj(lambda)^m] = E lambda^(n+m) = 1 when n + m is even
and 2p - 1 when it is odd. No average vanishes for 0 < p < 1, p != 1/2, so no phase equation
prunes the positions: the exact engine counts with these averages alone, enumerating every
position (mesacheck.symbolic.process_counts, for T <= 40). Its quadrature rule is the two
signs with their probabilities, exact for every polynomial; its sampler draws them.

This module is the whole extension: the law (a PhaseLaw subclass, selected on the command line
by ``--phases sign:p``), its sampler and quadrature rule (registered with the numeric side), and
its claims. Nothing else in the package names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np
import sympy as sp

from mesacheck.numeric.laws import PhaseLawNumerics, register_phase_law
from mesacheck.symbolic.moments import Distribution, exact_number, gaussian
from mesacheck.symbolic.process_counts import setting_counts
from mesacheck.symbolic.setting import PhaseLaw, Setting, roots_of_unity

from ..check import Check
from ._shared import setting_against_quadrature, setting_limit_against_flows

NAME = "biased-sign"
CHANGES = "law of W"
BIAS = sp.Rational(3, 4)  # the worked example's P(lambda = +1)


@dataclass(frozen=True)
class BiasedSign(PhaseLaw):
    """lambda = +1 with probability p and -1 with probability 1 - p (p exact, in [0, 1]).

    >>> BiasedSign(sp.Rational(3, 4)).average(2, 1), BiasedSign(sp.Rational(3, 4)).average(2, 2)
    (1/2, 1)
    >>> PhaseLaw.from_option("sign:0.75") == BiasedSign(sp.Rational(3, 4))
    True
    """

    p: sp.Expr = sp.Rational(1, 2)
    option: ClassVar[str] = "sign"  # --phases sign:p
    fixed_modulus: ClassVar[bool] = True

    def __post_init__(self):
        p = sp.sympify(self.p)
        if not (p.is_Rational and 0 <= p <= 1):
            raise ValueError(f"the probability p of lambda = +1 must be an exact number in [0, 1], got {p}")
        object.__setattr__(self, "p", p)

    @classmethod
    def parse_option(cls, parameter: str) -> PhaseLaw:
        try:
            return cls(exact_number(parameter.strip()))
        except (TypeError, ValueError, SyntaxError) as error:
            raise ValueError(
                f"give 'sign:p' with p in [0, 1], got 'sign:{parameter[:40]}' ({error})"
            ) from None

    @property
    def modulus_squared(self) -> Fraction:
        return Fraction(1)

    def average(self, n: int, m: int) -> sp.Expr:
        return sp.S.One if (n + m) % 2 == 0 else 2 * self.p - 1

    def no_closed_form(self) -> str | None:
        return "with biased signs the counts are an exact enumeration of every position; no closed form in T"

    def describe(self) -> str:
        return f"W = diag of signs +-1, +1 with probability {self.p}"


class _BiasedSignNumerics(PhaseLawNumerics):
    def sample(self, phases, shape, rng, T):
        return np.where(rng.random(shape) < float(phases.p), 1.0, -1.0).astype(complex)

    def rule(self, phases, T):  # the law itself: exact for every polynomial in lambda
        nodes = [(1.0, float(phases.p)), (-1.0, float(1 - phases.p))]
        nodes = [(x, w) for x, w in nodes if w > 0]
        return np.array([x for x, _ in nodes], dtype=complex), np.array([w for _, w in nodes])


register_phase_law(BiasedSign, _BiasedSignNumerics())


def law(d: int = 5) -> Distribution:
    """The worked example's x_1: the paper's Gaussian token, sigma = 1."""
    return gaussian(d, 1)


def setting(d: int = 5, p=BIAS, base: Distribution | None = None) -> Setting:
    """x_1 (default the Gaussian token) with W = diag of signs, +1 with probability p."""
    return Setting(law(d) if base is None else base, BiasedSign(exact_number(p)))


def same_loss_as_fair_sign(T: int, p) -> bool:
    """Whether every coefficient of K and J under biased signs equals roots:2's (exact counts,
    the first by the averages alone, the second by residue classes)."""
    biased, fair = setting(2, p), Setting(law(2), roots_of_unity(2))
    return all(
        setting_counts(biased, T, kind) == setting_counts(fair, T, kind) for kind in ("quadratic", "linear")
    )


def biased_sign_fair_is_the_real_process(quick: bool = False) -> Check:
    """Claim: the loss under signs that are +1 with probability p equals the fair real process's
    (roots:2) if and only if p = 1/2 (p in {0, 1/4, 1/2, 3/4, 1} at T = 4 and 5; p in {1/4, 1/2,
    1} at T = 4 when quick).

    Derivation: eq-full-loss

    Guarantee: both directions, exactly: every rational coefficient of K and J computed from
    the law's averages alone (every position enumerated) against the residue-class engine of
    the roots of unity; no disagreement allowed.

    Reference: spec, "Data", with W's entries random signs.
    """
    lengths = (4,) if quick else (4, 5)
    biases = ("1/4", "1/2", "1") if quick else ("0", "1/4", "1/2", "3/4", "1")
    grid = [(T, p) for T in lengths for p in biases]
    return Check(
        "biased_sign_fair_is_the_real_process",
        f"biased signs: the loss is roots:2's iff p = 1/2 (T in {lengths}, p in {{{', '.join(biases)}}})",
        "iff",
        tuple(sp.Rational(p) == sp.Rational(1, 2) for _, p in grid),
        tuple(same_loss_as_fair_sign(T, p) for T, p in grid),
        0.0,
        0.0,
        "exact: rational coefficients compared for equality",
        {"points": len(grid)},
    )


def biased_sign_loss_matches_quadrature(quick: bool = False) -> Check:
    """Claim: with signs that are +1 with probability 3/4 the exact loss and both gradients equal
    the average over the 2^d sign patterns themselves (d = 2, T = 6).

    Derivation: eq-full-loss

    Guarantee: two independent routes, exact up to rounding: relative 1e-12.

    Reference: spec, "Data", with W's entries random signs.
    """
    return setting_against_quadrature(
        "biased_sign_loss_matches_quadrature",
        "p = 3/4: exact loss and gradients = the average over the signs (d = 2, T = 6)",
        setting(2),
        6,
    )


def biased_sign_limit(quick: bool = False) -> Check:
    """Claim: with signs that are +1 with probability 3/4 the diagonal model of the Gaussian
    token (sigma = 1) reaches the exact p* = beta / alpha of the symmetric line (d = 2, T = 8;
    T = 12 at full settings).

    Derivation: eq-reduced-loss

    Guarantee: p* exact; the diagonal model's flow agrees to 1e-10 (the evidence reports whether
    the full model keeps the diagonal, and if so the full flow must agree too).

    Reference: Theorem 4.1, for W's entries random signs.
    """
    T = 8 if quick else 12
    return setting_limit_against_flows(
        "biased_sign_limit",
        f"p = 3/4, Gaussian: the diagonal model's lim ab = exact beta/alpha (d = 2, T = {T})",
        setting(2),
        T,
    )


CLAIMS = (
    biased_sign_fair_is_the_real_process,
    biased_sign_loss_matches_quadrature,
    biased_sign_limit,
)
