"""The exact gradient flow of every entry of W^KQ and W^PV: its limit, certificate and
structure, against the exact mesa-optimizer p* of the setting."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..costs import announce, exact_averages_cost, exact_size_guard, flow_cost, guard, model_flow_cost
from ._base import InvalidRequest, read_model, scaled

__all__ = ["FullFlow", "full_flow", "BLOW_UP", "REACHED_RTOL"]

BLOW_UP = 1e6  # integrate_full_flow's default box: an entry beyond it means the flow runs away

# the flow stops at |grad L| <= 1e-11 (gradient_tolerance), and the Hessian's eigenvalues off
# the symmetry modes are >= ~3 at d = 5, T = 100, so every a_j b_j is within ~1e-11 of the
# limit: 1e-9 leaves a factor of 100 (the random-initialization claim uses the same bound)
REACHED_RTOL = 1e-9


@dataclass(frozen=True)
class FullFlow:
    """The end of the full flow: ``W_KQ``, ``W_PV`` (complex arrays), the mean a b and the
    loss there, whether it is stationary, the ``structure`` found ("diagonal", "symmetric",
    "general"), the exact p* against every a_j b_j (``exact_limit``, None where p* is not
    defined), the ``solution`` with its certificate (gradient norm, conserved drift) and
    ``report``, as ``mesacheck flow --full --json`` prints it. For a model of several heads
    or separate keys and queries, ``W_KQ`` and ``W_PV`` are the first head's merged matrices,
    ``heads`` every head's matrices and ``model`` the model's description."""

    W_KQ: object
    W_PV: object
    ab: float
    loss: float
    stationary: bool
    structure: str
    exact_limit: dict | None
    solution: object = field(repr=False, compare=False)
    report: dict = field(default_factory=dict, repr=False, compare=False)
    heads: list = field(default_factory=list, repr=False, compare=False)
    model: object = None


def full_flow(
    setting,
    T: int,
    a0: float = 0.1,
    b0: float = 0.1,
    *,
    init: str = "diagonal",
    sigma_w: float = 0.1,
    seed: int = 0,
    mask: bool = False,
    tau_max: float = 1e5,
    allow_unfinished: bool = False,
    law=None,
    force: bool = False,
    show_cost: bool = False,
    progress=None,
    certify: bool = False,
    model=None,
) -> FullFlow:
    """Integrate the exact full flow (LSODA with the exact Hessian, until |grad L| <= 1e-11) from
    the diagonal start (a0, b0) or, ``init="random"``, a Gaussian start of scale ``sigma_w``.

    ``model``: a :class:`mesacheck.symbolic.parameterization.Model` (default the paper's: one
    merged head), its mask taken from ``mask``; its flow is the same integration in its own
    parameters (:func:`mesacheck.numeric.parameterized.integrate_model_flow`), the paper's
    model to the last bit.

    ``setting``: a law of x_1 or a :class:`mesacheck.Setting`; ``law``: the same law as a
    :class:`ScaledLaw` (the command line's). ``allow_unfinished`` reports the state at
    ``tau_max``, marked not stationary, instead of raising; ``progress(gtol)``, given the
    stopping tolerance, returns the callback ``(tau, gradient_norm)`` called as the flow runs.
    ``certify`` proves, in interval arithmetic, that a unique stationary point lies within 1e-9
    of the limit and gives the Hessian's inertia there (:mod:`mesacheck.numeric.certify`); the
    report's "certified" holds the box and the verdict.

    >>> import mesacheck
    >>> result = mesacheck.full_flow(mesacheck.gaussian(2, 1), 5)
    >>> result.structure, result.exact_limit["reached"]
    ('diagonal', True)
    """
    import numpy as np

    from mesacheck.numeric.full_flow import (
        full_model,
        gradient_tolerance,
        off_diagonal_size,
        random_initialization,
        structure_of,
    )
    from mesacheck.numeric.parameterized import ParameterizedLoss, initialize, integrate_model_flow
    from mesacheck.numeric.simulate import diagonal_initialization
    from mesacheck.symbolic.parameterization import InvalidModel
    from mesacheck.symbolic.setting import as_setting

    exact = as_setting(setting)
    given = scaled(exact.law if law is None else law, T)
    if given.digits:
        raise InvalidRequest(
            f"x_1 has scale 10^{given.digits}: the full model's moments (up to degree 6) leave double "
            f"precision; integrate x_1 / 10^{given.digits} instead (the flow is invariant: a b scales by "
            "1/scale^2, time by 1/scale^4), or use `mesacheck limit`"
        )
    model = read_model(model, mask, given.law.d, init)
    cost = (
        flow_cost(given.law.d, T)
        if model.is_paper
        else model_flow_cost(given.law.d, T, 2 * model.size(given.law.d))
    )
    guard(cost, force)
    announce(cost, show_cost)
    if init not in ("diagonal", "random"):
        raise InvalidRequest(f"init is 'diagonal' or 'random', got {init!r}")
    if init == "random" and mask:
        raise InvalidRequest("--mask needs zero off-diagonal prediction blocks: use --init diagonal")
    if certify:
        if not model.is_paper:
            raise InvalidRequest(
                f"--certify proves limits of the paper's model (one merged head) only so far, not of "
                f"{model.describe()}"
            )
        _can_certify(exact, d=given.law.d, mask=mask)
    start_time = time.perf_counter()
    if not exact.is_paper_process:
        guard(exact_averages_cost(T, exact), force)
        exact_size_guard(exact.phases, T, force, exact)
    loss = ParameterizedLoss(model, full_model(exact, T))
    d = given.law.d
    if model.is_paper:  # the paper's starts, drawn as they always were
        if init == "diagonal":
            start = loss.pack(diagonal_initialization(d, a0, b0))
        else:
            start = loss.pack(random_initialization(d, sigma_w, np.random.default_rng(seed)))
    else:
        try:
            start = initialize(loss, init, a0=a0, b0=b0, sigma_w=sigma_w, seed=seed)
        except InvalidModel as error:
            raise InvalidRequest(str(error)) from None
    largest = float(np.max(np.abs(start)))
    if largest >= BLOW_UP:  # the solver's blow-up event only fires on the way out, not outside
        raise InvalidRequest(
            f"the start has an entry of size {largest:.3g}, outside the box |W| < {BLOW_UP:g} in which the "
            "full flow is integrated (a quartic loss: from there it runs away); start smaller"
        )
    solution = integrate_model_flow(
        loss,
        start,
        tau_max=tau_max,
        blow_up=BLOW_UP,
        progress=None if progress is None else progress(gradient_tolerance(loss.base)),
        allow_unfinished=allow_unfinished,
    )
    heads = loss.heads(solution.limit)
    W_KQ, W_PV = heads[0]
    structures = [structure_of(Q, P) for Q, P in heads]
    structure = structures[0] if len(set(structures)) == 1 else "general"
    stationary = solution.stationary
    exact_limit = _against_exact_limit(exact, T, loss.z(solution.limit), structure, stationary)
    report = {
        "law": given.description,
        "setting": exact.describe(),
        **({} if model.is_paper else {"model": {**model.as_dict(), "description": model.describe()}}),
        "d": d,
        "T": T,
        "init": init,
        "mask": mask,
        "ab": float(solution.ab[-1]),
        "loss": float(solution.loss[-1]),
        "stationary": stationary,
        "structure": structure,
        "off_diagonal": max(off_diagonal_size(Q, P) for Q, P in heads),
        "exact_limit": exact_limit,
        "certificate": {
            "gradient_norm": solution.gradient_norm,
            "conserved_drift": solution.conserved_drift,
            "gtol": solution.gtol,
            "rtol": solution.rtol,
        },
        "tau_end": float(solution.tau[-1]),
        "W_KQ": _matrix(W_KQ),
        "W_PV": _matrix(W_PV),
        "wall_seconds": time.perf_counter() - start_time,
    }
    if certify:
        report["certified"] = _certificate(exact, T, W_KQ, W_PV, tuple(loss.unpack(start)), stationary)
        report["wall_seconds"] = time.perf_counter() - start_time
    matrices = [
        dict(zip([name.split("[")[0] for name, _ in loss.shapes], group))
        for group in _by_head(loss, solution.limit)
    ]
    if not model.is_paper:
        report["heads"] = [
            {
                "structure": kind,
                **{name: _matrix(M) for name, M in group.items()},
                "W_KQ (merged)": _matrix(Q),
            }
            for kind, group, (Q, _) in zip(structures, matrices, heads)
        ]
        report["certificate"]["conserved"] = (
            "per head: ||W_PV||^2 - ||W_KQ||^2 (merged), ||W_PV||^2 - ||W_K||^2 and "
            "W_K W_K^H - conj(W_Q W_Q^H) (separate)"
        )
    report["wall_seconds"] = report.pop("wall_seconds")
    return FullFlow(
        W_KQ=W_KQ,
        W_PV=W_PV,
        ab=report["ab"],
        loss=report["loss"],
        stationary=stationary,
        structure=structure,
        exact_limit=exact_limit,
        solution=solution,
        report=report,
        heads=matrices,
        model=model,
    )


def _matrix(M) -> list:
    return [[str(complex(v)) if v.imag else float(v.real) for v in row] for row in M]


def _by_head(loss, theta) -> list:
    """The parameter matrices at theta, grouped by head."""
    matrices = loss.unpack(theta)
    per = len(matrices) // loss.model.heads
    return [matrices[per * h : per * h + per] for h in range(loss.model.heads)]


def _against_exact_limit(setting, T: int, z, structure: str, stationary: bool) -> dict | None:
    """The exact mesa-optimizer p* = beta / alpha of the setting (an exchangeable law) against
    the products a_j b_j = z_j[j, d+j, j] = sum_h W^KQ_h[d+j, j] W^PV_h[j, j] of the flow's end
    (one head: W^KQ[d+j, j] W^PV[j, j]): reached when the end is stationary and diagonal, and
    every product is within ``REACHED_RTOL`` of p*. None where p* is not defined (a law whose
    moments change under permuting coordinates)."""
    import numpy as np

    from mesacheck.symbolic.symmetric_line import symmetric_line

    try:
        p_star = float(symmetric_line(setting, T).ab_star)
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    d = z.shape[0]
    n = 2 * d
    j = np.arange(d)
    products = z.reshape(d, n, n, n)[j, j, d + j, j]
    gap = float(np.max(np.abs(products - p_star)) / abs(p_star) if p_star else np.max(np.abs(products)))
    return {
        "ab": p_star,
        "products": [float(v.real) for v in products],
        "max_relative_gap": gap,
        "reached": bool(stationary and structure == "diagonal" and gap <= REACHED_RTOL),
        "rtol": REACHED_RTOL,
    }


CERTIFY_RADIUS = 1e-9  # the box's half-width: 100x the distance the flow's stopping rule leaves


def _can_certify(setting, *, d: int, mask: bool) -> None:
    """Refuse --certify where the proof does not apply, before any work."""
    from mesacheck.numeric.certify import CERTIFY_MAX_D

    if mask:
        raise InvalidRequest(
            "--certify proves a stationary point of the full loss; the masked flow's limit is a constrained "
            "one: drop --mask"
        )
    if setting.noise.present:
        raise InvalidRequest(
            "--certify needs the exact rational coefficients, built for settings without noise"
        )
    if d > CERTIFY_MAX_D:
        raise InvalidRequest(
            f"--certify is offered for d <= {CERTIFY_MAX_D} (the exact K has (2d)^6 entries)"
        )


def _certificate(setting, T: int, W_KQ, W_PV, start, stationary: bool) -> dict:
    """The certificate of the flow's end as a dict, or the reason none could be attempted."""
    import numpy as np

    from mesacheck.numeric.certify import certify_stationary, conserved_quantity, exact_full_model

    if not stationary:
        return {"verdict": "not certified: the flow did not become stationary", "radius": CERTIFY_RADIUS}
    if np.any(W_KQ.imag) or np.any(W_PV.imag) or any(np.any(np.imag(W)) for W in start):
        return {"verdict": "not certified: the certificate runs on real parameters", "radius": CERTIFY_RADIUS}
    try:
        model = exact_full_model(setting, T)
    except (ValueError, ArithmeticError) as error:
        raise InvalidRequest(f"--certify: {error}") from None
    certificate = certify_stationary(
        model, W_KQ.real, W_PV.real, conserved=conserved_quantity(*start), radius=CERTIFY_RADIUS
    )
    return certificate.as_dict()
