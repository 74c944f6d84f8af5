"""The exact population loss of the full model: every entry of W^KQ and W^PV.

Write P = W^PV (d x 2d), Q = W^KQ (2d x 2d) and z_r[c, a, b] = P[r, c] Q[a, b]. The prediction
is linear in z (eq-full-prediction):

    y_t[r] = sum_{c,a,b} z_r[c, a, b] v_t[c, a, b],
    v_t[c, a, b] = (1/(t-1)) sum_{i<=t} e_i[c] conj(e_i[a]) e_t[b],

so the loss is a quadratic form in z (eq-full-loss):

    L = 1/2 sum_r z_r^H K z_r - Re sum_r J_r . z_r + 1/2 (T-2) E||x_1||^2,
    K = sum_t E[conj(v_t) v_t^T],   J_r = sum_t E[conj(x_{t+1}[r]) v_t].

Every entry of K and J is one moment of x_1 times one exact rational: an index c of the
embedding is a coordinate k in 1..d and a block (0: x_i, 1: x_{i-1}), and e_i[c] =
lambda_k^(i-1-block) x_k. The phase average keeps a term iff, for every coordinate, the
exponents of its slots cancel; which slots share a coordinate is a set partition of the slots.
So the rational depends only on that partition, the blocks and T (:func:`phase_counts`), and
the moment only on the coordinates and the law. This makes the loss exact for any law, d and
T, with no sampling and no symbolic expansion of the sequence.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from fractions import Fraction

import sympy as sp

from ._cache import disk_cached
from .moments import DEFAULT_RHO, Distribution, position
from .phase_average import sum_over_positions

_LAST = sp.Symbol("N", integer=True, positive=True)  # the last position, T - 1

__all__ = [
    "QUADRATIC_SLOTS",
    "LINEAR_SLOTS",
    "set_partition",
    "phase_counts",
    "phase_counts_by_positions",
    "phase_count_form",
    "vanishes_at_every_length",
    "harmonic_symbol",
    "harmonic_symbols_in",
    "exact_harmonic",
    "HARMONIC_EXACT_UNTIL",
    "slot_moment",
    "quadratic_coefficient",
    "linear_coefficient",
    "full_parameters",
    "full_population_loss",
    "target_moment",
]

# A slot is (time, sign): its phase exponent is time - 1 - block, or t for the target x_{t+1};
# sign -1 marks a conjugated factor. K pairs conj(v[c,a,b]) with v[c',a',b']:
QUADRATIC_SLOTS = (("i", -1), ("i", +1), ("t", -1), ("j", +1), ("j", -1), ("t", +1))
# J pairs conj(x_{t+1}[r]) with v[c,a,b]:
LINEAR_SLOTS = (("target", -1), ("i", +1), ("i", -1), ("t", +1))


def set_partition(labels) -> tuple[int, ...]:
    """The canonical name (restricted growth string) of the partition by equal labels.

    >>> set_partition((4, 2, 4, 7))
    (0, 1, 0, 2)
    """
    seen: dict = {}
    return tuple(seen.setdefault(k, len(seen)) for k in labels)


def _system(partition, blocks, slots):
    """The phase constraints as sorted equations (coef_i, coef_j, coef_t, constant) = 0, one per
    coordinate class, and the lowest admissible i and j (e_1 has no previous token)."""
    equations = set()
    for label in set(partition):
        row = [0, 0, 0, 0]
        for (time, sign), block, own in zip(slots, blocks, partition):
            if own != label:
                continue
            if time == "target":  # x_{t+1} = lambda^t x_1
                row[2] += sign
            else:
                row["ijt".index(time)] += sign
                row[3] -= sign * (1 + block)
        if any(row):
            lead = next(v for v in row if v)
            equations.add(tuple(v if lead > 0 else -v for v in row))
    low = {"i": 1, "j": 1}
    for (time, _), block in zip(slots, blocks):
        if time in low and block:
            low[time] = 2
    return tuple(sorted(equations)), low["i"], low["j"]


def _count_at(equations, low_i, low_j, t, has_j) -> int:
    """#{(i, j) in [low_i, t] x [low_j, t] solving every equation at position t}."""
    high_j = t if has_j else low_j
    n_i, n_j = t - low_i + 1, high_j - low_j + 1
    if n_i <= 0 or n_j <= 0:
        return 0
    rows = []
    for ci, cj, ct, c0 in equations:
        rhs = -(ct * t + c0)
        if ci == 0 and cj == 0:
            if rhs != 0:
                return 0
        else:
            rows.append((ci, cj, rhs))
    if not rows:
        return n_i * n_j
    ci, cj, r = rows[0]
    for di, dj, s in rows[1:]:
        det = ci * dj - cj * di
        if det:  # a unique solution
            i, j = Fraction(r * dj - cj * s, det), Fraction(ci * s - r * di, det)
            ok = i.denominator == 1 and j.denominator == 1 and low_i <= i <= t and low_j <= j <= high_j
            return int(ok and all(a * i + b * j == q for a, b, q in rows))
        if ci * s != di * r or cj * s != dj * r:  # parallel and inconsistent
            return 0
    if cj == 0:
        return n_j if r % ci == 0 and low_i <= r // ci <= t else 0
    if ci == 0:
        return n_i if r % cj == 0 and low_j <= r // cj <= high_j else 0
    return sum(
        1 for j in range(low_j, high_j + 1) if (r - cj * j) % ci == 0 and low_i <= (r - cj * j) // ci <= t
    )


# The count of solutions at position t is one polynomial in t (degree <= 2: two free indices)
# from here on: every constant in a system is at most 2 x 6 = 12 in magnitude, and the indices'
# bounds are 1, 2 or t, so the box stops changing shape past t = 12 + 2. The fit is checked
# against the direct count up to _VERIFIED_UNTIL, so a system that broke this would fail loudly.
_POLYNOMIAL_FROM = 16
_VERIFIED_UNTIL = 48


@functools.cache
def _count_polynomial(system, has_j: bool) -> tuple[Fraction, Fraction, Fraction]:
    """(c_0, c_1, c_2) with count(t) = c_0 + c_1 t + c_2 t^2 for every t >= _POLYNOMIAL_FROM,
    fitted exactly on three positions and verified on the next ones."""
    equations, low_i, low_j = system
    t0 = _POLYNOMIAL_FROM
    y0, y1, y2 = (_count_at(equations, low_i, low_j, t0 + k, has_j) for k in range(3))
    c2 = Fraction(y2 - 2 * y1 + y0, 2)  # second difference / 2, in u = t - t0
    c1u = (y1 - y0) - c2
    coefficients = (y0 - c1u * t0 + c2 * t0 * t0, c1u - 2 * c2 * t0, c2)  # back to powers of t
    for t in range(t0, _VERIFIED_UNTIL + 1):
        if sum(c * t**k for k, c in enumerate(coefficients)) != _count_at(equations, low_i, low_j, t, has_j):
            raise NotImplementedError(f"the phase count of {system} is not one quadratic in t >= {t0}")
    return tuple(Fraction(c) for c in coefficients)


@functools.cache
def _exact_harmonic(n: int, order: int) -> Fraction:
    """H_n^(order) = sum_{k=1}^n 1/k^order exactly, by binary splitting (SymPy's harmonic takes
    ~9 s at n = 10^4; this ~0.1 s)."""

    def split(a, b):  # sum_{k=a}^{b-1} as numerator / denominator, unreduced
        if b - a == 1:
            return 1, a**order
        m = (a + b) // 2
        p1, q1 = split(a, m)
        p2, q2 = split(m, b)
        return p1 * q2 + p2 * q1, q1 * q2

    return Fraction(*split(1, n + 1)) if n >= 1 else Fraction(0)


@functools.cache
def _power_sum_form(power: int, weight_power: int, rho: sp.Expr) -> sp.Expr:
    """sum_{t=_POLYNOMIAL_FROM}^{N} t^power / rho_t^weight_power in closed form in the symbol
    ``N`` (harmonic numbers), by :func:`mesacheck.symbolic.phase_average.sum_over_positions`."""
    return sum_over_positions(position**power / rho**weight_power, position, _POLYNOMIAL_FROM, _LAST)


def _power_sums(T: int, weight_power: int, rho: sp.Expr, degrees: int = 3) -> list[Fraction]:
    """sum_{t=_POLYNOMIAL_FROM}^{T-1} t^k / rho_t^weight_power for k < ``degrees``, exactly:
    the closed forms evaluated at N = T - 1, with each harmonic number summed exactly."""
    out = []
    for k in range(degrees):
        form = _power_sum_form(k, weight_power, rho)
        values = {}
        for h in form.atoms(sp.harmonic):
            n, order = (h.args + (sp.S.One,))[:2]
            value = _exact_harmonic(int(n.subs(_LAST, T - 1)), int(order))
            values[h] = sp.Rational(value.numerator, value.denominator)
        total = form.xreplace(values).subs(_LAST, T - 1)  # (nsimplify would split a huge Rational)
        if not total.is_Rational:
            raise NotImplementedError(f"the position sum {form} is not rational at T = {T}")
        out.append(Fraction(int(total.p), int(total.q)))
    return out


@disk_cached
def phase_counts(T: int, kind: str, rho: sp.Expr = DEFAULT_RHO) -> dict:
    """The exact rational factor of every entry of K (``kind="quadratic"``) or J (``"linear"``):
    {(partition, blocks): sum_{t=2}^{T-1} w_t #{(i, j) whose phases cancel}}, with w_t =
    1/rho_t^2 for K and 1/rho_t for J (rho_t = t - 1 unless an assumption changes it).
    Entries that vanish are left out.

    Its cost does not grow with T (up to the size of the exact harmonic numbers): each count
    is a quadratic polynomial in t from t = 16 on (:func:`_count_polynomial`), so the sum is
    a direct sum over t < 16 plus a closed form in T (harmonic numbers) of sum_t t^k / rho_t^p
    for k = 0, 1, 2 (:func:`_power_sums`). :func:`phase_counts_by_positions` is the direct
    sum over every position, kept as the independent route for tests (and as the fallback
    for a rho whose sums have no closed form).

    >>> counts = phase_counts(3, "linear")  # t = 2: E[conj(x_3) v_2], x_3 = lambda^2 x_1
    >>> counts[(0, 0, 0, 0), (0, 0, 1, 0)]  # i = 2, b on x_2: conj(l^2) l^1 conj(l^0) l^1
    Fraction(1, 1)
    """
    _check_length(T)
    power = 2 if kind == "quadratic" else 1
    weights = _weights(rho, range(2, min(T, _POLYNOMIAL_FROM)), power)
    try:
        tail = _power_sums(T, power, rho) if T - 1 >= _POLYNOMIAL_FROM else [Fraction(0)] * 3
    except NotImplementedError:
        return phase_counts_by_positions(T, kind, rho)

    tails: dict = {}  # few distinct polynomials: each big-number combination is formed once

    def total(system):
        equations, low_i, low_j = system
        has_j = kind == "quadratic"
        head = sum(w * _count_at(equations, low_i, low_j, t, has_j) for t, w in weights.items())
        if T - 1 < _POLYNOMIAL_FROM:
            return Fraction(head)
        polynomial = _count_polynomial(system, has_j)
        if polynomial not in tails:
            tails[polynomial] = sum(c * s for c, s in zip(polynomial, tail))
        return head + tails[polynomial]

    return _collect(kind, total)


# Harmonic numbers H_n^(k) with n past this stay symbols in :func:`phase_count_form`: exactly,
# H_n has ~0.43 n digits (its denominator is lcm(1..n)), so at T = 10^6 every count would be a
# rational of a million digits; below it the exact rational costs under a millisecond.
HARMONIC_EXACT_UNTIL = 2000

_HARMONIC_NAME = re.compile(r"H(\d+)_(\d+)")


def harmonic_symbol(n: int, order: int = 1) -> sp.Symbol:
    """The symbol that stands for H_n^(order) = sum_{k<=n} 1/k^order in a closed form.

    >>> harmonic_symbol(999998, 2)
    H2_999998
    """
    return sp.Symbol(f"H{order}_{n}", positive=True)


def harmonic_symbols_in(expr: sp.Expr) -> dict[sp.Symbol, tuple[int, int]]:
    """{symbol: (n, order)} for the harmonic-number symbols of :func:`harmonic_symbol` in expr."""
    out = {}
    for s in sp.sympify(expr).free_symbols:
        match = _HARMONIC_NAME.fullmatch(s.name)
        if match and s.is_positive:
            out[s] = (int(match.group(2)), int(match.group(1)))
    return out


def exact_harmonic(n: int, order: int = 1) -> sp.Rational:
    """H_n^(order) as an exact SymPy rational (binary splitting; minutes at n = 10^6)."""
    value = _exact_harmonic(n, order)
    return sp.Rational(value.numerator, value.denominator)


@functools.cache
def _tail_forms(T: int, power: int, rho: sp.Expr, exact_until: int) -> tuple[sp.Expr, ...]:
    """sum_{t=_POLYNOMIAL_FROM}^{T-1} t^k / rho_t^power for k = 0, 1, 2: the closed forms of
    :func:`_power_sum_form` at N = T - 1, each harmonic number exact up to ``exact_until``
    and a :func:`harmonic_symbol` past it, so each is a rational plus rationals times symbols."""
    out = []
    for k in range(3):
        form = _power_sum_form(k, power, rho)
        values = {}
        for h in form.atoms(sp.harmonic):
            n, order = (h.args + (sp.S.One,))[:2]
            n, order = int(n.subs(_LAST, T - 1)), int(order)
            values[h] = exact_harmonic(n, order) if n <= exact_until else harmonic_symbol(n, order)
        total = sp.expand(form.xreplace(values).subs(_LAST, T - 1))
        symbols = list(harmonic_symbols_in(total))
        poly = sp.Poly(total, *symbols) if symbols else None
        if (
            poly is not None and (poly.total_degree() > 1 or not all(c.is_Rational for c in poly.coeffs()))
        ) or (poly is None and not total.is_Rational):
            raise NotImplementedError(f"the position sum {form} is not rational in H_n at T = {T}")
        out.append(total)
    return tuple(out)


def vanishes_at_every_length(kind: str, key) -> bool:
    """Whether the entry ``key`` = (partition, blocks) of :func:`phase_counts` is 0 at every T:
    no (i, j) solves its phase system at any position t (directly for t < 16, by the exact
    polynomial of :func:`_count_polynomial` from there on)."""
    partition, blocks = key
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    system = _system(partition, blocks, slots)
    equations, low_i, low_j = system
    has_j = kind == "quadratic"
    head = any(_count_at(equations, low_i, low_j, t, has_j) for t in range(2, _POLYNOMIAL_FROM))
    return not head and not any(_count_polynomial(system, has_j))


@functools.cache
def _head(system, kind: str, T: int, rho: sp.Expr) -> Fraction:
    """sum_{t=2}^{min(T, _POLYNOMIAL_FROM) - 1} w_t count(t), directly."""
    equations, low_i, low_j = system
    weights = _head_weights(rho, min(T, _POLYNOMIAL_FROM), 2 if kind == "quadratic" else 1)
    return sum(
        (w * _count_at(equations, low_i, low_j, t, kind == "quadratic") for t, w in weights),
        Fraction(0),
    )


@functools.cache
def _head_weights(rho: sp.Expr, stop: int, power: int) -> tuple[tuple[int, Fraction], ...]:
    return tuple(_weights(rho, range(2, stop), power).items())


def phase_count_form(
    T: int,
    kind: str,
    key,
    rho: sp.Expr = DEFAULT_RHO,
    *,
    exact_until: int | None = None,
) -> sp.Expr:
    """One entry of :func:`phase_counts`, ``key`` = (partition, blocks), computed on its own
    and in closed form in T: an exact rational, plus (past T = ``exact_until`` + 2) rationals
    times the harmonic numbers H_{T-2}, H_{T-2}^(2) left as :func:`harmonic_symbol` symbols.
    Its cost does not depend on T at all; 0 for an entry that vanishes.

    Up to ``exact_until`` (default :data:`HARMONIC_EXACT_UNTIL`, read at each call) the value
    is the exact rational of :func:`phase_counts`; past it, substituting
    :func:`exact_harmonic` for the symbols gives that rational.

    >>> phase_count_form(10**6, "quadratic", ((0,) * 6, (0,) * 6))  # one coordinate, every x_i
    2*H1_999998 + H2_999998 + 999998
    """
    _check_length(T)
    if kind not in ("quadratic", "linear"):
        raise ValueError(f"kind is 'quadratic' or 'linear', got {kind!r}")
    until = HARMONIC_EXACT_UNTIL if exact_until is None else exact_until
    return _phase_count_form(T, kind, tuple(map(tuple, key)), sp.sympify(rho), until)


@functools.lru_cache(maxsize=1 << 16)
def _phase_count_form(T: int, kind: str, key, rho: sp.Expr, exact_until: int) -> sp.Expr:
    partition, blocks = key
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    system = _system(partition, blocks, slots)
    head = _head(system, kind, T, rho)
    total = sp.Rational(head.numerator, head.denominator)
    if T - 1 >= _POLYNOMIAL_FROM:
        try:
            tail = _tail_forms(T, 2 if kind == "quadratic" else 1, rho, exact_until)
        except NotImplementedError:  # no closed form for this rho: the exact entry
            count = phase_counts(T, kind, rho).get(key, 0)
            return sp.Rational(count.numerator, count.denominator) if count else sp.S.Zero
        polynomial = _count_polynomial(system, kind == "quadratic")
        total += sum(sp.Rational(c.numerator, c.denominator) * s for c, s in zip(polynomial, tail) if c)
    return sp.expand(total)


def phase_counts_by_positions(T: int, kind: str, rho: sp.Expr = DEFAULT_RHO) -> dict:
    """:func:`phase_counts` by the direct sum over every position t = 2..T-1 (cost ~ T)."""
    _check_length(T)
    power = 2 if kind == "quadratic" else 1
    weights = _weights(rho, range(2, T), power)

    def total(system):
        equations, low_i, low_j = system
        return sum(
            (w * _count_at(equations, low_i, low_j, t, kind == "quadratic") for t, w in weights.items()),
            Fraction(0),
        )

    return _collect(kind, total)


def _check_length(T) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T < 3:
        raise ValueError(f"the sequence length T must be an integer >= 3, got {T!r}")


def _weights(rho: sp.Expr, positions, power: int) -> dict[int, Fraction]:
    """{t: 1/rho_t^power} exactly; rho_t must be a non-zero rational."""
    out = {}
    rho = sp.sympify(rho)
    polynomial = _rational_polynomial(rho)
    for position_t in positions:
        if polynomial is not None:  # exact integer arithmetic: ~50x faster than subs at T = 10^4
            integers, denominator = polynomial
            value = Fraction(sum(c * position_t**k for k, c in enumerate(integers)), denominator)
        else:
            value = rho.subs(position, position_t)
            value = Fraction(int(value.p), int(value.q)) if value.is_Rational else None
        if not value:
            shown = rho.subs(position, position_t)
            raise ValueError(
                f"rho_t must be a non-zero rational at every t = 2..T-1; rho_{position_t} = {shown}"
            )
        out[position_t] = 1 / value**power
    return out


def _rational_polynomial(rho: sp.Expr) -> tuple[list[int], int] | None:
    """rho's coefficients in t (lowest first) as integers over one denominator, if it is a
    polynomial in t with rational coefficients; else None."""
    try:
        coefficients = sp.Poly(rho, position).all_coeffs()[::-1]
    except sp.PolynomialError:
        return None
    if not all(c.is_Rational for c in coefficients):
        return None
    denominator = math.lcm(*(int(c.q) for c in coefficients))
    return [int(c.p) * (denominator // int(c.q)) for c in coefficients], denominator


@functools.cache
def _partitions(n: int) -> tuple[tuple[int, ...], ...]:
    """Every set partition of n slots as its restricted growth string, in sorted order (the
    same set as ``set_partition`` over all n^n labellings, without enumerating them).

    >>> _partitions(3)
    ((0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 1, 2))
    """
    out = [()]
    for _ in range(n):
        out = [p + (k,) for p in out for k in range(max(p, default=-1) + 2)]
    return tuple(sorted(out))


def _collect(kind: str, total) -> dict:
    """{(partition, blocks): total(system)} over every slot partition and block choice, each
    distinct phase system summed once; zero entries left out."""
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    n = len(slots)
    partitions = _partitions(n)
    memo: dict = {}
    out = {}
    for partition in partitions:
        for blocks in itertools.product((0, 1), repeat=n):
            if kind == "linear" and blocks[0]:
                continue  # the target x_{t+1} has no block
            system = _system(partition, blocks, slots)
            if system not in memo:
                memo[system] = total(system)
            if memo[system]:
                out[partition, blocks] = memo[system]
    return out


def slot_moment(law: Distribution, coordinates, slots) -> sp.Expr:
    """E over x_1 of the product of x_k (or conj(x_k) for a conjugated slot) over the slots."""
    alpha, beta = [0] * law.d, [0] * law.d
    for k, (_, sign) in zip(coordinates, slots):
        (alpha if sign > 0 else beta)[k] += 1
    return law.moment(tuple(alpha), tuple(beta))


def _split(index: int, d: int) -> tuple[int, int]:
    """An embedding index 0..2d-1 as (coordinate, block)."""
    return index % d, index // d


def quadratic_coefficient(setting, T: int, row, column, *, closed_form: bool = False) -> sp.Expr:
    """K[(c, a, b), (c', a', b')] exactly, for embedding indices in 0..2d-1, under a setting
    (or the paper's setting for a bare law). ``closed_form``: the paper's process takes its
    count from :func:`phase_count_form` (one entry, cost independent of T; past T = 2002 it
    holds harmonic-number symbols) instead of the table of every entry."""
    from .setting import as_setting

    setting = as_setting(setting)
    coordinates, blocks = zip(*(_split(k, setting.d) for k in (*row, *column)))
    key = (set_partition(coordinates), blocks)
    count = _count(setting, T, "quadratic", key, closed_form)
    return _entry(setting, T, "quadratic", key, count, coordinates, QUADRATIC_SLOTS)


def linear_coefficient(setting, T: int, r: int, column, *, closed_form: bool = False) -> sp.Expr:
    """J_r[c, a, b] exactly, under a setting (or the paper's setting for a bare law);
    ``closed_form`` as in :func:`quadratic_coefficient`."""
    from .setting import as_setting

    setting = as_setting(setting)
    coordinates, blocks = zip(*((r, 0), *(_split(k, setting.d) for k in column)))
    key = (set_partition(coordinates), blocks)
    count = _count(setting, T, "linear", key, closed_form)
    return _entry(setting, T, "linear", key, count, coordinates, LINEAR_SLOTS)


def _count(setting, T: int, kind: str, key, closed_form: bool):
    from .process_counts import setting_counts

    if closed_form and setting.is_paper_process and not setting.noise.present:
        return phase_count_form(T, kind, key, setting.rho)
    return setting_counts(setting, T, kind).get(key)


def _entry(setting, T: int, kind: str, key, count, coordinates, slots) -> sp.Expr:
    """One entry of K or J: the x_1 term (count times the moment over every slot) plus, with
    noise, each noise term s^|nu| times its rational times the moment over the other slots
    (:mod:`mesacheck.symbolic.noise_counts`)."""
    from .noise_counts import noise_counts, noise_weights

    law = setting.law
    if isinstance(count, Fraction):
        count = sp.Rational(count.numerator, count.denominator)
    total = count * slot_moment(law, coordinates, slots) if count else sp.S.Zero
    for noise_slots, weight in noise_weights(
        setting.noise, noise_counts(setting, T, kind).get(key, {})
    ).items():
        keep = [a for a in range(len(slots)) if a not in noise_slots]
        total += weight * slot_moment(law, [coordinates[a] for a in keep], [slots[a] for a in keep])
    return total


def target_moment(setting, T: int) -> sp.Expr:
    """sum_t omega_t E||x_{t+1}||^2 exactly: the loss's constant is half of it."""
    from .noise_counts import noise_target_weight
    from .process_counts import target_weight
    from .setting import as_setting

    setting = as_setting(setting)
    law = setting.law
    second = sum(law.moment(*_unit(law.d, k)) for k in range(law.d))
    signal, noise = target_weight(setting, T), noise_target_weight(setting, T)
    total = sp.Rational(signal.numerator, signal.denominator) * second
    if noise:
        total += sp.Rational(noise.numerator, noise.denominator) * setting.noise.second_moment * law.d
    return total


def full_parameters(d: int) -> tuple[sp.Matrix, sp.Matrix]:
    """W^KQ (2d x 2d) and W^PV (d x 2d) with complex symbol entries Q_ab and P_rc."""
    Q = sp.Matrix(2 * d, 2 * d, lambda a, b: sp.Symbol(f"Q_{a + 1}_{b + 1}", complex=True))
    P = sp.Matrix(d, 2 * d, lambda r, c: sp.Symbol(f"P_{r + 1}_{c + 1}", complex=True))
    return Q, P


def full_population_loss(setting, T: int, W_KQ: sp.Matrix, W_PV: sp.Matrix) -> sp.Expr:
    """The exact population loss at given matrices (symbols or numbers), for a given T, under a
    setting (or the paper's setting for a bare law).

    Built from K and J entry by entry, grouping the entries of z by their value, so it is
    meant for small d or for structured matrices (few distinct entries);
    :mod:`mesacheck.numeric.bridge` assembles the same coefficients as arrays for fast numerics.
    """
    from .setting import as_setting

    setting = as_setting(setting)
    d, n = setting.d, 2 * setting.d
    if W_KQ.shape != (n, n) or W_PV.shape != (d, n):
        raise ValueError(f"need W^KQ {n} x {n} and W^PV {d} x {n} for d = {d}")
    support = [(a, b) for a in range(n) for b in range(n) if W_KQ[a, b] != 0]
    quadratic: dict = {}
    linear: dict = {}
    for r in range(d):
        zr = {(c, a, b): W_PV[r, c] * W_KQ[a, b] for c in range(n) if W_PV[r, c] != 0 for a, b in support}
        for row, zrow in zr.items():
            coefficient = linear_coefficient(setting, T, r, row)
            if coefficient != 0:
                linear[zrow] = linear.get(zrow, 0) + coefficient
            for column, zcol in zr.items():
                coefficient = quadratic_coefficient(setting, T, row, column)
                if coefficient != 0:
                    quadratic[zrow, zcol] = quadratic.get((zrow, zcol), 0) + coefficient
    loss = target_moment(setting, T) / 2
    loss += sum(sp.conjugate(u) * coefficient * v for (u, v), coefficient in quadratic.items()) / 2
    loss -= sum(sp.re(coefficient * u) for u, coefficient in linear.items())
    return loss


def _unit(d: int, k: int) -> tuple[tuple, tuple]:
    alpha = tuple(1 if m == k else 0 for m in range(d))
    return alpha, alpha
