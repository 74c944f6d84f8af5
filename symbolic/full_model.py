"""The full model: the exact K and J of its population loss, for every entry of W^KQ and W^PV.

The layers beneath: the slot algebra (:mod:`mesacheck.symbolic.slots`), the positions and their
sums (:mod:`mesacheck.symbolic.positions`), the paper's counts in closed form in T
(:mod:`mesacheck.symbolic.paper_counts`), the averages over W of every setting
(:mod:`mesacheck.symbolic.process_counts`, :mod:`mesacheck.symbolic.noise_counts`). Above it, the
loss at given matrices (:mod:`mesacheck.symbolic.full_loss`).

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

from fractions import Fraction

import sympy as sp

from .moments import Distribution
from .noise_counts import noise_counts, noise_target_weight, noise_weights
from .paper_counts import phase_count_form, phase_counts, phase_counts_by_positions, vanishes_at_every_length
from .positions import HARMONIC_EXACT_UNTIL, exact_harmonic, harmonic_symbol, harmonic_symbols_in
from .process_counts import setting_counts, target_weight
from .setting import as_setting
from .slots import LINEAR_SLOTS, QUADRATIC_SLOTS, set_partition

# the lower layers' names that callers have always found here
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
    "target_moment",
]


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

    setting = as_setting(setting)
    coordinates, blocks = zip(*(_split(k, setting.d) for k in (*row, *column)))
    key = (set_partition(coordinates), blocks)
    count = _count(setting, T, "quadratic", key, closed_form)
    return _entry(setting, T, "quadratic", key, count, coordinates, QUADRATIC_SLOTS)


def linear_coefficient(setting, T: int, r: int, column, *, closed_form: bool = False) -> sp.Expr:
    """J_r[c, a, b] exactly, under a setting (or the paper's setting for a bare law);
    ``closed_form`` as in :func:`quadratic_coefficient`."""

    setting = as_setting(setting)
    coordinates, blocks = zip(*((r, 0), *(_split(k, setting.d) for k in column)))
    key = (set_partition(coordinates), blocks)
    count = _count(setting, T, "linear", key, closed_form)
    return _entry(setting, T, "linear", key, count, coordinates, LINEAR_SLOTS)


def _count(setting, T: int, kind: str, key, closed_form: bool):

    if closed_form and setting.is_paper_process and not setting.noise.present:
        return phase_count_form(T, kind, key, setting.rho)
    return setting_counts(setting, T, kind).get(key)


def _entry(setting, T: int, kind: str, key, count, coordinates, slots) -> sp.Expr:
    """One entry of K or J: the x_1 term (count times the moment over every slot) plus, with
    noise, each noise term s^|nu| times its rational times the moment over the other slots
    (:mod:`mesacheck.symbolic.noise_counts`)."""

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

    setting = as_setting(setting)
    law = setting.law
    second = sum(law.moment(*_unit(law.d, k)) for k in range(law.d))
    signal, noise = target_weight(setting, T), noise_target_weight(setting, T)
    total = _exact(signal) * second
    if noise:
        total += _exact(noise) * setting.noise.second_moment * law.d
    return total


def _exact(value) -> sp.Expr:
    """A Fraction as a SymPy rational; an exact SymPy number (a closed form holding
    :class:`mesacheck.symbolic.position_sums.ProgressionSum` numbers) as it is."""
    return sp.Rational(value.numerator, value.denominator) if isinstance(value, Fraction) else value


def _unit(d: int, k: int) -> tuple[tuple, tuple]:
    alpha = tuple(1 if m == k else 0 for m in range(d))
    return alpha, alpha
