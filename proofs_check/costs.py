"""What a verb will cost, estimated before it allocates anything; past a limit it refuses.

Every estimate is here, one function per command, from rates measured on the project's 2-core
machine (2026-11-24, one BLAS thread, empty derivation cache). They are deliberately rough
(within ~3x) and err high. When a derivation gets cheaper, change its rate here and the limits
relax everywhere. Since issue 12 the emergence guard takes each phase count in closed form in
T with harmonic numbers as symbols (mesacheck.symbolic.full_model.phase_count_form): its cost does not
depend on T, and for an exchangeable law not on d either (its 4-coordinate marginal). The full
model's table of every count (:func:`_phase_count_table`, used by ``flow --full``) holds exact
rationals up to T = 2002 and closed forms in T past it (issue 25).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .verbs._base import InvalidRequest

__all__ = [
    "Cost",
    "guard",
    "announce",
    "atoms_cost",
    "limit_cost",
    "recovery_cost",
    "conditions_cost",
    "simulate_cost",
    "flow_cost",
    "exact_averages_cost",
    "exact_size_guard",
]

MAX_SECONDS = 600.0  # refuse past this estimate without --force (the reference's simulate: ~3 min)
MAX_BYTES = 2e9
ANNOUNCE_SECONDS = 5.0  # say what is coming (on a terminal) past this estimate
_BASE_BYTES = 150e6  # the interpreter with SymPy, NumPy and SciPy loaded


@dataclass(frozen=True)
class Cost:
    """An estimate: wall seconds, peak bytes, and what dominates it (for the message)."""

    seconds: float
    bytes: float
    what: str

    def __add__(self, other: Cost) -> Cost:
        main = self if self.seconds >= other.seconds else other
        return Cost(self.seconds + other.seconds, max(self.bytes, other.bytes), main.what)


# a marginal's moment is the law's with the exponents padded to all d coordinates: cold
# `limit --d 10^5` and `--d 10^6` (T = 10^9) took 2.3 s and 10.1 s in the command
_PADDED_MOMENTS = 1e-5


def _phase_count_table(T: int) -> float:
    # mesacheck.symbolic.full_model.phase_counts, every entry with exact harmonic numbers: ~1 s at
    # T = 10^4 and 25 s at T = 10^5 measured cold, the exact rationals' size growing with T; past
    # T = 2002 the table is fitted and summed in closed form in T
    # (mesacheck.symbolic.process_counts.fitted_setting_counts): `flow --full --d 3` cold took
    # 2.1 CPU-s at T = 10^4 against 4.1 at T = 100 (2026-12-03, loaded machine)
    return 0.5 + 2.5e-4 * T if T <= 2002 else 1.5


def _diagonal_loss(d: int, exchangeable: bool = False) -> Cost:
    if exchangeable:  # from the 2-coordinate marginal: 0.2 s cold, plus its moments padded to d
        return Cost(1.0 + _PADDED_MOMENTS * d, _BASE_BYTES, f"the symbolic loss of 2 of d = {d} coordinates")
    # the symbolic diagonal loss and its flow: O(d^2) terms, expanded and differentiated;
    # cold, `limit --d 20 --T 20` took 59 s and `recovery --d 15 --T 20` 23 s (estimates 67 s, 27 s)
    return Cost(7e-3 * d**3, _BASE_BYTES + 4e3 * d**2, f"the symbolic loss in 2d = {2 * d} parameters")


def _emergence(d: int, T: int, masked: bool, exchangeable: bool = False) -> Cost:
    if masked:
        return Cost(0.0, _BASE_BYTES, "")
    # each phase count in closed form, whatever T: cold 0.4 s at d = 5 (T = 100 or 10^6), the
    # manifold gradient's entries ~d^4 (d = 20, T = 20: 11 s before issue 12's counts); an
    # exchangeable law takes its 4-coordinate marginal (0.3 s at d = 1000, T = 10^6)
    size = min(d, 4) if exchangeable else d
    return Cost(
        1.0 + 6.6e-5 * size**4 + (_PADDED_MOMENTS * d if exchangeable else 0.0),
        _BASE_BYTES + 4e3 * size**2,
        f"the emergence-condition guard (d = {d})",
    )


def atoms_cost(n_atoms: int, d: int) -> Cost:
    """Reading atoms exactly (every coordinate becomes a SymPy rational), and the least any
    command then derives at their length d."""
    reading = Cost(5e-5 * n_atoms * d, _BASE_BYTES + 2e3 * n_atoms * d, f"{n_atoms} atoms of length {d}")
    return reading + _diagonal_loss(d)


def limit_cost(d: int, T: int, *, masked: bool, exchangeable: bool = False) -> Cost:
    """``exchangeable``: the law is (Distribution.exchangeable) and the command takes the
    reduced routes (the guard on 4 coordinates, the loss and the flow on 2)."""
    return _emergence(d, T, masked, exchangeable) + _diagonal_loss(d, exchangeable)


def recovery_cost(d: int, T: int, *, masked: bool) -> Cost:
    return _emergence(d, T, masked) + _diagonal_loss(d)


def conditions_cost(d: int, T: int, *, exchangeable: bool = False) -> Cost:
    """Cold, d = 20, T = 20: 25 s (estimate 22 s). An exchangeable law: the emergence condition
    on a 4-coordinate marginal, and the equal-diagonal condition holds by symmetry (nothing to
    expand; mesacheck.symbolic.conditions.equal_diagonal_condition)."""
    if exchangeable and d > 3:
        return _emergence(d, T, masked=False, exchangeable=True)
    return _emergence(d, T, masked=False) + _emergence(d, T, masked=False)  # and equal diagonal


def simulate_cost(d: int, T: int, *, m: int, m_test: int, steps: int, log_every: int, masked: bool) -> Cost:
    sequences = 3 * 16.0 * (m + m_test) * T * d  # the samples, with their phases while drawn
    kept = 16.0 * m * T * (2 * d) ** 2  # mesacheck.numeric.simulate keeps the Gram matrices up to 400 MB
    grams = (kept if kept <= 400e6 else 0.0) + 3 * 16.0 * 200 * T * (2 * d) ** 2
    step = 1.5e-8 * m * T * (2 * d) ** 2
    evaluations = steps + 1 + (steps // log_every + 2) * m_test / m
    run = Cost(step * evaluations, _BASE_BYTES + sequences + grams, f"{steps} steps on m = {m} sequences")
    return run + limit_cost(d, T, masked=masked)


def flow_cost(d: int, T: int) -> Cost:
    entries = (2 * d) ** 3  # z_r = W^PV[r, :] (x) W^KQ has 8 d^3 entries; K is their square
    arrays = 16.0 * entries**2 + 3 * 16.0 * d**6 * 64
    assemble = 5e-6 * d**6 * 3 + _phase_count_table(T)
    # measured from the diagonal start: 0.1, 0.2, 0.7 s at d = 2, 3, 4 (T = 100), ~d^8; x3 for
    # random starts and a loaded machine
    integrate = 3 * 0.7 * (d / 4) ** 8
    return Cost(assemble + integrate, _BASE_BYTES + arrays, f"the full model's K ({entries} x {entries})")


def model_flow_cost(d: int, T: int, coordinates: int) -> Cost:
    """The flow of a model other than the paper's, with ``coordinates`` real parameters: the
    same K, a gradient and a dense Hessian in its own coordinates. Measured at d = 5, T = 100
    from a random start: 4.1 s (paper's, 300), 6.4 s (separate, 500), 9.6 s (two heads, 600),
    about linear in the coordinates there; the Hessian's pull-back and LU grow like their cube,
    so the estimate scales the paper's by the larger of the two."""
    paper = flow_cost(d, T)
    ratio = max(1.0, coordinates / (12 * d * d))
    hessian = 8.0 * coordinates**2 * 6  # the Hessian, its pull-back's factors and the LU's copies
    return Cost(
        paper.seconds * max(ratio, ratio**3 / 8),
        paper.bytes + hessian,
        f"the model's flow ({coordinates} real parameters)",
    )


def model_simulate_cost(
    d: int, T: int, *, m: int, m_test: int, steps: int, log_every: int, coordinates: int
) -> Cost:
    """Training a model other than the paper's: the data's moments once ((2d)^6 per position
    and sequence, numeric.model's rate), a step on them, and the forward pass on the test
    sequences at every log, then the exact flow of the model beside it."""
    moments = 5e-11 * m * (T - 2) * (2 * d) ** 6
    step = 2e-9 * (2 * d) ** 6 * max(1.0, coordinates / (12 * d * d))
    test = 6e-9 * m_test * T * (2 * d) ** 2 * (steps // log_every + 2)
    sequences = 3 * 16.0 * (m + m_test) * T * d
    run = Cost(
        moments + step * (steps + 1) + test,
        _BASE_BYTES + sequences + 64.0 * (2 * d) ** 6,
        f"{steps} steps on m = {m} sequences",
    )
    return run + model_flow_cost(d, T, coordinates)


def _seconds(value: float) -> str:
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    if value < 3e5:
        return f"{value / 3600:.0f} h"
    return f"{value / 86400:.1e} days"


def _bytes(value: float) -> str:
    return f"{value / 1e9:.1f} GB" if value >= 1e8 else f"{value / 1e6:.0f} MB"


def guard(cost: Cost, force: bool) -> None:
    """Refuse, in one line with the estimate and the way on, past the limits (unless forced)."""
    if force or (cost.seconds <= MAX_SECONDS and cost.bytes <= MAX_BYTES):
        return
    raise InvalidRequest(
        f"too large: {cost.what} would take about {_seconds(cost.seconds)} and "
        f"{_bytes(cost.bytes)} (limits {_seconds(MAX_SECONDS)}, {_bytes(MAX_BYTES)}); "
        "choose a smaller size, or pass --force to run it anyway"
    )


def announce(cost: Cost, show: bool) -> None:
    """On a terminal, say up front that a long derivation is coming."""
    if show and cost.seconds > ANNOUNCE_SECONDS:
        print(f"{cost.what}: about {_seconds(cost.seconds)} ...", file=sys.stderr)


def exact_averages_cost(T: int, setting=None) -> Cost:
    """The exact averages of a non-paper setting enumerate the solutions of the phase equations
    on lines of the (i, j) box: ~3000 systems x T positions x up to T points. Measured at
    d = 5, T = 100: 1.0 s (r < 1), 2.7 s (roots:3), cold.

    Given the ``setting``: where the averages are fitted and summed in closed form in T
    (mesacheck.symbolic.process_counts.fitted_route_applies: a circle of any radius, roots:N
    with N <= 64, every position or the last; no noise, or complex noise on |lambda| = 1),
    the cost does not grow with T. Measured cold, `limit` at d = 5 (2026-12-03, the whole
    command, benchmarks/large_T.py at load 1.7): 1.8-2.1 s at T = 10^5 and 10^6 (r = 0.5, last
    position), roots:7 2.9-3.2 s, complex noise 3.3-3.5 s."""
    direct = Cost(3e-4 * T**2, 2e8 + 50.0 * T**2, f"the exact averages over W at T = {T}")
    if setting is not None:
        from mesacheck.symbolic.process_counts import closed_form_in_T

        if closed_form_in_T(setting, T):
            # the averages' own share of the CPU times above (the imports and the flow are the
            # rest): ~0.5 s, roots:N ~0.15 s per N, the noise terms' fit grid ~1.5 s
            seconds = 0.5 + 0.15 * setting.phases.phase_period + (1.5 if setting.noise.present else 0.0)
            closed = Cost(seconds, 4e8, f"the exact averages over W (closed form in T = {T})")
            return closed if closed.seconds < direct.seconds else direct
    return direct


# The exact averages beyond the paper's process sum rationals over positions up to T, with
# powers of |lambda|^2 up to T: their numbers reach about T x (bits per power) bits
# (PhaseLaw.bits_per_power). Measured cold, `limit` at d = 5 (2026-12-03, loaded 2-core machine):
# r = 1e-300 (1994 bits per power) 3.1 s at T = 10 and 13 s at T = 30; r = 0.999999999 (121)
# 4.8 s at T = 100 and 16 s at T = 300; r = 1e-30 (200) 9.2 s at T = 100 and 15 s at T = 200;
# r = 0.5 (3) 2.7 s at T = 100. Past 20000 bits the time grows without a useful bound
# (r = 1e-300 at T = 100: more than 60 s), so the guard refuses there, within a second.
MAX_BITS = 20_000


def exact_size_guard(phases, T: int, force: bool, setting=None) -> None:
    """Refuse exact arithmetic whose numbers would grow past ``MAX_BITS`` (unless forced), in
    one line with the estimate and the way on. ``phases``: the law of W (its
    ``bits_per_power()`` and ``describe()``). Given the ``setting``, the powers the exact
    arithmetic reaches are those of its route (mesacheck.symbolic.process_counts.exact_power_reach:
    the fitted route takes powers up to ~90 exactly, whatever T, and leaves larger sums
    unevaluated)."""
    bits_per_power = phases.bits_per_power()
    reach = T
    if setting is not None:
        from mesacheck.symbolic.process_counts import exact_power_reach

        reach = exact_power_reach(setting, T)
    bits = bits_per_power * reach
    if force or bits <= MAX_BITS:
        return
    raise InvalidRequest(
        f"too large: the exact averages for {_short(phases.describe())} would build "
        f"numbers of about {bits:,.0f} bits "
        f"(each power of |lambda|^2 adds ~{bits_per_power:,.0f} bits, up to the power {reach} at T = {T}; "
        f"limit {MAX_BITS:,} bits); give the law's numbers with fewer digits (e.g. --r 0.999 or "
        f"--r 0.001), or T <= {max(int(MAX_BITS // max(bits_per_power, 1)), 1)}, or pass --force "
        "to run it anyway"
    )


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:60] + "..."
