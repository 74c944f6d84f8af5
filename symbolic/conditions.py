"""Whether the diagonal model is invariant under the flow of the full prediction blocks.

Two facts, both exact:

* Block invariance (thm-block-invariance): the phases give every term of y_t a total phase
  degree; only the prediction blocks (lower-left of W^KQ, left of W^PV) produce degree t,
  the degree of the target x_{t+1}. Terms of other degrees are orthogonal to the target and
  to each other, and enter the loss quadratically, so at zero they have zero gradient: the
  other blocks stay zero under the flow, for every law of x_1.
* Within the prediction blocks, the off-diagonal entries stay zero if and only if their
  gradient vanishes on the diagonal manifold; :func:`off_diagonal_gradient` gives it exactly.
  A sufficient condition (:func:`sign_symmetric`): the law is unchanged by flipping the sign
  of any one coordinate. Then L(S A S, S B S) = L(A, B) for S = diag(+-1), and A_jk, B_jk
  (j != k) change sign under S while the diagonal does not, so their gradient vanishes on the
  diagonal manifold. (The exact moment condition is the subject of the emergence-condition work.)

In a setting (:class:`mesacheck.symbolic.setting.Setting`: a law of W, noise, rho_t, trained
positions) both facts are re-derived from the setting's exact K and J: :func:`emergence_condition`
takes the setting, and :func:`block_invariance` says which blocks stay zero and why. Each block
of the full model shifts the phase degree of its terms by an offset delta (:data:`BLOCKS`); on
the manifold a block's gradient pairs its terms (degree t + delta in each coordinate's phase)
with the residual (degree t). Uniform phases (any modulus) average such a pair to 0 unless
delta = 0; the N-th roots of unity only unless delta = 0 mod N (N = 2: the upper-right block of
W^KQ, delta = -2, is driven); circular complex noise keeps the rule, and real noise, whose pairs
xi^2 need not be conjugated, balances an even offset (the same block is driven by E xi^2).
"""

from __future__ import annotations

import functools
import itertools

import mpmath
import sympy as sp

from . import full_model, positions
from ._cache import disk_cached
from .moments import Atoms, Distribution, SymbolicMoments, marginal
from .population_loss import diagonal_parameters, population_loss, prediction_block_symbols

__all__ = [
    "off_diagonal_gradient",
    "sign_symmetric",
    "manifold_gradient",
    "emergence_condition",
    "equal_diagonal_condition",
    "emergence_patterns",
    "pattern_of",
    "moment_exponents",
    "product_law",
    "pattern_violating_law",
    "MAX_D_OFF_DIAGONAL",
    "LOSS_DEGREE",
    "BLOCKS",
    "block_of",
    "phase_offset_couples",
    "block_invariance",
    "masking_keeps_diagonal",
]

_MARGINAL_D = 4  # the most coordinates one coefficient of the emergence condition involves

LOSS_DEGREE = 6  # y_t is cubic in x_1, so the loss sees the moments of x_1 up to degree 6

MAX_D_OFF_DIAGONAL = 3  # the general prediction-block loss takes ~5 s at d = 3, minutes at d = 5


def sign_symmetric(law: Distribution) -> bool:
    """Whether every moment of degree <= 6 that is odd in some coordinate vanishes: the loss
    cannot tell the law from its image under a sign flip of any coordinate.

    >>> from mesacheck.symbolic.moments import gaussian, sparse, full_one
    >>> sign_symmetric(gaussian(3)), sign_symmetric(sparse(4)), sign_symmetric(full_one(2))
    (True, True, False)
    """
    variables = law.d if law.real else 2 * law.d
    for exponents in itertools.product(range(LOSS_DEGREE + 1), repeat=variables):
        if sum(exponents) > LOSS_DEGREE:
            continue
        alpha = exponents[: law.d]
        beta = exponents[law.d :] if not law.real else (0,) * law.d
        if any((a + b) % 2 for a, b in zip(alpha, beta)) and law.moment(alpha, beta) != 0:
            return False
    return True


def off_diagonal_gradient(law: Distribution) -> dict[str, sp.Expr]:
    """dL/dA_jk and dL/dB_jk (j != k) on the diagonal manifold A = diag(a), B = diag(b), for
    the entries where it is not identically zero. Empty means the diagonal model is invariant.

    >>> from mesacheck.symbolic.moments import gaussian, full_one
    >>> off_diagonal_gradient(gaussian(2)), sorted(off_diagonal_gradient(full_one(2)))
    ({}, ['A_12', 'A_21', 'B_12', 'B_21'])
    """
    if law.d > MAX_D_OFF_DIAGONAL:
        raise NotImplementedError(
            f"the exact off-diagonal gradient is derived for d <= {MAX_D_OFF_DIAGONAL} only (d = {law.d})"
        )
    A, B = prediction_block_symbols(law.d)
    a, b = diagonal_parameters(law.d)
    diagonal = {}
    for j in range(law.d):
        for k in range(law.d):
            diagonal[A[j, k]] = a[j] if j == k else 0
            diagonal[B[j, k]] = b[j] if j == k else 0
    loss = population_loss(law, parameters="prediction-blocks")
    out = {}
    for M in (A, B):
        for j in range(law.d):
            for k in range(law.d):
                if j != k:
                    g = sp.factor(sp.diff(loss, M[j, k]).xreplace(diagonal))
                    if g != 0:
                        out[str(M[j, k])] = g
    return out


def _entry(name: str, row: int, column: int) -> str:
    return f"{name}[{row + 1},{column + 1}]"


def manifold_gradient(law: Distribution, T: int) -> dict[str, sp.Expr]:
    """The full gradient 2 dL/d conj(W) (real part: dL/d Re W, imaginary part: dL/d Im W) at
    the diagonal manifold W^KQ = [[0, 0], [diag(a), 0]], W^PV = [diag(b), 0], a and b real,
    for every entry of both matrices where it is not identically zero (eq-full-loss):

        2 dL/d conj z_r = K z_r - conj(J_r),  z_r[c, a, b] = W^PV[r, c] W^KQ[a, b],

    and the chain rule through z. Entries are named "W_KQ[row,col]" (1-based).

    >>> from mesacheck.symbolic.moments import gaussian
    >>> sorted(manifold_gradient(gaussian(1), 3))
    ['W_KQ[2,1]', 'W_PV[1,1]']
    """
    d, n = law.d, 2 * law.d
    a, b = diagonal_parameters(d)
    support = [(r, d + j, j) for r in range(d) for j in range(d)]  # z_r[r, d+j, j] = b_r a_j
    # the counts in closed form in T (past T = 2002 with harmonic numbers as symbols): the cost
    # does not depend on T, and _vanishes decides each coefficient exactly

    def g(r, column):  # 2 dL / d conj z_r[column] on the manifold
        total = -sp.conjugate(full_model.linear_coefficient(law, T, r, column, closed_form=True))
        for rr, aa, bb in support:
            if rr == r:
                total += (
                    full_model.quadratic_coefficient(law, T, column, (r, aa, bb), closed_form=True)
                    * b[r]
                    * a[bb]
                )
        return total

    out = {}
    for r in range(d):
        for col in range(n):
            value = sum(g(r, (col, d + j, j)) * a[j] for j in range(d))
            out[_entry("W_PV", r, col)] = value
    for row in range(n):
        for col in range(n):
            out[_entry("W_KQ", row, col)] = sum(g(r, (r, row, col)) * b[r] for r in range(d))
    expanded = {k: sp.expand(v) for k, v in out.items()}
    return {k: v for k, v in expanded.items() if not _vanishes(v)}


# A coefficient that is not symbolically zero, evaluated at this precision, is non-zero when it
# exceeds its terms' size by more than _MARGIN: 50-digit arithmetic leaves a relative error
# ~1e-48 (a few roundings of H_n and of exact rationals), 10^8 times below the margin.
_DIGITS = 50
_MARGIN = mpmath.mpf(10) ** -40


def _vanishes(value: sp.Expr) -> bool:
    """Whether an expression in the law's symbols, (a, b) and harmonic-number symbols
    (:func:`mesacheck.symbolic.positions.harmonic_symbol`) is identically zero once the harmonic numbers
    take their values. Zero is decided exactly: by symbolic cancellation or, where a 50-digit
    evaluation cannot tell, with the exact rationals H_n substituted. Non-zero is decided by
    that 50-digit evaluation (see _MARGIN) or exactly."""
    value = sp.expand(value)
    if value == 0:
        return True
    harmonics = positions.harmonic_symbols_in(value)
    if not harmonics:
        return False  # a non-zero polynomial with exact coefficients
    groups: dict = {}  # monomial in the other symbols -> {product of harmonic symbols: rational}
    for term in sp.Add.make_args(value):
        rest, harmonic_part = term.as_independent(*harmonics, as_Add=False)
        number, monomial = rest.as_coeff_Mul()
        inner = groups.setdefault(monomial, {})
        inner[harmonic_part] = inner.get(harmonic_part, 0) + number
    with mpmath.workdps(_DIGITS):
        point = {h: _harmonic_mpf(*nk) for h, nk in harmonics.items()}
        for inner in groups.values():
            inner = {part: sp.Rational(c) for part, c in inner.items() if c != 0}
            if not inner:
                continue
            if set(inner) == {sp.S.One}:
                return False  # a non-zero rational
            terms = [mpmath.mpf(c.p) / c.q * _at(part, point) for part, c in inner.items()]
            if abs(mpmath.fsum(terms)) > _MARGIN * mpmath.fsum(abs(x) for x in terms):
                return False  # non-zero, decided at 50 digits
            exact = {h: positions.exact_harmonic(*nk) for h, nk in harmonics.items()}
            if sum(c * part.xreplace(exact) for part, c in inner.items()) != 0:
                return False  # too close to call at 50 digits: decided exactly
    return True


def _harmonic_mpf(n: int, order: int):
    return mpmath.harmonic(n) if order == 1 else mpmath.zeta(order) - mpmath.zeta(order, n + 1)


def _at(part: sp.Expr, point: dict):
    out = mpmath.mpf(1)
    for base, exponent in part.as_powers_dict().items():
        if base != 1:
            out *= point[base] ** int(exponent)
    return out


def _on_manifold(name: str, d: int) -> bool:
    row, col = (int(v) - 1 for v in name[name.index("[") + 1 : -1].split(","))
    return (name.startswith("W_KQ") and row == d + col) or (name.startswith("W_PV") and row == col)


def emergence_condition(law: Distribution, T: int) -> dict[str, sp.Expr]:
    """The exact condition for the diagonal manifold (real a, b) to be invariant under the
    full flow, at sequence length T: every returned expression must vanish. Keys name the
    gradient entry and the monomial in (a, b) whose coefficient it is; the real and imaginary
    parts of off-manifold entries, and the imaginary parts of on-manifold ones, are required.

    Necessary and sufficient: the flow keeps the manifold iff the vector field is tangent to
    it at every point, i.e. iff these polynomials in (a, b) vanish identically, i.e. iff every
    coefficient does (thm-emergence-condition). Empty means the condition holds.

    For an exchangeable law (:attr:`Distribution.exchangeable`) in d > 4 coordinates this is
    the condition of its marginal on four coordinates, and the keys name those: a coefficient
    involves at most four coordinates (the entry's row and column, the r or j summed into it,
    and the j' of a_j' in its quadratic terms), so each one at d is one of the marginal's after
    relabelling, and the cost does not grow with d.

    Past T = 2002 the coefficients hold H_{T-2} and H_{T-2}^(2) as the symbols ``H1_n``,
    ``H2_n`` (:func:`mesacheck.symbolic.positions.harmonic_symbol`); whether one vanishes is still
    decided exactly (:func:`_vanishes`).

    >>> from mesacheck.symbolic.moments import gaussian, full_one
    >>> emergence_condition(gaussian(2), 4), len(emergence_condition(full_one(2), 4)) > 0
    ({}, True)
    >>> emergence_condition(gaussian(1000), 10**6), len(emergence_condition(full_one(1000), 10**6)) > 0
    ({}, True)
    """
    return _emergence_condition(law, T, positions.HARMONIC_EXACT_UNTIL)


def _identity(law, T, exact_until) -> tuple:
    from .setting import as_setting

    return as_setting(law).identity, T, exact_until


# several claims and commands ask for the same (law, T); the coefficients hold harmonic numbers
# as symbols past HARMONIC_EXACT_UNTIL, so the cache keeps that threshold in its key
@disk_cached(key=_identity)
def _emergence_condition(law: Distribution, T: int, exact_until: int) -> dict[str, sp.Expr]:
    if law.exchangeable and law.d > _MARGINAL_D:
        # any setting: W's entries and the noise are i.i.d. across coordinates, so the argument
        # about coordinates holds as it is (marginal keeps the setting's process)
        law = marginal(law, _MARGINAL_D)
    a, b = diagonal_parameters(law.d)
    out = {}
    for name, value in manifold_gradient(law, T).items():
        parts = (
            [("im", sp.im(value))]
            if _on_manifold(name, law.d)
            else [("re", sp.re(value)), ("im", sp.im(value))]
        )
        for part, expr in parts:
            expr = sp.expand(expr)
            if expr == 0:
                continue
            for monomial, coefficient in sp.Poly(expr, *a, *b).terms():
                coefficient = sp.expand(coefficient)
                if not _vanishes(coefficient):
                    term = sp.Mul(*(s**e for s, e in zip((*a, *b), monomial)))
                    out[f"{part} {name} : {term}"] = coefficient
    return out


def equal_diagonal_condition(law: Distribution, T: int) -> dict[str, sp.Expr]:
    """The exact condition for the equal-diagonal plane a_j = a, b_j = b to be invariant under
    the diagonal flow: dL/da_j and dL/db_j must not depend on j there. Every returned
    coefficient (of a monomial in a, b, of dL/da_j - dL/da_1 or dL/db_j - dL/db_1) must vanish.
    Then the model is one step of vanilla GD with the same step for every coordinate; else the
    step is preconditioned by diag(a_j b_j) (thm-equal-diagonal-condition).

    For an exchangeable law (:attr:`Distribution.exchangeable`) in d > 3 coordinates the
    condition holds by symmetry, and nothing is expanded: permuting the coordinates of x_1 and
    of (a, b) together leaves L unchanged, every point of the plane is fixed by those
    permutations, so the gradient there is fixed by them too, and dL/da_j, dL/db_j do not
    depend on j. At d <= 3 it is computed, which checks the argument (tests).

    >>> from mesacheck.symbolic.moments import gaussian, Atoms
    >>> equal_diagonal_condition(gaussian(3), 5), equal_diagonal_condition(gaussian(1000), 10**6)
    ({}, {})
    """
    if law.exchangeable and law.d > 3:
        return {}
    a_sym, b_sym = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    a, b = diagonal_parameters(law.d)
    plane = {**{s: a_sym for s in a}, **{s: b_sym for s in b}}
    gradient = manifold_gradient(law, T)
    out = {}
    for name, rows in (
        ("W_KQ", [(law.d + j, j) for j in range(law.d)]),
        ("W_PV", [(j, j) for j in range(law.d)]),
    ):
        values = [sp.re(gradient.get(_entry(name, r, c), 0)).xreplace(plane) for r, c in rows]
        for j in range(1, law.d):
            difference = sp.expand(values[j] - values[0])
            if difference == 0:
                continue
            for monomial, coefficient in sp.Poly(difference, a_sym, b_sym).terms():
                if not _vanishes(coefficient):  # exact, with H_{T-2} as a symbol past T = 2002
                    key = f"{_entry(name, *rows[j])} - {_entry(name, *rows[0])}"
                    out[f"{key} : {a_sym ** monomial[0] * b_sym ** monomial[1]}"] = sp.expand(coefficient)
    return out


def moment_exponents(symbol: sp.Symbol) -> tuple[int, ...]:
    """The exponents of a moment symbol of :func:`SymbolicMoments` (real), e.g. m_{3,0,1} ->
    (3, 0, 1)."""
    body = symbol.name[symbol.name.index("{") + 1 : -1]
    return tuple(int(v) for v in body.split(","))


def pattern_of(exponents) -> tuple[int, ...]:
    """The pattern of a moment for a general d: its non-zero exponents, largest first
    (E[x_j^3 x_k x_l^2] -> (3, 2, 1))."""
    return tuple(sorted((e for e in exponents if e), reverse=True))


def emergence_patterns(d: int, T: int) -> list[tuple[int, ...]]:
    """The moment patterns in the emergence condition of a real token in d coordinates at
    length T: the condition is that E[prod_k x_k^e_k] = 0 for every exponent vector e of these
    patterns (each condition is one moment times a positive rational).

    >>> emergence_patterns(3, 5), emergence_patterns(3, 10**6) == emergence_patterns(3, 5)
    ([(3, 1), (3, 2, 1), (3, 3), (5, 1)], True)
    """
    condition = emergence_condition(SymbolicMoments(d), T)
    moments = {s for form in condition.values() for s in form.free_symbols}
    moments -= set(positions.harmonic_symbols_in(sp.Add(*condition.values())))  # past T = 2002
    return sorted({pattern_of(moment_exponents(s)) for s in moments})


def product_law(first: Distribution, d: int, name: str | None = None) -> Distribution:
    """``first`` on the leading coordinates and independent Rademacher signs (+-1) on the other
    d - first.d: a way to lift a counterexample to any d without adding new violations."""
    d0 = first.d
    if d < d0:
        raise ValueError(f"d = {d} is smaller than the law's {d0} coordinates")

    def moment(alpha, beta):
        if any((a + b) % 2 for a, b in zip(alpha[d0:], beta[d0:])):
            return sp.S.Zero
        return first.moment(alpha[:d0], beta[:d0])

    return Distribution(
        name or f"{first.name}+signs", d, moment, first.real, first.parameters, ("signs", first, d)
    )


@functools.cache  # several claims build the same laws; a law is immutable
def pattern_violating_law(pattern: tuple[int, ...], d: int | None = None) -> Distribution:
    """A real law with rational atoms whose only non-zero moment among the emergence patterns
    (:func:`emergence_patterns`) is E[x_1^p_1 x_2^p_2 ...] for the given pattern, lifted to d
    coordinates with :func:`product_law`.

    Built by perturbing the uniform law on {-3, -2, -1, 1, 2, 3}^k (sign-symmetric, so every pattern
    moment vanishes) by the least-norm weight change that sets the target moment to a positive
    value and keeps every other pattern moment (and the total weight) fixed.
    """
    k = len(pattern)
    grid = list(itertools.product((-3, -2, -1, 1, 2, 3), repeat=k))
    law = Atoms(grid, _violating_weights(tuple(pattern)), name=f"violates-{'-'.join(map(str, pattern))}")
    return law if d is None or d == k else product_law(law, d, name=law.name)


@disk_cached  # an exact 9 x 216 solve: ~0.1 s a pattern, in every process that builds these laws
def _violating_weights(target: tuple[int, ...]) -> list:
    """The atoms' weights of :func:`pattern_violating_law` (the grid in itertools.product order)."""
    k = len(target)
    grid = list(itertools.product((-3, -2, -1, 1, 2, 3), repeat=k))
    rows = [(0,) * k] + sorted(
        {
            moment_exponents(s)
            for form in emergence_condition(SymbolicMoments(k), 4).values()
            for s in form.free_symbols
        }
    )
    if target not in rows:
        raise ValueError(f"{target} is not an emergence pattern in {k} coordinates")
    M = sp.Matrix([[sp.Mul(*(x**e for x, e in zip(point, row))) for point in grid] for row in rows])
    goal = sp.Matrix([1 if row == target else 0 for row in rows])
    delta = M.T * (M * M.T).LUsolve(goal)
    base = sp.Rational(1, len(grid))
    step = min(base / (2 * abs(v)) for v in delta if v != 0)
    step = sp.Rational(1, 2 ** (int(sp.ceiling(sp.log(1 / step, 2)))))  # a power of 1/2 below it
    return [base + step * v for v in delta]


# The blocks of the full model: (matrix, row block, column block) -> (name, phase offset delta).
# An entry's indices are (block, coordinate): block 0 reads x_i (or, for W^KQ's columns, the
# query x_t), block 1 reads x_{i-1} (x_{t-1}). The term P[r, c] Q[a, b] e_i[c] conj(e_i[a]) e_t[b]
# has phase degree t - 1 + block(a) - block(c) - block(b) (eq-full-prediction), so its offset
# from the target's degree t is delta = block(a) - block(c) - block(b) - 1; on the manifold a
# W^KQ entry pairs with W^PV's left block (c in block 0) and a W^PV entry with W^KQ's
# lower-left block (a in block 1, b in block 0).
BLOCKS = {
    ("W_KQ", 1, 0): ("W^KQ lower-left (prediction block)", 0),
    ("W_KQ", 0, 0): ("W^KQ upper-left", -1),
    ("W_KQ", 1, 1): ("W^KQ lower-right", -1),
    ("W_KQ", 0, 1): ("W^KQ upper-right", -2),
    ("W_PV", 0, 0): ("W^PV left (prediction block)", 0),
    ("W_PV", 0, 1): ("W^PV right", -1),
}


def block_of(name: str, d: int) -> tuple[str, int, int]:
    """The block key (matrix, row block, column block) of an entry named "W_KQ[row,col]"
    (1-based; W^PV has one row block).

    >>> block_of("W_KQ[1,3]", 2), block_of("W_PV[2,1]", 2)
    (('W_KQ', 0, 1), ('W_PV', 0, 0))
    """
    matrix = name[: name.index("[")]
    row, col = (int(v) - 1 for v in name[name.index("[") + 1 : -1].split(","))
    return (matrix, 0 if matrix == "W_PV" else row // d, col // d)


def phase_offset_couples(setting, offset: int) -> bool:
    """Whether the law of W (and the noise) of a setting can average a term of phase offset
    ``offset`` against the target to a non-zero value: the phase rule of thm-block-invariance.
    Uniform phases: only offset 0; the N-th roots of unity: offset = 0 mod N; real noise: also
    any even offset."""
    from .setting import as_setting

    setting = as_setting(setting)
    period = setting.phases.phase_period
    if offset == 0 or (period and offset % period == 0):
        return True
    return bool(setting.noise.present and not setting.noise.circular and offset % 2 == 0)


def block_invariance(setting, condition: dict) -> list[dict]:
    """For each block of the full model: its name, phase offset, whether the phase rule
    (:func:`phase_offset_couples`) lets the setting drive it, and whether the exact emergence
    ``condition`` (:func:`emergence_condition` of the same setting) drives it, with the entries
    whose coefficients do not vanish. The exact coefficients decide; the phase rule says why."""
    from .setting import as_setting

    d = as_setting(setting).d
    driven: dict = {}
    for key in condition:
        entry = key.split(" ")[1]
        driven.setdefault(block_of(entry, d), set()).add(entry)
    out = []
    for key, (name, offset) in BLOCKS.items():
        entries = sorted(driven.get(key, ()))
        out.append(
            {
                "block": name,
                "phase_offset": offset,
                "phase_rule_allows": phase_offset_couples(setting, offset),
                "stays_zero" if offset else "stays_diagonal": not entries,
                "driven_entries": entries,
            }
        )
    return out


def masking_keeps_diagonal(condition: dict, d: int) -> bool:
    """Whether the reference's masking (the off-diagonal entries of the prediction blocks held
    at 0) keeps the diagonal model where ``condition`` fails: every non-zero coefficient is of
    such an entry (none of another block, none of an on-manifold entry's imaginary part)."""
    prediction = {("W_KQ", 1, 0), ("W_PV", 0, 0)}
    for key in condition:
        entry = key.split(" ")[1]
        if block_of(entry, d) not in prediction or _on_manifold(entry, d):
            return False
    return True
