"""Exact averages over W for every setting: the rational factors of the full model's K and J.

Each entry of K and J (:mod:`mesacheck.symbolic.full_model`) is one moment of x_1 times

    c = sum_t omega_t / rho_t^k  sum_{(i, j)} prod_classes E[lambda^n_c conj(lambda)^m_c],

k = 2 for K and 1 for J, where the exponents n_c, m_c of each coordinate class are affine in
the positions (i, j, t). For the laws of :class:`mesacheck.symbolic.setting.PhaseLaw`:

* circle of radius r: E[lambda^n conj(lambda)^m] = r^(n+m) [n = m]. The solutions of the
  equations n_c = m_c are a box, a line or a point of the (i, j) box, and on them the modulus
  r^(sum over slots) = q^(i + j + t + const) with q = r^2, a geometric sum in closed form;
* N-th roots of unity: [n_c = m_c mod N], counted by residue classes;
* a random modulus rho with uniform phase: mu(n_c) [n_c = m_c], mu(k) = E rho^(2k). The
  product over classes no longer depends on the total exponent alone, so each class's exponent
  n_c is kept; on the solutions each is k_i i + k_j j + const with k_i, k_j in {0, 1} (K has
  one plain x_i and one plain x_j), so a box sums with prefix sums of mu in O(1).

The sum over t is then a finite exact sum (no closed form exists for r < 1: sum_t q^t / (t-1)^2
is a partial Lerch sum), done in exact rationals, for every finite T. The paper's process (unit
circle, every position) keeps the closed form in T of :func:`mesacheck.symbolic.full_model.phase_counts`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ._cache import disk_cached
from .paper_counts import phase_counts
from .position_sums import as_number, rho_shift, weighted_power_sum
from .positions import check_length
from .setting import NO_NOISE, Setting
from .slots import HAS_J, SLOTS, WEIGHT_POWER, check_kind, entries

__all__ = [
    "setting_counts",
    "setting_counts_by_positions",
    "fitted_setting_counts",
    "fitted_route_applies",
    "closed_form_in_T",
    "target_weight",
    "brute_force_count",
]


def setting_counts(setting: Setting, T: int, kind: str) -> dict:
    """{(partition, blocks): exact rational} for K (``kind="quadratic"``) or J (``"linear"``)
    under ``setting``, the same contract as :func:`mesacheck.symbolic.full_model.phase_counts`. With
    noise this is the term in which every slot takes x_1; the noise terms are
    :func:`mesacheck.symbolic.noise_counts.noise_counts`.

    >>> from mesacheck.symbolic.moments import gaussian
    >>> from mesacheck.symbolic.setting import Setting, roots_of_unity
    >>> paper = setting_counts(Setting(gaussian(2)), 4, "linear")
    >>> paper == phase_counts(4, "linear")
    True
    >>> real = setting_counts(Setting(gaussian(2), roots_of_unity(2)), 4, "linear")
    >>> len(real) > len(paper)  # more exponent patterns average to 1 on {+1, -1}
    True
    """
    check_length(T)
    check_kind(kind)
    if setting.noise.present:  # the x_1 term; the noise terms are mesacheck.symbolic.noise_counts
        setting = dataclasses.replace(setting, noise=NO_NOISE)
    if setting.is_paper_process:
        if T > _PAPER_EXACT_UNTIL and fitted_route_applies(setting):  # exact harmonic numbers grow with T
            return _setting_counts(setting, T, kind)
        return phase_counts(T, kind, setting.rho)
    phases = setting.phases
    if not phases.symmetric_phase or (phases.phase_period and phases.modulus_moment(1) != 1):
        return _counts_by_averages(setting, T, kind)  # a law that states its averages alone
    if not phases.fixed_modulus:
        return _modulus_counts(setting, T, kind)
    return _setting_counts(setting, T, kind)


# past this T the paper's counts hold their sums over positions as unevaluated exact numbers
# (the harmonic numbers' HARMONIC_EXACT_UNTIL + 2): exact rationals would grow with T
_PAPER_EXACT_UNTIL = 2002
_BY_AVERAGES_MAX_T = 40  # ~30 s for K: the enumeration of every position grows like T^3


@disk_cached(key=lambda setting, T, kind: (setting.process_identity, T, kind))
def _counts_by_averages(setting: Setting, T: int, kind: str) -> dict:
    """The counts from the law's :meth:`~mesacheck.symbolic.setting.PhaseLaw.average` alone:
    every position (t, i, j) enumerated, each coordinate class's exponents (n_c, m_c) read off
    its slots and the averages multiplied, in exact rationals. The route of a law with no
    structure the others use (its cost grows like T^3 times the distinct exponent patterns:
    for small T)."""
    phases, has_j = setting.phases, HAS_J[kind]
    if T > _BY_AVERAGES_MAX_T:
        raise NotImplementedError(
            f"the exact averages of {phases.describe()} enumerate every position (t, i, j), computed for "
            f"T <= {_BY_AVERAGES_MAX_T} (~3 s at T = 20, growing like T^3), not T = {T}; "
            "the quadrature and the simulator take longer sequences"
        )
    weights = setting.loss_weights(T, WEIGHT_POWER[kind])
    top = 3 * T + 2  # no class exponent exceeds three positions' worth
    table = [[phases.average(n, m) for m in range(top + 1)] for n in range(top + 1)]
    for row in table:
        for value in row:
            if not sp.sympify(value).is_Rational:
                raise ValueError(f"the averages of {phases.describe()} must be rational, got {value}")
    if table[0][0] != 1:
        raise ValueError(f"{phases.describe()}: E[lambda^0] must be 1, got {table[0][0]}")
    D = math.lcm(*(int(sp.sympify(v).q) for row in table for v in row))
    # every average as an integer over D: the products stay exact Python integers, taken by numpy
    averages = np.array([[int(sp.sympify(v) * D) for v in row] for row in table], dtype=object)
    L = math.lcm(*(w.denominator for w in weights.values()))
    rows = [
        (t, i, j, w)
        for t, w in weights.items()
        for i in range(1, t + 1)
        for j in (range(1, t + 1) if has_j else (1,))
    ]
    t_, i_, j_ = (np.array([r[k] for r in rows]) for k in range(3))
    scaled = np.array([r[3].numerator * (L // r[3].denominator) for r in rows], dtype=object)
    out = {}
    for (low_i, low_j), (forms, keys) in _exponent_arrays(kind).items():
        keep = (i_ >= low_i) & (j_ >= low_j)
        position = np.stack([i_[keep], j_[keep], t_[keep], np.ones(int(keep.sum()), dtype=int)])
        weight = scaled[keep]
        # patterns in blocks, each (patterns, classes, positions) of ~10^6 averages at most
        step = max(1, 10**6 // (forms.shape[1] * max(1, position.shape[1])))
        for start in range(0, len(forms), step):
            block = forms[start : start + step]
            n, m = block[:, :, 0] @ position, block[:, :, 1] @ position
            totals = (averages[n, m].prod(axis=1) * weight).sum(axis=1)
            for k, total in enumerate(totals):
                if total:  # a padded class multiplies by E[lambda^0] D = D: one D per column
                    value = Fraction(int(total), L * D ** forms.shape[1])
                    out.update(dict.fromkeys(keys[start + k], value))
    return out


@functools.cache
def _exponent_arrays(kind: str) -> dict:
    """{(low_i, low_j): (forms, keys)}: the exponent patterns of :func:`_exponent_patterns` as
    one integer array per bound, (patterns, 6, 2, 4), each class's plain and conjugated exponent
    coefficients of (i, j, t, 1), padded with zero classes (average E[lambda^0] = 1)."""
    grouped: dict = {}
    for (forms, low_i, low_j), keys in _exponent_patterns(kind).items():
        padded = list(forms) + [((0,) * 4, (0,) * 4)] * (len(SLOTS[kind]) - len(forms))
        grouped.setdefault((low_i, low_j), ([], []))
        grouped[low_i, low_j][0].append(padded)
        grouped[low_i, low_j][1].append(keys)
    return {bounds: (np.array(forms, dtype=np.int64), keys) for bounds, (forms, keys) in grouped.items()}


@functools.cache
def _exponent_patterns(kind: str) -> dict:
    """{(each class's (plain, conjugated) exponent as coefficients of (i, j, t, 1), low_i, low_j):
    the entries (partition, blocks) with that pattern}: the same for every law."""
    patterns: dict = {}
    for partition, blocks, (_, low_i, low_j), _ in entries(kind):
        forms = {}
        for (time, sign), block, label in zip(SLOTS[kind], blocks, partition):
            form = (0, 0, 1, 0) if time == "target" else tuple(int(time == v) for v in "ijt") + (-1 - block,)
            plain, conjugated = forms.get(label, ((0,) * 4, (0,) * 4))
            if sign > 0:
                plain = tuple(a + b for a, b in zip(plain, form))
            else:
                conjugated = tuple(a + b for a, b in zip(conjugated, form))
            forms[label] = (plain, conjugated)
        patterns.setdefault((tuple(sorted(forms.values())), low_i, low_j), []).append((partition, blocks))
    return patterns


@disk_cached(key=lambda setting, T, kind: (setting.process_identity, T, kind))  # not the law of x_1
def _setting_counts(setting: Setting, T: int, kind: str) -> dict:
    fitted = fitted_setting_counts(setting, T, kind)
    if fitted is not None:
        return fitted
    return setting_counts_by_positions(setting, T, kind)


def setting_counts_by_positions(setting: Setting, T: int, kind: str) -> dict:
    """:func:`setting_counts` of a fixed-modulus law by the finite exact sum over every trained
    position t (the solutions at each t enumerated): cost ~ T^2 for the entries whose solutions
    lie on a line. The reference for :func:`fitted_setting_counts` and the route of the settings
    it does not take."""
    weights = setting.loss_weights(T, WEIGHT_POWER[kind])
    # exact integer arithmetic throughout: w_t = W_t / L, q^k = a^k b^(M-k) / b^M
    L = math.lcm(*(w.denominator for w in weights.values()))
    scaled = {t: w.numerator * (L // w.denominator) for t, w in weights.items()}
    powers = _ScaledPowers(setting.phases.modulus_squared, 3 * T + 2)
    memo: dict = {}
    out = {}
    for partition, blocks, system, shift in entries(kind):
        if (system, shift) not in memo:
            equations, low_i, low_j = system
            has_j = HAS_J[kind]
            numerator = _weighted_sum(setting.phases, powers, system, shift, scaled, has_j)
            memo[system, shift] = Fraction(numerator, L * powers.denominator)
        if memo[system, shift]:
            out[partition, blocks] = memo[system, shift]
    return out


class _ScaledPowers:
    """q^k for 0 <= k <= M as integers over one denominator b^M (q = a / b), with the prefix
    sums that give a geometric sum over a box of (i, j) in O(1)."""

    def __init__(self, q: Fraction, M: int):
        a, b = q.numerator, q.denominator
        self.unit = a == b
        self.denominator = 1 if self.unit else b**M
        values = [1] * (M + 1) if self.unit else [a**k * b ** (M - k) for k in range(M + 1)]
        self.value = values
        self.prefix = list(itertools.accumulate(values, initial=0))  # prefix[k] = sum_{m<k}
        self.prefix2 = list(itertools.accumulate(self.prefix, initial=0))

    def box(self, offset: int, i_low: int, i_high: int, j_low: int, j_high: int) -> int:
        """sum over the box of q^(offset + i + j), scaled by b^M (offset + i + j >= 0 on it)."""
        P2 = self.prefix2  # sum_i prefix[offset+i+j_high+1] - prefix[offset+i+j_low]
        high = P2[offset + i_high + j_high + 2] - P2[offset + i_low + j_high + 1]
        low = P2[offset + i_high + j_low + 1] - P2[offset + i_low + j_low]
        return high - low


@disk_cached(key=lambda setting, T, kind: (setting.process_identity, T, kind))
def _modulus_counts(setting: Setting, T: int, kind: str) -> dict:
    """The counts under a random modulus: sum_t w_t sum over the solutions (i, j) of
    prod_classes mu(n_c(i, j, t)), in exact integers over one denominator."""
    weights = setting.loss_weights(T, WEIGHT_POWER[kind])
    L = math.lcm(*(w.denominator for w in weights.values()))
    scaled = {t: w.numerator * (L // w.denominator) for t, w in weights.items()}
    setting.phases.check_moments(3 * T + 2)
    mu = _ScaledMoments(setting.phases, 3 * T + 2)
    slots = SLOTS[kind]
    has_j = HAS_J[kind]
    by_system: dict = {}  # the solution boxes depend on the system only: found once per (system, t)
    for partition, blocks, system, _ in entries(kind):
        by_system.setdefault(system, {}).setdefault(_class_forms(partition, blocks, slots), []).append(
            (partition, blocks)
        )
    out = {}
    for (equations, low_i, low_j), groups in by_system.items():
        numerators = dict.fromkeys(groups, 0)
        for t, W in scaled.items():
            boxes = _solution_boxes(equations, low_i, low_j, t, has_j)
            for forms in groups if boxes else ():
                numerators[forms] += W * sum(mu.box(forms, t, *box) for box in boxes)
        for forms, keys in groups.items():
            if numerators[forms]:
                value = Fraction(numerators[forms], L * mu.denominator ** len(forms))
                out.update(dict.fromkeys(keys, value))
    return out


def _class_forms(partition, blocks, slots) -> tuple:
    """The modulus exponent n_c of each coordinate class (the powers of its plain slots) as
    (k_i, k_j, k_t, constant), sorted: the product over classes does not depend on their order."""
    forms: dict = {}
    for (time, sign), block, label in zip(slots, blocks, partition):
        if sign < 0:
            continue
        row = forms.setdefault(label, [0, 0, 0, 0])
        if time == "target":
            row[2] += 1
        else:
            row["ijt".index(time)] += 1
            row[3] -= 1 + block
    return tuple(sorted(tuple(row) for row in forms.values()))


class _ScaledMoments:
    """mu(k) = E rho^(2k) for 0 <= k <= M as integers over one denominator D, with the prefix
    sums that sum mu(i + c) over a range of i, and mu(i + j + c) over a box, in O(1)."""

    def __init__(self, phases, M: int):
        values = phases.modulus_moments(M)
        self.denominator = math.lcm(*(v.denominator for v in values))
        self.value = [v.numerator * (self.denominator // v.denominator) for v in values]
        self.prefix = list(itertools.accumulate(self.value, initial=0))  # prefix[k] = sum_{m<k}
        self.prefix2 = list(itertools.accumulate(self.prefix, initial=0))

    def box(self, forms, t: int, i_low: int, i_high: int, j_low: int, j_high: int) -> int:
        """sum over the box of prod_classes mu(n_c), scaled by D^(number of classes)."""
        P, P2 = self.prefix, self.prefix2
        free, product = [], 1
        for ki, kj, kt, c in forms:
            constant = (
                kt * t + c + (ki * i_low if i_low == i_high else 0) + (kj * j_low if j_low == j_high else 0)
            )
            varies_i, varies_j = ki and i_low != i_high, kj and j_low != j_high
            if not (varies_i or varies_j):
                product *= self.value[constant]
            elif varies_i and varies_j:  # sum_{i, j} mu(i + j + c)
                product *= (P2[constant + i_high + j_high + 2] - P2[constant + i_low + j_high + 1]) - (
                    P2[constant + i_high + j_low + 1] - P2[constant + i_low + j_low]
                )
                free += ["i", "j"]
            else:
                low, high = (i_low, i_high) if varies_i else (j_low, j_high)
                product *= P[constant + high + 1] - P[constant + low]
                free.append("i" if varies_i else "j")
        if "i" not in free:
            product *= i_high - i_low + 1
        if "j" not in free:
            product *= j_high - j_low + 1
        return product


def target_weight(setting: Setting, T: int):
    """sum_t omega_t E|lambda|^(2t): the constant of the loss is 1/2 of it times E||x_1||^2
    (plus, with noise, :func:`mesacheck.symbolic.noise_counts.noise_target_weight` s^2 d / 2).
    A fixed modulus q = |lambda|^2 with the loss at every position or the last: the geometric
    sum as a progression sum (exact, unevaluated past ~2000 positions)."""
    phases = setting.phases
    if phases.fixed_modulus and setting.positions in ("all", "last"):
        low = 2 if setting.positions == "all" else T - 1
        return as_number(weighted_power_sum(0, phases.modulus_squared, 1, 0, 0, 0, low, T - 1))
    return sum(omega * setting.phases.modulus_moment(t) for t, omega in setting.position_weights(T).items())


def _weighted_sum(phases, powers, system, shift, scaled: dict, has_j: bool) -> int:
    """sum_t W_t (the average over the solutions at t, scaled), over the trained positions."""
    equations, low_i, low_j = system
    if not phases.phase_period or len(scaled) < 8 * phases.phase_period:  # few t a class: numpy costs more
        return sum(
            W * _average_at(phases, powers, equations, low_i, low_j, t, has_j, shift)
            for t, W in scaled.items()
        )
    # roots of unity: a count of residues, for every t of a class mod N at once (numpy, int64:
    # counts <= T^2); the rest, where N > 6 t + 6, one t at a time as above
    many = np.array([t for t in scaled if phases.phase_period <= 6 * t + 6], dtype=np.int64)
    counts = _roots_counts(equations, low_i, low_j, many, has_j, phases.phase_period) if len(many) else []
    total = sum(scaled[int(t)] * int(c) for t, c in zip(many, counts) if c)
    taken = set(many.tolist())
    few = [t for t in scaled if t not in taken]
    return total + sum(
        scaled[t] * _average_at(phases, powers, equations, low_i, low_j, t, has_j, shift) for t in few
    )


def _roots_counts(equations, low_i, low_j, ts: np.ndarray, has_j: bool, N: int) -> np.ndarray:
    """:func:`_roots_count` at every t of ``ts`` at once: the residues (r_i, r_j) that solve
    the equations depend on t only through t mod N, and the number of i in [low_i, t] (j in
    [low_j, t]) with a given residue is a difference of floors."""
    out = np.zeros(len(ts), dtype=np.int64)

    def in_class(low, high, residue):  # #{k in [low, high] : k = residue mod N}, 0 if empty
        count = (high - residue) // N - (low - 1 - residue) // N
        return np.where(high >= low, count, 0)

    for tau in range(N):
        where = np.flatnonzero(ts % N == tau)
        if not len(where):
            continue
        t = ts[where]
        high_j = t if has_j else np.full_like(t, low_j)
        rows = tuple((ci % N, cj % N, -(ct * tau + c0) % N) for ci, cj, ct, c0 in equations)
        total = np.zeros(len(t), dtype=np.int64)
        for ri in range(N):
            residues = _j_residues(rows, ri, N)
            if residues == ():
                continue
            n_i = in_class(low_i, t, ri)
            if residues is None:
                total += n_i * np.maximum(high_j - low_j + 1, 0)
                continue
            for rj in residues:
                total += n_i * in_class(low_j, high_j, rj)
        out[where] = np.where(t >= low_i, total, 0)
    return out


def _average_at(phases, powers, equations, low_i, low_j, t, has_j, shift) -> int:
    """sum over (i, j) in [low_i, t] x [low_j, t or low_j] of prod_classes E[lambda^n conj
    lambda^m], scaled by ``powers.denominator``."""
    if 0 < phases.phase_period <= 6 * t + 6:  # beyond, n = m mod N forces n = m
        return _roots_count(equations, low_i, low_j, t, has_j, phases.phase_period)
    half, odd = divmod(2 * t + shift, 2)
    total = 0
    for i_low, i_high, j_low, j_high in _solution_boxes(equations, low_i, low_j, t, has_j):
        if powers.unit:
            total += (i_high - i_low + 1) * (j_high - j_low + 1)
        elif odd:  # cannot happen on a solution: the exponents of a solution pair up
            raise ArithmeticError("odd modulus exponent on a solution of the phase equations")
        elif i_low == i_high and j_low == j_high:
            total += powers.value[half + i_low + (j_low if has_j else 0)]
        else:  # J has no j: its modulus exponent is 2i + 2t + shift
            total += powers.box(half, i_low, i_high, *((j_low, j_high) if has_j else (0, 0)))
    return total


def _solution_boxes(equations, low_i, low_j, t, has_j):
    """The solutions (i, j) of every equation ci i + cj j + ct t + c0 = 0 in the box, as a list
    of sub-boxes (i_low, i_high, j_low, j_high): the whole box, a row, a column or points."""
    high_j = t if has_j else low_j
    if t < low_i or high_j < low_j:
        return []
    rows = []
    for ci, cj, ct, c0 in equations:
        rhs = -(ct * t + c0)
        if ci == 0 and cj == 0:
            if rhs:
                return []
        else:
            rows.append((ci, cj, rhs))
    i_range, j_range = (low_i, t), (low_j, high_j)
    # first the rows that fix one index alone
    for ci, cj, rhs in rows:
        if cj == 0 or ci == 0:
            coefficient, current = (ci, i_range) if cj == 0 else (cj, j_range)
            if rhs % coefficient:
                return []
            value = rhs // coefficient
            if not current[0] <= value <= current[1]:
                return []
            if cj == 0:
                i_range = (value, value)
            else:
                j_range = (value, value)
    coupled = [(ci, cj, rhs) for ci, cj, rhs in rows if ci and cj]
    if not coupled:
        for ci, cj, rhs in rows:  # re-check the single-index rows on the narrowed ranges
            if ci * i_range[0] + cj * j_range[0] != rhs:
                return []
        return [(*i_range, *j_range)]
    ci, cj, rhs = coupled[0]
    boxes = []
    for j in range(j_range[0], j_range[1] + 1):
        if (rhs - cj * j) % ci:
            continue
        i = (rhs - cj * j) // ci
        if i_range[0] <= i <= i_range[1] and all(a * i + b * j == r for a, b, r in rows):
            boxes.append((i, i, j, j))
    return boxes


def _in_class(low: int, high: int, residue: int, N: int) -> int:
    """#{k in [low, high] : k = residue mod N}."""
    return (high - residue) // N - (low - 1 - residue) // N if high >= low else 0


def _roots_count(equations, low_i, low_j, t, has_j, N) -> int:
    """#{(i, j) in the box : ci i + cj j + ct t + c0 = 0 mod N for every equation}."""
    high_j = t if has_j else low_j
    if t < low_i or high_j < low_j:
        return 0
    rows = tuple((ci % N, cj % N, -(ct * t + c0) % N) for ci, cj, ct, c0 in equations)
    total = 0
    for ri in range(N):
        n_i = _in_class(low_i, t, ri, N)
        if not n_i:
            continue
        residues = _j_residues(rows, ri, N)
        if residues is None:
            total += n_i * (high_j - low_j + 1)
        else:
            total += sum(n_i * _in_class(low_j, high_j, rj, N) for rj in residues)
    return total


@functools.lru_cache(maxsize=2**16)  # the same rows recur at every t of a residue class
def _j_residues(rows: tuple, ri: int, N: int) -> tuple[int, ...] | None:
    """The residues r_j mod N that solve every row ci r_i + cj r_j = rhs (mod N) at this r_i:
    None when every r_j does (no row involves j), () when none does."""
    rests = [(cj, (rhs - ci * ri) % N) for ci, cj, rhs in rows]
    if any(cj == 0 and rest for cj, rest in rests):
        return ()
    fixing = [(cj, rest) for cj, rest in rests if cj]
    if not fixing:
        return None
    cj, rest = fixing[0]
    g = math.gcd(cj, N)
    if rest % g:
        return ()
    step = N // g
    base = (rest // g) * pow(cj // g, -1, step) % step if step > 1 else 0
    return tuple(rj for rj in range(base, N, step) if all((b * rj - r) % N == 0 for b, r in fixing))


def brute_force_count(setting: Setting, T: int, kind: str, partition, blocks) -> Fraction:
    """The same rational by direct enumeration of every (t, i, j) and the phase law's own
    :meth:`~mesacheck.symbolic.setting.PhaseLaw.average` per coordinate class: slow, independent of the
    solution-set algebra above, for tests at small T."""
    slots = SLOTS[kind]
    weights = setting.loss_weights(T, WEIGHT_POWER[kind])
    total = Fraction(0)
    for t, w in weights.items():
        for i in range(1, t + 1):
            for j in range(1, t + 1) if HAS_J[kind] else (1,):
                times = {"i": i, "j": j, "t": t}
                exponents: dict = {}
                skip = False
                for (time, sign), block, label in zip(slots, blocks, partition):
                    power = t if time == "target" else times[time] - 1 - block
                    if power < 0:  # e_1 has no previous token: x_0 = 0
                        skip = True
                    n, m = exponents.get(label, (0, 0))
                    exponents[label] = (n + power, m) if sign > 0 else (n, m + power)
                if skip:
                    continue
                value = Fraction(1)
                for n, m in exponents.values():
                    average = setting.phases.average(n, m)
                    value *= Fraction(int(average.p), int(average.q))
                total += w * value
    return total


# ---------------------------------------------------------------------------------------------
# The fitted route: each count in closed form in T (eq-progression-sum), at a cost independent of T

_FIT_FROM = 16  # POLYNOMIAL_FROM: past it the solution sets keep their shape (boxes, rows, lines)
_FIT_CHECKS = 8  # positions past the fit (per residue class: 2) where the fitted form must hold exactly
_FIT_MAX_PERIOD = 64  # roots:N past this: the fit needs ~5N positions per system, so not taken


def _last_fit_position(q: Fraction, N: int) -> int:
    """The last position :class:`_Family` (q, N) fits or checks on, without building it (its
    integers grow with the bits of q: a guard must read this first)."""
    if N:  # residue classes from max(_FIT_FROM, N) on, 3 fit and 2 check positions each
        return max(_FIT_FROM, N) + 5 * N - 1
    basis = 3 if q == 1 else 6
    return _FIT_FROM + basis - 1 + _FIT_CHECKS


class _Family:
    """The functions of t that a count is fitted on, in groups fitted separately, each with its
    fit positions and check positions. Everything is in integers: phi_b(t) = t^a q^(k t) is
    ``integer(b, t) / E`` and each group's inverse matrix is an integer matrix over ``D``."""

    def __init__(self, q: Fraction, N: int):
        self.q, self.N = q, N
        groups = []
        if N:  # t^a on each residue class of t mod N
            start = max(_FIT_FROM, N)
            for residue in range(N):
                first = start + (residue - start) % N
                fit = [first + N * m for m in range(3)]
                check = [first + N * m for m in range(3, 5)]
                groups.append(([(a, 0, residue) for a in range(3)], fit, check))
        else:  # the unit circle: a polynomial of degree <= 2; r < 1: t^a q^(k t), k = 1, 2, 3
            basis = (
                [(a, 0, 0) for a in range(3)] if q == 1 else [(a, k, 0) for k in (1, 2, 3) for a in (0, 1)]
            )
            fit = [_FIT_FROM + m for m in range(len(basis))]
            groups.append((basis, fit, [fit[-1] + 1 + m for m in range(_FIT_CHECKS)]))
        self.last = max(max(check) for _, _, check in groups)
        self.top = 3 * self.last  # E = b^top, b the denominator of q
        self.E = q.denominator**self.top
        self.groups = []
        for basis, fit, check in groups:
            inverse = _inverse([[self.integer(b, t) for b in basis] for t in fit])
            D = math.lcm(*(v.denominator for row in inverse for v in row))
            rows = [[int(v * D) for v in row] for row in inverse]
            self.groups.append((basis, fit, check, rows, D))
        self.D = math.lcm(*(D for *_, D in self.groups))
        self.positions = sorted({t for _, fit, check, _, _ in self.groups for t in (*fit, *check)})

    def integer(self, b, t: int) -> int:
        """phi_b(t) E: t^a q^(k t) b^top."""
        a, k, _ = b
        return t**a * self.q.numerator ** (k * t) * self.q.denominator ** (self.top - k * t)

    def fit(self, count: dict) -> dict | None:
        """{basis function: n_b} with count(t) = sum_b n_b phi_b(t) E / self.D past _FIT_FROM,
        for ``count`` {t: integer} (the count times one common denominator), or None when the
        fitted form misses a check position."""
        out = {}
        for basis, fit, check, rows, D in self.groups:
            scale = self.D // D
            numerators = [scale * sum(r * count[t] for r, t in zip(row, fit)) for row in rows]
            for t in check:
                if sum(n * self.integer(b, t) for n, b in zip(numerators, basis) if n) != self.D * count[t]:
                    return None
            out.update({b: n for b, n in zip(basis, numerators) if n})
        return out


def _inverse(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """The exact inverse of a small square matrix (Gauss-Jordan over the rationals)."""
    n = len(matrix)
    rows = [
        [Fraction(v) for v in row] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)
    ]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col])
        rows[col], rows[pivot] = rows[pivot], rows[col]
        head = rows[col][col]
        rows[col] = [v / head for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [v - factor * w for v, w in zip(rows[r], rows[col])]
    return [row[n:] for row in rows]


def fitted_route_applies(setting: Setting) -> bool:
    """Whether :func:`fitted_setting_counts` takes this setting: a circle (any radius) or the
    N-th roots of unity (N <= 64), rho_t = t - c, the loss at every position or the last."""
    phases = setting.phases
    if not (phases.symmetric_phase and phases.fixed_modulus) or setting.noise.present:
        return False
    if phases.phase_period and (phases.phase_period > _FIT_MAX_PERIOD or phases.modulus_squared != 1):
        return False
    return rho_shift(setting.rho) is not None and setting.positions in ("all", "last")


def closed_form_in_T(setting: Setting, T: int) -> bool:
    """Whether the averages of ``setting`` at length T (the noise terms included) are summed over
    positions in closed form in T (:func:`fitted_setting_counts`), not as a finite sum."""
    from .noise_counts import fitted_noise_applies

    noiseless = dataclasses.replace(setting, noise=NO_NOISE)
    if not fitted_route_applies(noiseless) or (setting.noise.present and not fitted_noise_applies(setting)):
        return False
    return T - 1 > _last_fit_position(noiseless.phases.modulus_squared, noiseless.phases.phase_period)


def exact_power_reach(setting: Setting, T: int) -> int:
    """The largest power of |lambda|^2 that the exact averages of ``setting`` at length T take
    as an exact rational: T on the direct routes; on the fitted route the powers of its fit
    positions (larger sums stay unevaluated, :data:`mesacheck.symbolic.position_sums.EXACT_BITS`)."""
    if not fitted_route_applies(dataclasses.replace(setting, noise=NO_NOISE)):
        return T
    return min(T, 3 * _last_fit_position(setting.phases.modulus_squared, setting.phases.phase_period) + 2)


def fitted_setting_counts(setting: Setting, T: int, kind: str) -> dict | None:
    """:func:`setting_counts` with each count in closed form in T: the positions t < 16 summed
    directly, and past them the count at t (the average over the solutions of its phase
    equations) fitted exactly on a few positions by the family of :class:`_Family`, checked on
    further ones, and summed over t as progression sums (:mod:`mesacheck.symbolic.position_sums`:
    exact rationals, or unevaluated exact numbers past ~2000 positions). Its cost does not grow
    with T. None for a setting it does not take (:func:`fitted_route_applies`)."""
    if not fitted_route_applies(setting):
        return None
    phases, has_j, power = setting.phases, HAS_J[kind], WEIGHT_POWER[kind]
    c = rho_shift(setting.rho)
    low, high = (2, T - 1) if setting.positions == "all" else (T - 1, T - 1)
    q, N = phases.modulus_squared, phases.phase_period
    family = _Family(q, N)
    if high <= family.last:  # short sequences: the direct sum is as cheap
        return None
    powers = _ScaledPowers(q, 3 * family.last + 2)
    head = sorted(t for t in range(low, min(high + 1, _FIT_FROM)))
    if any(t == c for t in head):
        raise ValueError(f"rho_t must be non-zero at every t = 2..T-1; rho_{c} = 0")
    Lh = math.lcm(1, *((t - c) ** power for t in head))
    head_weights = {t: Lh // (t - c) ** power for t in head}
    positions = sorted(set(head) | set(family.positions))
    sums: dict = {}  # basis function -> {ProgressionSum or 1: Fraction}
    for _, (basis, *_rest) in enumerate(family.groups):
        for b in basis:
            a, k, residue = b
            sums[b] = weighted_power_sum(a, q**k, N or 1, residue, c, power, max(low, _FIT_FROM), high)
    numbers = {n for table in sums.values() for n in table} | {1}
    common = {
        n: math.lcm(1, *(table[n].denominator for table in sums.values() if n in table)) for n in numbers
    }
    scaled = {b: {n: int(v * common[n]) for n, v in table.items()} for b, table in sums.items()}
    B = powers.denominator
    by_values: dict = {}  # many systems share one count sequence
    memo: dict = {}
    out = {}
    for partition, blocks, system, shift in entries(kind):
        key = (system, shift if q != 1 else 0)  # |lambda| = 1: the modulus shift does not matter
        if key not in memo:
            count = _counts_at(phases, powers, system, shift, positions, has_j)
            values = tuple(count[t] for t in positions)
            if values not in by_values:
                by_values[values] = _fitted_total(family, count, head_weights, Lh, B, scaled, common, system)
            memo[key] = by_values[values]
        if memo[key]:
            out[partition, blocks] = memo[key]
    return out


def _counts_at(phases, powers, system, shift, positions, has_j) -> dict:
    """{t: the average over the solutions at t, scaled by powers.denominator} (integers)."""
    equations, low_i, low_j = system
    N = phases.phase_period
    if N:
        many = [t for t in positions if N <= 6 * t + 6]
        counts = (
            _roots_counts(equations, low_i, low_j, np.array(many, dtype=np.int64), has_j, N) if many else []
        )
        out = {t: int(v) for t, v in zip(many, counts)}
        for t in positions:
            if t not in out:
                out[t] = _average_at(phases, powers, equations, low_i, low_j, t, has_j, shift)
        return out
    return {t: _average_at(phases, powers, equations, low_i, low_j, t, has_j, shift) for t in positions}


def _fitted_total(family, count, head_weights, Lh, B, scaled, common, system):
    numerators = family.fit(count)
    if numerators is None:
        raise NotImplementedError(
            f"the average over the solutions of {system} is not in the fitted family from t = {_FIT_FROM}"
        )
    total = {1: Fraction(sum(w * count[t] for t, w in head_weights.items()), Lh * B)}
    denominator = family.D * B
    for n in common:
        value = sum(m * scaled[b][n] for b, m in numerators.items() if n in scaled[b])
        if value:
            part = (
                Fraction(value * family.E, denominator * common[n])
                if family.E != 1
                else Fraction(value, denominator * common[n])
            )
            total[n] = total.get(n, Fraction(0)) + part
    return as_number(total)
