"""A setting: every assumption about the data and the model, as one object every stage reads.

The paper's setting is one point of a larger space (``shared/spec/model.md``):

* the law of x_1 (:class:`mesacheck.symbolic.moments.Distribution`);
* the law of W's diagonal entries, i.i.d. across coordinates: a :class:`PhaseLaw`, one class
  per law, carrying what every stage needs of it: uniform phases on the unit circle (the
  paper) or on a circle of radius r (:class:`Circle`; r < 1 is a contraction), a random modulus
  given by its moments E|lambda|^(2k) (:class:`RandomModulus`), or the N-th roots of unity
  (:class:`RootsOfUnity`; N = 2 is the real process W = diag(+-1)); an extension module may
  define another;
* additive noise x_{t+1} = W x_t + xi_t (:class:`Noise`: :class:`NoNoise`, the paper's,
  :class:`ComplexNoise` or :class:`RealNoise`);
* the model and the loss: the normalization rho_t and which positions the loss sums
  (``positions``: every t = 2..T-1 as in the paper, the last only, or weights omega_t).

:func:`as_setting` turns a bare law into the paper's setting for that law, so code written for
laws keeps working. The averages over W that the loss needs are exact for every finite T
(:mod:`mesacheck.symbolic.process_counts`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import sympy as sp

from .moments import DEFAULT_RHO, Distribution, exact_number, position
from .positions import rho_weights

__all__ = [
    "PhaseLaw",
    "Circle",
    "RootsOfUnity",
    "RandomModulus",
    "Noise",
    "NoNoise",
    "ComplexNoise",
    "RealNoise",
    "Setting",
    "as_setting",
    "UNIT_CIRCLE",
    "NO_NOISE",
    "circle",
    "random_modulus",
    "modulus_atoms",
    "roots_of_unity",
    "T_symbol",
]

T_symbol = sp.Symbol("T", integer=True, positive=True)  # the sequence length, in position weights
k_symbol = sp.Symbol("k", integer=True, nonnegative=True)  # the order of a modulus moment E|lambda|^(2k)
# a modulus law's moments are checked at construction through this order, and through the order a
# derivation needs (3T + 2) when it is used
_CHECKED_ORDER = 24
_BITS_ORDER = 24  # the order at which bits_per_power reads a law's modulus moments


class PhaseLaw:
    """The law of one diagonal entry lambda of W, i.i.d. across coordinates. Each law is a
    subclass that carries what the stages need of it: :meth:`average` E[lambda^n conj(lambda)^m],
    its modulus moments E|lambda|^(2k), its :attr:`phase_period` (0: the phase is uniform on the
    circle, so an average vanishes unless n = m; N: it vanishes unless n = m mod N),
    :meth:`describe`, which noise its exact averages support (:meth:`check_noise`) and how its
    option text reads on the command line (:attr:`option`, :meth:`from_option`). Its sampler and
    quadrature rule are registered beside it on the numeric side (:mod:`mesacheck.numeric.laws`).
    A subclass with an ``option`` name is found by that name (:meth:`from_option`).

    >>> circle(sp.Rational(1, 2)).average(2, 2), circle(sp.Rational(1, 2)).average(2, 1)
    (1/16, 0)
    >>> roots_of_unity(2).average(3, 1), roots_of_unity(3).average(3, 1)
    (1, 0)
    >>> random_modulus(1 / (k_symbol + 1)).average(2, 2)  # uniform in the unit disk: E rho^4 = 1/3
    1/3
    >>> PhaseLaw.from_option("roots:3") == roots_of_unity(3)
    True
    """

    option: ClassVar[str | None] = None  # its name on the command line (--phases NAME[:PARAMETER])
    # E[lambda^n conj(lambda)^m] = E|lambda|^(n+m) [n = m mod phase_period] (period 0: n = m): the
    # structure the fast exact routes use; a law without it gives its averages alone, and the
    # counts enumerate every position (mesacheck.symbolic.process_counts)
    symmetric_phase: ClassVar[bool] = False
    fixed_modulus: ClassVar[bool] = False  # |lambda| is one number almost surely
    phase_period: ClassVar[int] = 0
    _by_option: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("option"):
            PhaseLaw._by_option[cls.option] = cls

    @classmethod
    def from_option(cls, text: str) -> PhaseLaw:
        """The law named by ``--phases`` text, ``NAME`` or ``NAME:PARAMETER``."""
        name, _, parameter = text.strip().partition(":")
        if name not in PhaseLaw._by_option:
            known = ", ".join(PhaseLaw.option_names())
            raise ValueError(
                f"give 'uniform', 'roots:N' or another law of W by name ({known}), got {text[:40]!r}"
            )
        return PhaseLaw._by_option[name].parse_option(parameter)

    @staticmethod
    def option_names() -> tuple[str, ...]:
        """The names of every law of W defined so far (a law's module registers it on import)."""
        return tuple(sorted(PhaseLaw._by_option))

    @classmethod
    def parse_option(cls, parameter: str) -> PhaseLaw:
        """The law from the text after ``NAME:`` (empty when there is none)."""
        raise NotImplementedError(f"{cls.__name__} is not read from the command line")

    def with_radius(self, radius) -> PhaseLaw:
        """The law with its modulus scaled to ``radius`` (the command line's ``--r``)."""
        raise ValueError(f"{self.describe()} has its own modulus: drop --r")

    @property
    def is_unit_circle(self) -> bool:
        return False

    @property
    def identity(self):
        """What identifies the law for caches: the law itself (its repr), and for a law defined
        outside :mod:`mesacheck.symbolic` (whose source the disk cache's fingerprint does not
        cover) a digest of its module's source too."""
        module = type(self).__module__
        if module.startswith("mesacheck.symbolic."):
            return self
        return (self, _source_digest(module))

    @property
    def modulus_squared(self) -> Fraction:
        """|lambda|^2, exact, for a law with a fixed modulus."""
        raise ValueError(f"{self.describe()} has no single |lambda|^2: use modulus_moment(k)")

    def modulus_moment(self, k: int) -> Fraction:
        """E|lambda|^(2k), exact."""
        value = sp.sympify(self.average(k, k))
        return Fraction(int(value.p), int(value.q))

    def modulus_moments(self, order: int) -> tuple[Fraction, ...]:
        """(E|lambda|^0, E|lambda|^2, ..., E|lambda|^(2 order)), exact."""
        return tuple(self.modulus_moment(k) for k in range(order + 1))

    def bits_per_power(self) -> float:
        """About how many bits (numerator and denominator) each power of lambda adds to the
        exact averages' rationals: E|lambda|^(2k) at k = 24, per power, plus E lambda's own
        size. The exact sums over T positions reach powers up to T, so their numbers grow like
        T times this: the cost guard's measure of the size of exact arithmetic."""
        mu = self.modulus_moments(_BITS_ORDER)[_BITS_ORDER]
        drift = sp.sympify(self.average(1, 0))  # E lambda: 0 for uniform phases
        drift_bits = int(drift.p).bit_length() + int(drift.q).bit_length() if drift.is_Rational else 0
        return (mu.numerator.bit_length() + mu.denominator.bit_length()) / _BITS_ORDER + drift_bits

    def check_moments(self, order: int) -> None:
        """Refuse a law whose moments through ``order`` no law has (a fixed modulus: nothing to check)."""

    def average(self, n: int, m: int) -> sp.Expr:
        """E[lambda^n conj(lambda)^m] for integers n, m >= 0."""
        raise NotImplementedError

    def check_noise(self, noise: Noise) -> None:
        """Refuse, with the reason, noise whose exact averages are not derived under this law."""
        if noise.present:
            raise NotImplementedError(
                f"exact averages with noise are not derived for {self.describe()}; "
                "the quadrature and the simulator take this setting"
            )

    def no_closed_form(self) -> str | None:
        """Why the sums over positions have no closed form in T under this law (None: they have)."""
        return None

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Circle(PhaseLaw):
    """lambda = r e^{i theta}, theta uniform, 0 < r <= 1 (r < 1: a contraction)."""

    radius: sp.Expr = sp.S.One
    option: ClassVar[str] = "uniform"
    symmetric_phase: ClassVar[bool] = True
    fixed_modulus: ClassVar[bool] = True

    def __post_init__(self):
        r = sp.sympify(self.radius)
        if not (r.is_Rational and 0 < r <= 1):
            raise ValueError(f"the radius r of W's entries must be an exact number in (0, 1], got {r}")
        object.__setattr__(self, "radius", r)

    @classmethod
    def parse_option(cls, parameter: str) -> PhaseLaw:
        if parameter:
            raise ValueError(f"'uniform' takes no parameter (the radius is --r), got {parameter[:40]!r}")
        return cls()

    def with_radius(self, radius) -> PhaseLaw:
        return Circle(exact_number(radius) * self.radius)

    @property
    def is_unit_circle(self) -> bool:
        return self.radius == 1

    @property
    def modulus_squared(self) -> Fraction:
        q = self.radius**2
        return Fraction(int(q.p), int(q.q))

    def average(self, n: int, m: int) -> sp.Expr:
        return self.radius ** (n + m) if n == m else sp.S.Zero

    def check_noise(self, noise: Noise) -> None:
        if noise.present and not noise.circular and self.radius != 1:
            raise NotImplementedError(
                "exact averages with real noise under a contraction are not derived (a block's time enters "
                "both its phase and its modulus); use --noise-kind complex, or the simulator"
            )

    def no_closed_form(self) -> str | None:
        if self.radius == 1:
            return None
        return "under a contraction the sums over positions are partial Lerch sums, with no closed form in T"

    def describe(self) -> str:
        if self.is_unit_circle:
            return "W = diag of uniform phases on the unit circle"
        return f"W = diag of uniform phases on the circle of radius {self.radius}"


_MAX_ROOTS = 10**9 - 1  # the largest N that roots:N takes


@dataclass(frozen=True)
class RootsOfUnity(PhaseLaw):
    """lambda uniform on the N-th roots of unity (N = 2: the real process W = diag(+-1))."""

    N: int = 1
    option: ClassVar[str] = "roots"
    symmetric_phase: ClassVar[bool] = True
    fixed_modulus: ClassVar[bool] = True

    def __post_init__(self):
        if isinstance(self.N, bool) or not isinstance(self.N, int) or self.N < 1:
            raise ValueError(f"the number N of roots of unity must be an integer >= 1, got {self.N!r}")

    @classmethod
    def parse_option(cls, parameter: str) -> PhaseLaw:
        text = parameter.strip()
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"give 'roots:N' with N a whole number, got 'roots:{parameter[:40]}'")
        if len(text.lstrip("-")) > len(str(_MAX_ROOTS)) or int(text) > _MAX_ROOTS:
            raise ValueError(
                f"N = {text if len(text) <= 40 else f'{text[:12]}... ({len(text)} digits)'} is too large: "
                f"give N <= {_MAX_ROOTS}. From N >= 3T - 5 on, the N-th "
                "roots of unity give the uniform circle's loss exactly: use --phases uniform"
            )
        N = int(text)
        if N < 1:
            raise ValueError(f"N must be an integer >= 1, got {N}")
        return cls(N)

    def with_radius(self, radius) -> PhaseLaw:
        raise ValueError("roots of unity have modulus 1: drop --r or --phases roots:N")

    @property
    def phase_period(self) -> int:
        return self.N

    @property
    def modulus_squared(self) -> Fraction:
        return Fraction(1)

    def average(self, n: int, m: int) -> sp.Expr:
        return sp.S.One if (n - m) % self.N == 0 else sp.S.Zero

    def check_noise(self, noise: Noise) -> None:
        pass  # complex and real noise are both derived on every N

    def no_closed_form(self) -> str | None:
        return (
            "over the roots of unity the sums over positions are periodic in T mod N; "
            "no closed form is derived"
        )

    def describe(self) -> str:
        return f"W = diag of uniform N-th roots of unity, N = {self.N}"


@dataclass(frozen=True)
class RandomModulus(PhaseLaw):
    """lambda = rho e^{i theta}, theta uniform and independent of a random modulus 0 < rho <= 1
    given by its moments E rho^(2k), an expression in ``k_symbol`` (see :func:`random_modulus`,
    :func:`modulus_atoms`)."""

    moments: sp.Expr = None  # E rho^(2k) in k_symbol
    atoms: tuple | None = None  # finitely many values: ((r, p), ...), exact
    symmetric_phase: ClassVar[bool] = True

    def __post_init__(self):
        moments = sp.sympify(self.moments)
        if moments.free_symbols - {k_symbol}:
            raise ValueError(
                f"the modulus moments E rho^(2k) must be an expression in k alone, got {moments}"
            )
        object.__setattr__(self, "moments", moments)
        self.check_moments(_CHECKED_ORDER)

    @property
    def modulus_squared(self) -> Fraction:
        raise ValueError("a random modulus has no single |lambda|^2: use modulus_moment(k)")

    def modulus_moment(self, k: int) -> Fraction:
        return _modulus_moments(self, k)[k]

    def modulus_moments(self, order: int) -> tuple[Fraction, ...]:
        return _modulus_moments(self, order)[: order + 1]

    def check_moments(self, order: int) -> None:
        """Refuse moments that no law of rho^2 on [0, 1] has, through ``order``: each mu_k =
        E rho^(2k) rational with mu_0 = 1, and Hausdorff's conditions (-1)^n Delta^n mu_k >= 0
        for n + k <= order (the expectation of rho^(2k) (1 - rho^2)^n; necessary, and
        sufficient as the order grows). mu_k > 0: rho is not 0 almost surely."""
        mu = _modulus_moments(self, order)[: order + 1]
        row = list(mu)
        for n in range(order + 1):
            if any(value < 0 for value in row):
                k = next(k for k, value in enumerate(row) if value < 0)
                raise ValueError(
                    f"no law of rho in [0, 1] has moments E rho^(2k) = {self.moments}: "
                    f"E rho^(2 k) (1 - rho^2)^n would be {row[k]} < 0 at k = {k}, n = {n}"
                )
            row = [row[k] - row[k + 1] for k in range(len(row) - 1)]
        if mu[0] != 1 or mu[1] == 0:
            raise ValueError(
                f"the modulus moments must have E rho^0 = 1 and E rho^2 > 0, got {mu[0]} and {mu[1]}"
            )

    def average(self, n: int, m: int) -> sp.Expr:
        return sp.Rational(self.moments.subs(k_symbol, n)) if n == m else sp.S.Zero

    def check_noise(self, noise: Noise) -> None:
        if noise.present:
            raise NotImplementedError(
                "exact averages with noise are not derived under a random modulus: the noise's weight "
                "depends on its time through rho; the quadrature and the simulator take this setting"
            )

    def no_closed_form(self) -> str | None:
        return (
            "under a random modulus the sums over positions are sums of moments of rho, with no closed form"
        )

    def describe(self) -> str:
        law = (
            "rho in {" + ", ".join(f"{r} w.p. {p}" for r, p in self.atoms) + "}"
            if self.atoms
            else f"E rho^(2k) = {self.moments}"
        )
        return f"W = diag of rho e^(i theta), uniform phases and a random modulus, {law}"


@functools.cache
def _source_digest(module: str) -> str:
    import hashlib
    import importlib
    from pathlib import Path

    path = importlib.import_module(module).__file__
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else module


def _modulus_moments(phases: RandomModulus, order: int) -> tuple[Fraction, ...]:
    """(E rho^0, ..., E rho^(2 order')) for some order' >= order, exact; refused where a moment is
    not rational. Orders are rounded up to a power of 2, so a run that asks for every order up to
    M computes O(M) moments."""
    return _moments_cached(phases.moments, phases.atoms, max(_CHECKED_ORDER, 1 << max(order, 1).bit_length()))


@functools.lru_cache(maxsize=16)
def _moments_cached(moments: sp.Expr, atoms, order: int) -> tuple[Fraction, ...]:
    if atoms:  # directly in exact rationals: sum_r p r^(2k)
        squares = [(Fraction(int((r**2).p), int((r**2).q)), Fraction(int(p.p), int(p.q))) for r, p in atoms]
        return tuple(sum(p * q**k for q, p in squares) for k in range(order + 1))
    out = []
    for k in range(order + 1):
        value = moments.xreplace({k_symbol: sp.Integer(k)})
        if not value.is_Rational:
            raise ValueError(
                f"the modulus moment E rho^(2k) = {moments} is not a rational number at k = {k} ({value}): "
                "the exact averages need rational moments"
            )
        out.append(Fraction(int(value.p), int(value.q)))
    return tuple(out)


UNIT_CIRCLE = Circle()


def circle(radius) -> PhaseLaw:
    """Uniform phases on the circle of radius ``radius`` (a number in (0, 1], kept exact)."""
    return Circle(exact_number(radius))


def random_modulus(moments) -> PhaseLaw:
    """lambda = rho e^{i theta}: a uniform phase, and an independent random modulus rho in
    (0, 1] given by its moments E rho^(2k), an expression in ``k`` (``k_symbol``, or the string
    ``"k"`` in a string), e.g. ``1/(k+1)`` for lambda uniform in the unit disk."""
    if isinstance(moments, str):
        moments = sp.sympify(moments, locals={"k": k_symbol})
    return RandomModulus(moments=moments)


def modulus_atoms(atoms) -> PhaseLaw:
    """A random modulus with finitely many values: ``atoms`` maps each radius r in (0, 1] to its
    probability (numbers kept exact; the probabilities sum to 1)."""
    pairs = tuple(sorted((exact_number(r), exact_number(p)) for r, p in dict(atoms).items()))
    if not pairs:
        raise ValueError("give at least one radius")
    for r, p in pairs:
        if not (r.is_Rational and 0 < r <= 1):
            raise ValueError(f"every radius must be an exact number in (0, 1], got {r}")
        if not (p.is_Rational and p > 0):
            raise ValueError(f"every probability must be an exact number > 0, got {p} for r = {r}")
    if sum(p for _, p in pairs) != 1:
        raise ValueError(f"the probabilities must sum to 1, got {sum(p for _, p in pairs)}")
    moments = sp.Add(*(p * r ** (2 * k_symbol) for r, p in pairs))
    return RandomModulus(moments=moments, atoms=pairs)


def roots_of_unity(N: int) -> PhaseLaw:
    """Uniform on the N-th roots of unity; N = 2 is the real process W = diag(+-1)."""
    return RootsOfUnity(N)


@dataclass(frozen=True)
class Noise:
    """Additive noise xi_t, i.i.d. over t and coordinates, independent of W and x_1:
    ``"none"``, ``"complex"`` (circular: its law is unchanged by a rotation) or ``"real"``
    (symmetric: odd moments 0). Gaussian of scale s (CN(0, s^2) or N(0, s^2)) by default, or
    any such law given by its moments: ``moments = (m_2, m_4, m_6)``, the moments E|xi|^2,
    E|xi|^4, E|xi|^6 (complex) or E xi^2, E xi^4, E xi^6 (real), which is all the loss
    (degree 6 in each noise variable) depends on. :meth:`cumulant` gives the joint cumulant of
    a block of 2k noise factors at one time, the weight of that block in the exact averages.

    Each kind is a subclass (``Noise("real", ...)`` builds a :class:`RealNoise`) carrying its
    cumulants and whether it is circular; its sampler and quadrature rule are registered on the
    numeric side (:mod:`mesacheck.numeric.laws`).

    >>> Noise("real", moments=(1, 1, 1)).cumulant(2)  # Rademacher noise: kappa_4 = 1 - 3
    -2
    >>> Noise("complex", 2).cumulant(2), Noise("complex", 2).cumulant(1)  # Gaussian: only pairs
    (0, 4)
    """

    kind: str = "none"
    scale: sp.Expr = sp.S.Zero
    moments: tuple | None = None  # (m_2, m_4, m_6); None: Gaussian of scale s

    circular: ClassVar[bool] = True  # E xi^a conj(xi)^b = 0 unless a = b (complex noise)
    _by_kind: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Noise._by_kind[cls.__dict__["kind"]] = cls

    def __new__(cls, kind: str = "none", *args, **kwargs):
        if cls is Noise:  # the kind named by the string, read once here
            if kind not in Noise._by_kind:
                raise ValueError(f"the noise kind is 'none', 'complex' or 'real', got {kind!r}")
            cls = Noise._by_kind[kind]
        return object.__new__(cls)

    def __post_init__(self):
        if Noise._by_kind.get(self.kind) is not type(self):
            raise ValueError(f"{type(self).__name__} has kind {type(self).kind!r}, got {self.kind!r}")
        s = _exact_or_symbolic(self.scale)
        if s.is_number and not (s.is_finite and s >= 0):
            raise ValueError(f"the noise scale s must be a finite number >= 0, got {s}")
        object.__setattr__(self, "scale", s)
        if self.moments is not None:
            if s != 0:
                raise ValueError("give the noise either a scale s (Gaussian) or its moments, not both")
            moments = tuple(_exact_or_symbolic(m) for m in self.moments)
            if len(moments) != 3:
                raise ValueError(f"give the noise's moments of degree 2, 4 and 6, got {len(moments)} of them")
            _check_moments(moments, self.kind)
            object.__setattr__(self, "moments", moments)

    @property
    def present(self) -> bool:
        return self.scale != 0 if self.moments is None else self.moments[0] != 0

    @property
    def gaussian(self) -> bool:
        return self.moments is None

    @property
    def second_moment(self) -> sp.Expr:
        """E|xi|^2 (complex) or E xi^2 (real)."""
        return self.scale**2 if self.moments is None else self.moments[0]

    def cumulant(self, k: int) -> sp.Expr:
        """The joint cumulant of a block of 2k noise factors at one time (k plain and k
        conjugated for complex noise; the others vanish by circular symmetry)."""
        if self.gaussian:
            return self.scale**2 if k == 1 else sp.S.Zero
        return sp.expand(self._cumulants(*self.moments)[k - 1])

    def _cumulants(self, m1, m2, m3) -> tuple:
        raise NotImplementedError

    _moment_label = "E xi"

    def describe(self) -> str:
        if self.gaussian:
            return f"{self.kind} Gaussian noise of scale {self.scale}"
        return f"{self.kind} noise with {self._moment_label}^(2, 4, 6) = {', '.join(map(str, self.moments))}"


@dataclass(frozen=True)
class NoNoise(Noise):
    """No noise (the paper)."""

    kind: str = "none"

    @property
    def present(self) -> bool:
        return False


@dataclass(frozen=True)
class ComplexNoise(Noise):
    """Circular complex noise: its law is unchanged by a rotation."""

    kind: str = "complex"
    _moment_label = "E|xi|"

    def _cumulants(self, m1, m2, m3) -> tuple:  # E|xi|^(2k) = sum over balanced block partitions
        return (m1, m2 - 2 * m1**2, m3 - 9 * m1 * m2 + 12 * m1**3)


@dataclass(frozen=True)
class RealNoise(Noise):
    """Real symmetric noise: its odd moments vanish."""

    kind: str = "real"
    circular: ClassVar[bool] = False

    def _cumulants(self, m1, m2, m3) -> tuple:  # the moment-cumulant relations with odd terms 0
        return (m1, m2 - 3 * m1**2, m3 - 15 * m2 * m1 + 30 * m1**3)


def _exact_or_symbolic(value) -> sp.Expr:
    """A number kept exact (a float as the decimal it prints as), or a symbolic parameter."""
    if isinstance(value, sp.Basic) and value.free_symbols:
        return value
    return exact_number(value)


def _check_moments(moments: tuple, kind: str) -> None:
    """Refuse moments that no law has: (1, m_2, m_4, m_6) must be the moments of a law of y =
    |xi|^2 >= 0 (y = xi^2 for real noise): Stieltjes' condition, both Hankel matrices
    [[1, m_2], [m_2, m_4]] and [[m_2, m_4], [m_4, m_6]] positive semidefinite."""
    numbers = [m for m in moments if m.is_number]
    if len(numbers) < 3:
        return  # symbolic moments: checked when they get values
    m1, m2, m3 = moments
    if not all(m.is_real and m.is_finite for m in moments):
        raise ValueError(f"the noise's moments must be finite real numbers, got {moments}")
    first, second = m2 - m1**2, m1 * m3 - m2**2
    # a singular first Hankel matrix means |xi|^2 = m_2 almost surely, which fixes m_6 = m_2^3
    degenerate = first == 0 and m3 != m1**3
    if m1 < 0 or first < 0 or second < 0 or m3 < 0 or degenerate:
        raise ValueError(
            f"no {kind} noise has moments {', '.join(map(str, moments))} of degree 2, 4, 6: they must be the "
            "moments of |xi|^2 >= 0, so m_2 >= 0, m_4 >= m_2^2, m_2 m_6 >= m_4^2, and m_6 = m_2^3 when "
            "m_4 = m_2^2 (then |xi|^2 is constant)"
        )


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
        return (str(self.rho), self.phases.identity, self.noise, str(self.positions))

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
        return rho_weights(self.rho, range(2, T), -1)  # 1 / rho_t^(-1): the one check of rho_t

    def loss_weights(self, T: int, power: int) -> dict[int, Fraction]:
        """{t: omega_t / rho_t^power} over the trained positions."""
        omega = self.position_weights(T)
        return {t: omega[t] * w for t, w in rho_weights(self.rho, omega, power).items()}

    def describe(self) -> str:
        parts = [self.phases.describe()]
        if self.noise.present:
            parts.append(self.noise.describe())
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
