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

import itertools
from fractions import Fraction

import sympy as sp

from ._cache import disk_cached
from .moments import DEFAULT_RHO, Distribution, position

__all__ = [
    "QUADRATIC_SLOTS",
    "LINEAR_SLOTS",
    "set_partition",
    "phase_counts",
    "slot_moment",
    "quadratic_coefficient",
    "linear_coefficient",
    "full_parameters",
    "full_population_loss",
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


@disk_cached
def phase_counts(T: int, kind: str, rho: sp.Expr = DEFAULT_RHO) -> dict:
    """The exact rational factor of every entry of K (``kind="quadratic"``) or J (``"linear"``):
    {(partition, blocks): sum_{t=2}^{T-1} w_t #{(i, j) whose phases cancel}}, with w_t =
    1/rho_t^2 for K and 1/rho_t for J (rho_t = t - 1 unless an assumption changes it).
    Entries that vanish are left out.

    >>> counts = phase_counts(3, "linear")  # t = 2: E[conj(x_3) v_2], x_3 = lambda^2 x_1
    >>> counts[(0, 0, 0, 0), (0, 0, 1, 0)]  # i = 2, b on x_2: conj(l^2) l^1 conj(l^0) l^1
    Fraction(1, 1)
    """
    if isinstance(T, bool) or not isinstance(T, int) or T < 3:
        raise ValueError(f"the sequence length T must be an integer >= 3, got {T!r}")
    slots = QUADRATIC_SLOTS if kind == "quadratic" else LINEAR_SLOTS
    power = 2 if kind == "quadratic" else 1
    rho_at = {}
    for position_t in range(2, T):
        value = sp.sympify(rho).subs(position, position_t)
        if not (value.is_Rational and value != 0):
            raise ValueError(
                f"rho_t must be a non-zero rational at every t = 2..T-1; rho_{position_t} = {value}"
            )
        rho_at[position_t] = Fraction(int(value.p), int(value.q))
    n = len(slots)
    partitions = sorted({set_partition(p) for p in itertools.product(range(n), repeat=n)})
    memo: dict = {}
    out = {}
    for partition in partitions:
        for blocks in itertools.product((0, 1), repeat=n):
            if kind == "linear" and blocks[0]:
                continue  # the target x_{t+1} has no block
            system = _system(partition, blocks, slots)
            if system not in memo:
                equations, low_i, low_j = system
                memo[system] = sum(
                    (
                        Fraction(_count_at(equations, low_i, low_j, t, kind == "quadratic"))
                        / rho_at[t] ** power
                    )
                    for t in range(2, T)
                )
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


def quadratic_coefficient(setting, T: int, row, column) -> sp.Expr:
    """K[(c, a, b), (c', a', b')] exactly, for embedding indices in 0..2d-1, under a setting
    (or the paper's setting for a bare law)."""
    from .process_counts import setting_counts
    from .setting import as_setting

    setting = as_setting(setting)
    law = setting.law
    coordinates, blocks = zip(*(_split(k, law.d) for k in (*row, *column)))
    count = setting_counts(setting, T, "quadratic").get((set_partition(coordinates), blocks))
    if not count:
        return sp.S.Zero
    return sp.Rational(count.numerator, count.denominator) * slot_moment(law, coordinates, QUADRATIC_SLOTS)


def linear_coefficient(setting, T: int, r: int, column) -> sp.Expr:
    """J_r[c, a, b] exactly, under a setting (or the paper's setting for a bare law)."""
    from .process_counts import setting_counts
    from .setting import as_setting

    setting = as_setting(setting)
    law = setting.law
    coordinates, blocks = zip(*((r, 0), *(_split(k, law.d) for k in column)))
    count = setting_counts(setting, T, "linear").get((set_partition(coordinates), blocks))
    if not count:
        return sp.S.Zero
    return sp.Rational(count.numerator, count.denominator) * slot_moment(law, coordinates, LINEAR_SLOTS)


def full_parameters(d: int) -> tuple[sp.Matrix, sp.Matrix]:
    """W^KQ (2d x 2d) and W^PV (d x 2d) with complex symbol entries Q_ab and P_rc."""
    Q = sp.Matrix(2 * d, 2 * d, lambda a, b: sp.Symbol(f"Q_{a + 1}_{b + 1}", complex=True))
    P = sp.Matrix(d, 2 * d, lambda r, c: sp.Symbol(f"P_{r + 1}_{c + 1}", complex=True))
    return Q, P


def full_population_loss(law: Distribution, T: int, W_KQ: sp.Matrix, W_PV: sp.Matrix) -> sp.Expr:
    """The exact population loss at given matrices (symbols or numbers), for a given T.

    Built from K and J entry by entry, grouping the entries of z by their value, so it is
    meant for small d or for structured matrices (few distinct entries);
    :mod:`numeric.bridge` assembles the same coefficients as arrays for fast numerics.
    """
    d, n = law.d, 2 * law.d
    if W_KQ.shape != (n, n) or W_PV.shape != (d, n):
        raise ValueError(f"need W^KQ {n} x {n} and W^PV {d} x {n} for d = {d}")
    support = [(a, b) for a in range(n) for b in range(n) if W_KQ[a, b] != 0]
    quadratic: dict = {}
    linear: dict = {}
    for r in range(d):
        zr = {(c, a, b): W_PV[r, c] * W_KQ[a, b] for c in range(n) if W_PV[r, c] != 0 for a, b in support}
        for row, zrow in zr.items():
            coefficient = linear_coefficient(law, T, r, row)
            if coefficient != 0:
                linear[zrow] = linear.get(zrow, 0) + coefficient
            for column, zcol in zr.items():
                coefficient = quadratic_coefficient(law, T, row, column)
                if coefficient != 0:
                    quadratic[zrow, zcol] = quadratic.get((zrow, zcol), 0) + coefficient
    loss = sp.Rational(T - 2, 2) * sum(law.moment(*_unit(law.d, k)) for k in range(d))
    loss += sum(sp.conjugate(u) * coefficient * v for (u, v), coefficient in quadratic.items()) / 2
    loss -= sum(sp.re(coefficient * u) for u, coefficient in linear.items())
    return loss


def _unit(d: int, k: int) -> tuple[tuple, tuple]:
    alpha = tuple(1 if m == k else 0 for m in range(d))
    return alpha, alpha
