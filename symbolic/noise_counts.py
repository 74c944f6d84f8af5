"""Exact averages over additive noise: the noise terms of the full model's K and J.

With x_{t+1} = W x_t + xi_t, coordinate k of token n is

    x_n = lambda^(n-1) x_1 + sum_{u=1}^{n-1} lambda^(n-1-u) xi_u.

Each slot of an entry of K or J (:mod:`mesacheck.symbolic.full_model`) takes either its x_1 term or one
noise term. The noise is Gaussian, i.i.d. over u and coordinates, independent of W and x_1, so
the slots that take noise average by Wick's theorem: they pair up within a coordinate class,
E[xi_u conj(xi_v)] = s^2 [u = v] (circular complex noise also has E[xi_u xi_v] = 0, so a pair
joins a conjugated slot with a plain one; real noise pairs any two). A pair of slots whose token
has tau_a and tau_b noise terms then gives

    s^2 sum_{u=1}^{min(tau_a, tau_b)} lambda^(tau_a - u) conj(lambda)^(tau_b - u)

(real: lambda^(tau_b - u) for a plain slot). When |lambda| = 1 and the pair's u cancels in the
phase (complex noise; or lambda = +-1, where lambda^(2u) = 1), the phase equations of the entry
are those of the noise-free process and the pair weighs min(tau_a, tau_b): the noise acts as a
random walk B_tau added to x_1. So each entry is

    sum over noise slots nu: s^|nu| E[x_1 moment of the other slots]
                             sum_t w_t sum_{(i, j) solving the phases}
                                 sum_pairings prod_pairs min(tau_a, tau_b).

For one phase system and one pairing the inner sum G(t) is a polynomial in t of degree <= 5 (a
quasi-polynomial of period N for roots of unity) from t = 16 on; it is computed exactly on a
grid, fitted from t = 16 and checked on further positions, and the sum over t is then a finite
sum of Newton coefficients times shared position sums (closed forms in T, harmonic numbers,
for the paper's positions and rho_t).

Contraction, |lambda| = r < 1, with circular complex noise: a block's u still cancels from its
phase, so the phase equations stay the noise-free ones, but its modulus now depends on u: a
pair weighs s^2 sum_{u=1}^{min(tau_a, tau_b)} r^((tau_a - u) + (tau_b - u)), a geometric sum in
r, and a block of 2k factors its cumulant times the analogous sum. No polynomial fit applies;
the terms are an exact finite sum over the positions (no closed form in T), each position's
geometric sums over u in closed form and the solutions counted by their exponent of r
(:func:`_contracted_noise_counts`).

Real noise with complex phases on |lambda| = 1: an unbalanced block (delta = plain - conjugated
factors != 0) keeps lambda^(-delta u) in its class's phase, so its time solves the class's
equation (:func:`_real_noise_counts`). Real noise under a contraction, and noise under a random
modulus, are not derived.
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ._cache import disk_cached
from .position_sums import as_number, rho_shift, weighted_power_sum
from .positions import POLYNOMIAL_FROM as _FIT_FROM
from .positions import check_length, power_sums, rho_weights
from .setting import Setting
from .slots import HAS_J, SLOTS, WEIGHT_POWER, entries

__all__ = [
    "noise_counts",
    "noise_weights",
    "noise_target_weight",
    "check_noise_supported",
    "brute_force_noise_count",
    "fitted_noise_applies",
]

_DEGREE = 5  # two free indices (i, j) and at most three pairs, each min(...) of degree 1
_CHECKED = 3  # positions per residue class beyond the fit, where the fit must hold exactly
# past this T the position sums of the paper's positions come from their closed forms in T; below
# it the finite exact sum is faster than evaluating harmonic numbers
_CLOSED_FORM_FROM = 400
# under contraction every (t, i, j) is enumerated: ~2.7 million positions (~200 MB) at T = 200
_CONTRACTED_MAX_T = 200


def check_noise_supported(setting: Setting) -> None:
    """Refuse, with the reason, a noisy setting whose exact averages are not derived: the law of W
    says which noise it supports (:meth:`mesacheck.symbolic.setting.PhaseLaw.check_noise`; e.g.
    none under a random modulus, no real noise under a contraction)."""
    setting.phases.check_noise(setting.noise)


def noise_counts(setting: Setting, T: int, kind: str) -> dict:
    """{(partition, blocks): {(noise slots, block sizes): exact rational}}: the noise terms of K
    (``kind="quadratic"``) or J (``"linear"``). A term's weight is the product of the noise's
    cumulants of its blocks (:meth:`mesacheck.symbolic.setting.Noise.cumulant`; for Gaussian noise only
    pairs, each s^2), and the entry is the sum over noise slots nu of that weight times the
    rational times the moment of x_1 over the other slots (:func:`noise_weights` sums the
    weights per nu). The noise-free term (nu empty) is
    :func:`mesacheck.symbolic.process_counts.setting_counts`.
    """
    if not setting.noise.present:
        return {}
    check_noise_supported(setting)
    check_length(T)
    if setting.phases.modulus_squared != 1 and T > _CONTRACTED_MAX_T:
        raise NotImplementedError(
            f"exact noise terms under contraction are an exact finite sum over O(T^3) positions, computed "
            f"for T <= {_CONTRACTED_MAX_T} (~15 s at T = 100, ~8x that at T = 200), not T = {T}; "
            "the simulator samples longer sequences"
        )
    return _noise_counts(setting, T, kind)


def noise_weights(noise, cells: dict) -> dict:
    """{noise slots: sum over block sizes of the rational times the product of cumulants}: one
    entry's noise terms, collapsed for a given noise law."""
    out: dict = {}
    for (noise_slots, sizes), value in cells.items():
        weight = sp.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else value
        for size in sizes:
            weight *= _cumulant(noise, size // 2)
        out[noise_slots] = out.get(noise_slots, 0) + weight
    return out


@functools.lru_cache(maxsize=64)
def _cumulant(noise, k: int) -> sp.Expr:
    # once per noise law, not once per factor of every term (~10^5 per setting)
    return noise.cumulant(k)


def _process_key(setting: Setting, T: int, kind: str) -> tuple:
    """Everything the noise terms depend on: not the law of x_1, not the noise's scale or
    moments (only whether blocks beyond pairs count)."""
    noise = (setting.noise.kind, setting.noise.gaussian)
    return (str(setting.rho), setting.phases.identity, noise, str(setting.positions), T, kind)


@disk_cached(key=_process_key)
def _noise_counts(setting: Setting, T: int, kind: str) -> dict:
    if setting.phases.modulus_squared != 1:  # a contraction
        return _contracted_noise_counts(setting, T, kind)
    if not setting.noise.circular and not 0 < setting.phases.phase_period <= 2:
        return _real_noise_counts(setting, T, kind)
    N = setting.phases.phase_period  # 0: uniform phases
    period = N or 1
    grid = _FitGrid(setting, T, kind, period)
    return grid.assemble(
        (_inner_sums(points, forms, grid.last), targets)
        for system, wanted in _structures(kind, setting.noise.circular, setting.noise.gaussian).items()
        for points in (_solutions(system, HAS_J[kind], grid.last, N),)
        for forms, targets in wanted.items()
    )


class _FitGrid:
    """The positions where the inner sums G(t) are computed (every t below T for short
    sequences; t <= 16 + period (degree + 1 + checks) - 1 otherwise, past which G is a fitted
    quasi-polynomial), and the exact weighted sums over the trained positions."""

    def __init__(self, setting: Setting, T: int, kind: str, period: int):
        fit_until = _FIT_FROM + period * (_DEGREE + 1 + _CHECKED) - 1
        self.direct = T - 1 <= fit_until  # short sequences: every position on the grid, no fit
        self.last = T - 1 if self.direct else fit_until
        self.period = period
        power = WEIGHT_POWER[kind]
        progression = None if self.direct else _progression_tails(setting, T, period, power)
        if progression is not None:  # closed forms in T: only the first positions' weights are needed
            omega = setting.position_weights(min(T, _FIT_FROM + 1)) if setting.positions == "all" else {}
            self.weights = {t: w for t, w in rho_weights(setting.rho, omega, power).items() if t < _FIT_FROM}
            self.tails = progression
        else:
            self.weights = setting.loss_weights(T, power)
            self.tails = None if self.direct else _tail_sums(setting, T, self.weights, period, power)

    def assemble(self, terms) -> dict:
        """{entry: {term: exact sum}} from (G(t), targets) pairs, each distinct G summed once
        (many pairings share one)."""
        out: dict = {}
        totals: dict = {}
        for G, targets in terms:
            key = G.tobytes()
            if key not in totals:
                totals[key] = _sum_over_positions(G, self.weights, self.direct, self.tails, self.period)
            if any(totals[key].values()):
                for entry, term in targets:
                    cell = out.setdefault(entry, {}).setdefault(term, {})
                    for number, value in totals[key].items():  # {ProgressionSum or 1: Fraction}
                        cell[number] = cell.get(number, Fraction(0)) + value
        out = {entry: {nu: as_number(parts) for nu, parts in cells.items()} for entry, cells in out.items()}
        return {entry: {nu: c for nu, c in cells.items() if c} for entry, cells in out.items()}


def _real_noise_counts(setting: Setting, T: int, kind: str) -> dict:
    """Real noise with complex phases on |lambda| = 1 (the unit circle, or the N-th roots of unity
    with N >= 3). A block B of real noise factors at time u carries the phase lambda^(-u delta_B),
    delta_B = (its plain factors) - (its conjugated ones), so a class's phase equation becomes
    E_c(t, i, j) = sum_B delta_B u_B (= 0 mod N on the roots), 1 <= u_B <= min_(a in B) tau_a.
    A balanced block weighs min tau_a as before; the unbalanced ones weigh the number of their
    times u_B that solve the equation. G(t) is then a quasi-polynomial in t whose period divides
    lcm(N, every |delta_B|); it is fitted and checked as for the other processes."""
    N = setting.phases.phase_period
    structures = _real_structures(kind, setting.noise.gaussian)
    deltas = {abs(delta) for key in structures for _, blocks in key[2] for _, delta in blocks if delta}
    period = math.lcm(N or 1, *deltas) if deltas else (N or 1)
    grid = _FitGrid(setting, T, kind, period)
    return grid.assemble(
        (_real_inner_sums(key, HAS_J[kind], grid.last, N), targets) for key, targets in structures.items()
    )


@disk_cached  # ~10 s to build for K: once per machine
def _real_structures(kind: str, gaussian: bool) -> dict:
    """{(low_i, low_j, ((class equation, ((block taus, delta), ...)), ...)): [(entry, term), ...]}
    for real noise: each class keeps its own equation and blocks, since an unbalanced block's
    time enters its class's equation."""
    slots = SLOTS[kind]
    out: dict = {}
    for partition, blocks, system, _ in entries(kind):
        taus = [_tau(slot, block) for slot, block in zip(slots, blocks)]
        rows = {}
        for label in set(partition):
            members = [a for a, own in enumerate(partition) if own == label]
            rows[label] = tuple(sum(slots[a][1] * taus[a][k] for a in members) for k in range(4))
        for noise_slots, groups in _noise_terms(partition, kind, False, gaussian):
            classes = {label: [] for label in rows}
            for group in groups:
                delta = sum(slots[a][1] for a in group)
                classes[partition[group[0]]].append((tuple(sorted({taus[a] for a in group})), delta))
            key = (
                system[1],
                system[2],
                tuple(sorted((rows[c], tuple(sorted(b))) for c, b in classes.items())),
            )
            sizes = tuple(sorted(len(group) for group in groups))
            out.setdefault(key, []).append(((partition, blocks), (noise_slots, sizes)))
    return out


def _real_inner_sums(key, has_j: bool, last: int, N: int) -> np.ndarray:
    """G(t), t = 0..last: sum over (i, j) of prod_classes (the number of times of the class's
    unbalanced blocks that solve its equation, or [E_c = 0] without them) times prod over the
    balanced blocks of min tau_a, exact."""
    low_i, low_j, classes = key
    ok = _admissible(
        low_i, low_j, tuple(row for row, blocks in classes if not any(d for _, d in blocks)), has_j, last, N
    )
    G = np.zeros(last + 1, dtype=np.int64)
    if not ok.any():  # most structures: a class without unbalanced blocks has no solution
        return G
    t, i, j = (axis[ok] for axis in _box(last, has_j))
    weight = np.ones(t.shape, dtype=np.int64)
    for (ci, cj, ct, c0), blocks in classes:
        unbalanced = []
        for forms, delta in blocks:
            shared = np.min([fi * i + fj * j + ft * t + f0 for fi, fj, ft, f0 in forms], axis=0)
            if delta:
                unbalanced.append((shared, delta))
            else:
                weight = weight * shared
        if unbalanced:
            weight = weight * _time_count(ci * i + cj * j + ct * t + c0, unbalanced, N)
    if weight.size and int(np.abs(weight).max()) * weight.size >= 2**53:
        raise OverflowError("a noise term's sum is too large for exact double summation")
    return np.rint(np.bincount(t, weights=weight, minlength=last + 1)).astype(np.int64)


@functools.lru_cache(maxsize=4096)
def _admissible(low_i: int, low_j: int, rows: tuple, has_j: bool, last: int, N: int) -> np.ndarray:
    """The mask of the box's (t, i, j) within the index bounds that solve the given class
    equations (shared by the many noise terms of one entry)."""
    t, i, j = _box(last, has_j)
    ok = (i >= low_i) & ((j >= low_j) if has_j else (j == low_j))
    for ci, cj, ct, c0 in rows:
        value = ci * i + cj * j + ct * t + c0
        ok &= (value % N == 0) if N else (value == 0)
    return ok


def _time_count(E: np.ndarray, blocks: list, N: int) -> np.ndarray:
    """#{(u_1, ..., u_k) : 1 <= u_b <= m_b, sum_b delta_b u_b = E (mod N when N > 0)}, per point."""
    (m, delta), rest = blocks[0], blocks[1:]
    if not rest:
        return _one_time_count(E, m, delta, N)
    total = np.zeros(E.shape, dtype=np.int64)
    for u in range(1, int(m.max(initial=0)) + 1):
        total += np.where(u <= m, _time_count(E - delta * u, rest, N), 0)
    return total


def _one_time_count(R: np.ndarray, m: np.ndarray, delta: int, N: int) -> np.ndarray:
    """#{u : 1 <= u <= m, delta u = R (mod N when N > 0)}, per point."""
    if not N:
        u, remainder = np.divmod(R, delta)
        return ((remainder == 0) & (u >= 1) & (u <= m)).astype(np.int64)
    g = math.gcd(delta % N, N)
    if delta % N == 0:  # every u solves it when R = 0 mod N
        return np.where(R % N == 0, np.maximum(m, 0), 0)
    step = N // g
    inverse = pow((delta % N) // g, -1, step) if step > 1 else 0
    first = ((R // g) * inverse) % step if step > 1 else np.zeros_like(R)
    first = np.where(first == 0, step, first)  # the smallest solution >= 1
    count = np.where(m >= first, (m - first) // step + 1, 0)
    return np.where(R % g == 0, count, 0)


def _tau(slot, block) -> tuple[int, int, int, int]:
    """The number of noise terms in a slot's token as (c_i, c_j, c_t, c_0): token n = time -
    block has n - 1 of them; the target x_{t+1} has t."""
    time, _ = slot
    if time == "target":
        return (0, 0, 1, 0)
    row = [0, 0, 0, -1 - block]
    row["ijt".index(time)] = 1
    return tuple(row)


def _blocks(items, complex_noise: bool, pairs_only: bool):
    """The partitions of (slot, sign) items into blocks that share one noise time and have a
    non-zero joint cumulant: of even size, balanced (as many conjugated as plain factors) for
    circular complex noise; only pairs for Gaussian noise (Wick's theorem)."""
    if not items:
        yield ()
        return
    first, rest = items[0], items[1:]
    sizes = (1,) if pairs_only else (1, 3, 5)
    for extra in sizes:
        for others in itertools.combinations(range(len(rest)), extra):
            block = (first, *(rest[k] for k in others))
            if complex_noise and 2 * sum(sign > 0 for _, sign in block) != len(block):
                continue
            remaining = [item for k, item in enumerate(rest) if k not in others]
            for more in _blocks(remaining, complex_noise, pairs_only):
                yield (tuple(a for a, _ in block), *more)


@functools.cache
def _structures(kind: str, circular: bool, gaussian: bool = True) -> dict:
    """{phase system: {block forms: [((partition, blocks), (noise slots, block sizes)), ...]}}
    over every entry, every choice of noise slots and every partition of them into blocks."""
    slots = SLOTS[kind]
    out: dict = {}
    for partition, blocks, system, _ in entries(kind):
        taus = [_tau(slot, block) for slot, block in zip(slots, blocks)]
        for noise_slots, groups in _noise_terms(partition, kind, circular, gaussian):
            forms = tuple(sorted(tuple(sorted({taus[a] for a in group})) for group in groups))
            sizes = tuple(sorted(len(group) for group in groups))
            out.setdefault(system, {}).setdefault(forms, []).append(
                ((partition, blocks), (noise_slots, sizes))
            )
    return out


@functools.cache
def _noise_terms(partition, kind: str, circular: bool, gaussian: bool) -> tuple:
    """(noise slots, blocks) for every even set of noise slots and every partition of them into
    blocks within the coordinate classes of ``partition`` (the blocks of the embedding do not
    matter here)."""
    slots = SLOTS[kind]
    out = []
    for noise_slots in itertools.chain.from_iterable(
        itertools.combinations(range(len(slots)), n) for n in range(2, len(slots) + 1, 2)
    ):
        by_class: dict = {}
        for s in noise_slots:
            by_class.setdefault(partition[s], []).append((s, slots[s][1]))
        choices = [list(_blocks(items, circular, gaussian)) for items in by_class.values()]
        for choice in itertools.product(*choices):
            out.append((noise_slots, tuple(group for groups in choice for group in groups)))
    return tuple(out)


def _solutions(system, has_j: bool, last: int, N: int) -> dict:
    """The positions (t, i, j), 2 <= t <= last, whose phases cancel: every equation = 0
    (unit circle, N = 0) or = 0 mod N (N-th roots of unity), as integer arrays."""
    equations, low_i, low_j = system
    t, i, j = _box(last, has_j)
    ok = (i >= low_i) & ((j >= low_j) if has_j else (j == low_j))
    for ci, cj, ct, c0 in equations:
        value = ci * i + cj * j + ct * t + c0
        ok &= (value % N == 0) if N else (value == 0)
    return {"t": t[ok], "i": i[ok], "j": j[ok]}


@functools.cache
def _box(last: int, has_j: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (t, i, j) with 2 <= t <= last, 1 <= i <= t and 1 <= j <= t (j = 1 and 2 for J:
    its j is a placeholder fixed at its lowest value), flattened."""
    t, i, j = np.meshgrid(
        np.arange(2, last + 1), np.arange(1, last + 1), np.arange(1, last + 1), indexing="ij"
    )
    keep = (i <= t) & ((j <= t) if has_j else (j <= 2))
    return t[keep], i[keep], j[keep]


def _inner_sums(points: dict, forms, last: int) -> np.ndarray:
    """G(t) = sum over the solutions at t of prod_blocks min_(a in block) tau_a (the number of
    noise times the block's factors share), t = 0..last, exact."""
    t, i, j = points["t"], points["i"], points["j"]
    weight = np.ones(t.shape, dtype=np.int64)
    for block in forms:
        shared = None
        for ci, cj, ct, c0 in block:
            tau = ci * i + cj * j + ct * t + c0
            shared = tau if shared is None else np.minimum(shared, tau)
        weight = weight * shared
    # bincount sums in doubles: exact while every partial sum stays below 2^53
    if weight.size and int(weight.max()) * weight.size >= 2**53:
        raise OverflowError("a noise term's sum is too large for exact double summation")
    return np.rint(np.bincount(t, weights=weight, minlength=last + 1)).astype(np.int64)


def _sum_over_positions(G: np.ndarray, weights: dict, direct: bool, tails, period: int) -> dict:
    """sum_t w_t G(t) over the trained positions, exactly: directly up to the fit, and past it
    from the Newton coefficients of G on each residue class of t mod the period. As a dict
    {ProgressionSum or 1: Fraction} (:func:`mesacheck.symbolic.position_sums.as_number`)."""
    upto = len(G) if direct else _FIT_FROM
    head = sum((w * int(G[t]) for t, w in weights.items() if t < upto), Fraction(0))
    if direct:
        return {1: head}
    out = {1: head}
    for c in range(period):
        values = [int(v) for v in G[_FIT_FROM + c :: period]]
        differences = []
        while values:
            differences.append(values[0])
            values = [b - a for a, b in zip(values, values[1:])]
            if len(differences) > _DEGREE + 1 and any(values):
                raise NotImplementedError("a noise term is not a polynomial of degree <= 5 in t from t = 16")
        if any(differences[_DEGREE + 1 :]):
            raise NotImplementedError("a noise term is not a polynomial of degree <= 5 in t from t = 16")
        for k, delta in enumerate(differences[: _DEGREE + 1]):
            if delta:
                tail = tails[c][k]
                for number, value in tail.items() if isinstance(tail, dict) else ((1, tail),):
                    out[number] = out.get(number, Fraction(0)) + delta * value
    return out


def _tail_sums(setting: Setting, T: int, weights: dict, period: int, power: int) -> list[list[Fraction]]:
    """S[c][k] = sum over trained t >= 16, t = 16 + c + period m, of w_t binomial(m, k): what
    the Newton coefficients of each residue class multiply. For the paper's positions with
    period 1 from the closed forms in T (harmonic numbers), else as a finite exact sum."""
    if period == 1 and setting.positions == "all" and T > _CLOSED_FORM_FROM:
        return [_tail_closed_form(setting, T, power)]
    out = [[Fraction(0)] * (_DEGREE + 1) for _ in range(period)]
    for t, w in weights.items():
        if t < _FIT_FROM:
            continue
        c, m = (t - _FIT_FROM) % period, (t - _FIT_FROM) // period
        for k in range(_DEGREE + 1):
            out[c][k] += w * math.comb(m, k)
    return out


def fitted_noise_applies(setting: Setting) -> bool:
    """Whether the noise terms' sums over t past the fit are taken in closed form in T
    (:func:`_progression_tails`): |lambda| = 1, rho_t = t - c, every position or the last."""
    phases = setting.phases
    return (
        setting.noise.present
        and phases.fixed_modulus
        and phases.modulus_squared == 1
        and setting.positions in ("all", "last")
        and rho_shift(setting.rho) is not None
    )


def _progression_tails(setting: Setting, T: int, period: int, power: int):
    """What :func:`_tail_sums` gives, in closed form in T: binomial(m, k) with t = 16 + c +
    period m is a polynomial in t, so each S[c][k] is a combination of progression sums
    (:func:`mesacheck.symbolic.position_sums.weighted_power_sum`; exact, unevaluated past ~2000
    positions). None where it does not apply."""
    if not fitted_noise_applies(setting):
        return None
    shift = rho_shift(setting.rho)
    low, high = (2, T - 1) if setting.positions == "all" else (T - 1, T - 1)
    low = max(low, _FIT_FROM)
    out = []
    for c in range(period):
        residue = (_FIT_FROM + c) % period
        powers = [
            weighted_power_sum(a, Fraction(1), period, residue, shift, power, low, high)
            for a in range(_DEGREE + 1)
        ]
        row = []
        for k in range(_DEGREE + 1):
            total: dict = {}
            for a, coefficient in enumerate(_binomial_in_t_class(k, c, period)):
                for number, value in powers[a].items():
                    total[number] = total.get(number, Fraction(0)) + coefficient * value
            row.append(total)  # kept as {ProgressionSum or 1: Fraction}: summed per term in assemble
        out.append(row)
    return out


@functools.cache
def _binomial_in_t_class(k: int, c: int, period: int) -> tuple[Fraction, ...]:
    """Coefficients of binomial(m, k), m = (t - 16 - c) / period, in powers t^0..t^k."""
    poly = [Fraction(1)]
    for j in range(k):  # multiply by (m - j) / (j + 1) = (t - 16 - c - j period) / (period (j + 1))
        shifted = [Fraction(0)] + poly
        scaled = [-(_FIT_FROM + c + j * period) * v for v in poly] + [Fraction(0)]
        poly = [(a + b) / (period * (j + 1)) for a, b in zip(shifted, scaled)]
    return tuple(poly)


def _tail_closed_form(setting: Setting, T: int, power: int) -> list[Fraction]:
    """sum_{t=16}^{T-1} binomial(t - 16, k) / rho_t^power for k <= 5 from the power sums'
    closed forms: binomial(t - 16, k) expanded in powers of t."""
    sums = power_sums(T, power, setting.rho, degrees=_DEGREE + 1)
    out = []
    for k in range(_DEGREE + 1):
        coefficients = _binomial_in_t(k)
        out.append(sum((c * s for c, s in zip(coefficients, sums)), Fraction(0)))
    return out


@functools.cache
def _binomial_in_t(k: int) -> tuple[Fraction, ...]:
    """Coefficients of binomial(t - 16, k) in powers t^0..t^k."""
    poly = [Fraction(1)]
    for m in range(k):  # multiply by (t - 16 - m) / (m + 1)
        shifted = [Fraction(0)] + poly
        scaled = [-(_FIT_FROM + m) * c for c in poly] + [Fraction(0)]
        poly = [(a + b) / (m + 1) for a, b in zip(shifted, scaled)]
    return tuple(poly)


def _contracted_noise_counts(setting: Setting, T: int, kind: str) -> dict:
    """The noise terms on the circle of radius r < 1 (circular complex noise), as an exact
    finite sum over the positions: no closed form in T is given.

    A block B of noise factors at one time u is balanced, so u cancels from its phase and the
    phase equations are the noise-free ones; its modulus sums over u geometrically:

        sum_{u=1}^{m_B} r^(sum_{a in B} (tau_a - u)) = (r^(c_B - |B| m_B) - r^(c_B)) / (1 - r^|B|),

    m_B = min_{a in B} tau_a, c_B = sum_{a in B} tau_a, while an x_1 slot weighs r^tau_a. So a
    term is prod_B 1 / (1 - r^|B|) times the sum over subsets S of the blocks of (-1)^|S| sum
    over the solutions (t, i, j) of w_t r^(E_S), E_S = sum_a tau_a - sum_{B not in S} |B| m_B.
    The solutions at each (t, E_S) are counted exactly (integers), then weighed by w_t r^E in
    exact integer arithmetic over one common denominator.
    """
    weights = setting.loss_weights(T, 2 if HAS_J[kind] else 1)
    noise = setting.noise
    common, sums, terms = _exponent_sums(
        kind, noise.circular, noise.gaussian, T, tuple(sorted(weights.items()))
    )
    radius = Fraction(int(setting.phases.radius.p), int(setting.phases.radius.q))
    a, b = radius.numerator, radius.denominator
    top = 6 * T  # every exponent sum_a tau_a is below 6 T
    powers = np.array([a**e * b ** (top - e) for e in range(top + 1)], dtype=object)  # r^e b^top
    denominator = common * b**top
    totals = [Fraction(int(by_exponent.dot(powers[columns])), denominator) for columns, by_exponent in sums]
    out: dict = {}
    for index, blocks, targets in terms:
        if not totals[index]:
            continue
        value = totals[index]
        for size, _ in blocks:
            value /= 1 - radius**size
        for entry, term in targets:
            cell = out.setdefault(entry, {})
            cell[term] = cell.get(term, Fraction(0)) + value
    return {entry: {nu: c for nu, c in cells.items() if c} for entry, cells in out.items()}


@functools.lru_cache(maxsize=4)
def _exponent_sums(kind: str, circular: bool, gaussian: bool, T: int, weights: tuple) -> tuple:
    """The part of the contracted noise terms that does not depend on the radius r, kept for the
    next r (the histograms are ~2/3 of the work; a chapter tabulates several radii at one T).

    Returns the common denominator of the weights, the distinct weighted histograms as
    (columns, sum over t of w_t H[t, E] for E in columns), and for each term the index of its
    histogram, its blocks and its targets, in the order the terms are met.
    """
    has_j = HAS_J[kind]
    common = math.lcm(*(w.denominator for _, w in weights))
    scaled_weights = np.zeros(T, dtype=object)
    for t, w in weights:
        scaled_weights[t] = w.numerator * (common // w.denominator)
    top = 6 * T
    found: dict = {}  # histogram -> its index in sums: many terms share one
    sums, terms = [], []
    for system, wanted in _contracted_structures(kind, circular, gaussian).items():
        t, i, j = _solution_points(system, has_j, T - 1)
        if not t.size:
            continue
        for (row, blocks), targets in wanted.items():
            histogram = _exponent_histogram(t, i, j, row, blocks, T, top)
            key = histogram.tobytes()
            if key not in found:
                found[key] = len(sums)
                columns = np.flatnonzero(histogram.any(axis=0))
                sums.append((columns, histogram[:, columns].T.astype(object).dot(scaled_weights)))
            terms.append((found[key], blocks, targets))
    return common, tuple(sums), tuple(terms)


def _exponent_histogram(t, i, j, row, blocks, T: int, top: int) -> np.ndarray:
    """H[t, E] = sum over subsets S of the blocks of (-1)^|S| #{solutions at t with E_S = E}."""
    total = row[0] * i + row[1] * j + row[2] * t + row[3]
    shares = []  # |B| m_B
    for size, forms in blocks:
        shared = None
        for ci, cj, ct, c0 in forms:
            tau = ci * i + cj * j + ct * t + c0
            shared = tau if shared is None else np.minimum(shared, tau)
        shares.append(size * shared)
    start = t * (top + 1) + total
    counts = np.zeros(T * (top + 1), dtype=np.int64)
    for chosen in itertools.product((0, 1), repeat=len(blocks)):
        index = start
        for share, kept in zip(shares, chosen):
            if not kept:
                index = index - share
        found = np.bincount(index, minlength=T * (top + 1))
        if sum(chosen) % 2:
            counts -= found
        else:
            counts += found
    return counts.reshape(T, top + 1)


@functools.cache
def _contracted_structures(kind: str, circular: bool, gaussian: bool) -> dict:
    """{phase system: {(row of sum_a tau_a, ((|B|, taus of B), ...)): [((partition, blocks),
    (noise slots, block sizes)), ...]}}: under contraction a block's size and every slot's tau
    count, not only the blocks' minima."""
    slots = SLOTS[kind]
    out: dict = {}
    for partition, blocks, system, _ in entries(kind):
        taus = [_tau(slot, block) for slot, block in zip(slots, blocks)]
        row = tuple(sum(column) for column in zip(*taus))
        for noise_slots, groups in _noise_terms(partition, kind, circular, gaussian):
            form = tuple(sorted((len(group), tuple(sorted({taus[a] for a in group}))) for group in groups))
            sizes = tuple(sorted(len(group) for group in groups))
            out.setdefault(system, {}).setdefault((row, form), []).append(
                ((partition, blocks), (noise_slots, sizes))
            )
    return out


def _solution_points(system, has_j: bool, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (t, i, j), 2 <= t <= last, solving every phase equation exactly, as integer arrays:
    an equation in i (or j) is solved for it on the (t, other index) grid, so the work is
    O(last^2) unless no equation involves i or j."""
    equations, low_i, low_j = system
    pivot = next((e for e in equations if e[0]), None)
    if pivot is None and has_j:
        pivot = next((e for e in equations if e[1]), None)
    if pivot is None:
        t, i, j = _box(last, has_j)
    else:
        solve_i = bool(pivot[0])
        t, free = np.meshgrid(np.arange(2, last + 1), np.arange(1, last + 1), indexing="ij")
        t, free = t.ravel(), free.ravel()
        if not has_j:
            t, free = t[free == low_j], free[free == low_j]
        ci, cj, ct, c0 = pivot
        coefficient, other = (ci, cj) if solve_i else (cj, ci)
        rest = -(other * free + ct * t + c0)
        keep = rest % coefficient == 0
        t, free, solved = t[keep], free[keep], rest[keep] // coefficient
        i, j = (solved, free) if solve_i else (free, solved)
    ok = (i >= low_i) & (i <= t) & (j >= low_j) & ((j <= t) if has_j else (j == low_j))
    for ci, cj, ct, c0 in equations:
        ok &= ci * i + cj * j + ct * t + c0 == 0
    return t[ok], i[ok], j[ok]


def noise_target_weight(setting: Setting, T: int) -> Fraction:
    """sum_t omega_t E[sum_{u=1}^t |lambda|^(2(t-u))]: sum_t omega_t t for |lambda| = 1,
    sum_t omega_t (1 - q^t) / (1 - q) for q = r^2 < 1. The noise's share of E||x_{t+1}||^2 is
    s^2 d times it."""
    if not setting.noise.present:
        return Fraction(0)
    check_noise_supported(setting)
    q = setting.phases.modulus_squared
    if setting.phases.fixed_modulus and setting.positions in ("all", "last"):  # closed forms in T
        low = 2 if setting.positions == "all" else T - 1
        if q == 1:
            return as_number(weighted_power_sum(1, Fraction(1), 1, 0, 0, 0, low, T - 1))
        total = weighted_power_sum(0, Fraction(1), 1, 0, 0, 0, low, T - 1)
        for number, value in weighted_power_sum(0, q, 1, 0, 0, 0, low, T - 1).items():
            total[number] = total.get(number, Fraction(0)) - value
        return as_number({number: value / (1 - q) for number, value in total.items()})
    return sum(
        (omega * (t if q == 1 else (1 - q**t) / (1 - q)) for t, omega in setting.position_weights(T).items()),
        Fraction(0),
    )


def brute_force_noise_count(setting: Setting, T: int, kind: str, partition, blocks, noise_slots) -> Fraction:
    """The noise term of one entry for the setting's noise law, sum over block sizes of
    :func:`noise_counts` times cumulants (what :func:`noise_weights` gives for ``noise_slots``),
    by direct enumeration, for tests at small T: every (t, i, j), every time u_a of every noise
    slot, the phase law's own average of the exponents with the u's in them, and the noise's
    moments grouped by time (complex circular: E[xi^a conj(xi)^b] = [a = b] E|xi|^(2a); real:
    E[xi^n] = its n-th moment, 0 for odd n). Independent of the block argument above."""
    slots = SLOTS[kind]
    weights = setting.loss_weights(T, WEIGHT_POWER[kind])
    complex_noise = setting.noise.circular
    noise = setting.noise
    if noise.gaussian:  # E|xi|^(2k) = k! s^(2k) (complex), E xi^(2k) = (2k - 1)!! s^(2k) (real)
        factors = [
            math.factorial(k) if complex_noise else math.prod(range(2 * k - 1, 0, -2)) for k in range(4)
        ]
        moments = [Fraction(f) * _fraction(noise.scale) ** (2 * k) for k, f in enumerate(factors)]
    else:
        moments = [Fraction(1), *map(_fraction, noise.moments)]
    total = Fraction(0)
    for t, w in weights.items():
        for i in range(1, t + 1):
            for j in range(1, t + 1) if HAS_J[kind] else (1,):
                times = {"i": i, "j": j, "t": t}
                tau = []
                for (time, _), block in zip(slots, blocks):
                    tau.append(t if time == "target" else times[time] - 1 - block)
                if min(tau) < 0:
                    continue
                ranges = [range(1, tau[a] + 1) for a in noise_slots]
                for us in itertools.product(*ranges):
                    u_of = dict(zip(noise_slots, us))
                    value = Fraction(1)
                    for label in set(partition):
                        n = m = 0
                        noise_moments: dict = {}
                        for a, ((_, sign), own) in enumerate(zip(slots, partition)):
                            if own != label:
                                continue
                            power = tau[a] - u_of.get(a, 0)
                            if sign > 0:
                                n += power
                            else:
                                m += power
                            if a in u_of:
                                plain, conjugated = noise_moments.get(u_of[a], (0, 0))
                                noise_moments[u_of[a]] = (
                                    (plain + 1, conjugated) if sign > 0 else (plain, conjugated + 1)
                                )
                        average = setting.phases.average(n, m)
                        value *= Fraction(int(average.p), int(average.q))
                        for plain, conjugated in noise_moments.values():
                            if complex_noise:
                                value *= moments[plain] if plain == conjugated else 0
                            else:
                                k = plain + conjugated
                                value *= moments[k // 2] if k % 2 == 0 else 0
                        if not value:
                            break
                    total += w * value
    return total


def _fraction(value) -> Fraction:
    value = sp.nsimplify(value)
    if not value.is_Rational:
        raise ValueError(f"direct enumeration needs rational noise parameters, got {value}")
    return Fraction(int(value.p), int(value.q))
