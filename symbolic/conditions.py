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
"""

from __future__ import annotations

import itertools

import sympy as sp

from .moments import Distribution
from .population_loss import diagonal_parameters, population_loss, prediction_block_symbols

__all__ = ["off_diagonal_gradient", "sign_symmetric", "MAX_D_OFF_DIAGONAL", "LOSS_DEGREE"]

LOSS_DEGREE = 6  # y_t is cubic in x_1, so the loss sees the moments of x_1 up to degree 6

MAX_D_OFF_DIAGONAL = 3  # the general prediction-block loss takes ~5 s at d = 3, minutes at d = 5


def sign_symmetric(law: Distribution) -> bool:
    """Whether every moment of degree <= 6 that is odd in some coordinate vanishes: the loss
    cannot tell the law from its image under a sign flip of any coordinate.

    >>> from symbolic.moments import gaussian, sparse, full_one
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

    >>> from symbolic.moments import gaussian, full_one
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
