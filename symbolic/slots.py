"""The slot algebra of the full model's K and J: which factors share a coordinate, and which
positions (i, j) solve the phase equations at a position t. Pure integer arithmetic, no imports
from the rest of the package: every later layer builds on it.

An entry of K or J is a product of slots; a slot is (time, sign), its phase exponent is
time - 1 - block (or t for the target x_{t+1}), sign -1 marks a conjugated factor. Which slots
share a coordinate is a set partition of the slots (:func:`set_partition`), and each class of it
gives one phase equation (:func:`phase_system`).
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction

__all__ = [
    "QUADRATIC_SLOTS",
    "LINEAR_SLOTS",
    "SLOTS",
    "WEIGHT_POWER",
    "HAS_J",
    "check_kind",
    "set_partition",
    "phase_system",
    "count_at",
    "partitions",
    "entries",
    "modulus_shift",
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


def phase_system(partition, blocks, slots):
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


def count_at(equations, low_i, low_j, t, has_j) -> int:
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


@functools.cache
def partitions(n: int) -> tuple[tuple[int, ...], ...]:
    """Every set partition of n slots as its restricted growth string, in sorted order (the
    same set as ``set_partition`` over all n^n labellings, without enumerating them).

    >>> partitions(3)
    ((0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (0, 1, 2))
    """
    out = [()]
    for _ in range(n):
        out = [p + (k,) for p in out for k in range(max(p, default=-1) + 2)]
    return tuple(sorted(out))


# the slots of each kind of entry, and the power of 1/rho_t that weighs it (K: 2, J: 1)
SLOTS = {"quadratic": QUADRATIC_SLOTS, "linear": LINEAR_SLOTS}
WEIGHT_POWER = {"quadratic": 2, "linear": 1}
HAS_J = {"quadratic": True, "linear": False}  # K sums over (i, j), J over i alone


def check_kind(kind: str) -> None:
    if kind not in SLOTS:
        raise ValueError(f"kind is 'quadratic' or 'linear', got {kind!r}")


def modulus_shift(blocks, slots) -> int:
    """The constant of the total modulus exponent sum_slots (time - 1 - block); with the times
    it is 2i + 2j + 2t + shift for K and 2i + 2t + shift for J (the target x_{t+1} adds t)."""
    return sum(-(1 + block) for (time, _), block in zip(slots, blocks) if time != "target")


@functools.cache
def entries(kind: str) -> tuple:
    """(partition, blocks, phase system, modulus shift) of every entry of K or J: the same for
    every setting, so derived once per process."""
    slots = SLOTS[kind]
    n = len(slots)
    out = []
    for partition in partitions(n):
        systems = _phase_systems(partition, slots)
        for blocks in itertools.product((0, 1), repeat=n):
            if slots[0][0] == "target" and blocks[0]:  # the target x_{t+1} has no block
                continue
            out.append((partition, blocks, systems(blocks), modulus_shift(blocks, slots)))
    return tuple(out)


def _phase_systems(partition, slots):
    """:func:`phase_system` for one partition as a function of the blocks: each class's
    coefficients of (i, j, t) do not depend on the blocks, only its constant does (the same
    systems, ~3x faster than one call per entry)."""
    classes = []
    for label in sorted(set(partition)):
        members = [a for a, own in enumerate(partition) if own == label]
        row = [0, 0, 0]
        shifted = []  # (slot, sign) whose block enters the constant
        for a in members:
            time, sign = slots[a]
            if time == "target":
                row[2] += sign
            else:
                row["ijt".index(time)] += sign
                shifted.append((a, sign))
        classes.append((tuple(row), shifted))
    lows = [(a, time) for a, (time, _) in enumerate(slots) if time in ("i", "j")]

    def system(blocks):
        equations = set()
        for row, shifted in classes:
            constant = -sum(sign * (1 + blocks[a]) for a, sign in shifted)
            full = (*row, constant)
            if any(full):
                lead = next(v for v in full if v)
                equations.add(full if lead > 0 else tuple(-v for v in full))
        low_i = 2 if any(blocks[a] for a, time in lows if time == "i") else 1
        low_j = 2 if any(blocks[a] for a, time in lows if time == "j") else 1
        return tuple(sorted(equations)), low_i, low_j

    return system
