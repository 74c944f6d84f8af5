"""What every verb shares: the refusal of a request (:class:`InvalidRequest`), the law of x_1 with
its parameter values and units (:class:`ScaledLaw`), the diagonal reduction's precondition and
the flow's tolerance for a start. No click here: the command line turns these into its errors."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "InvalidRequest",
    "NoAnswer",
    "ScaledLaw",
    "scaled",
    "diagonal_regime",
    "start_atol",
    "in_user_units",
    "read_model",
    "refuse_model",
    "MODEL_COMMANDS",
]

# the commands that take --model, --heads and --key-dim so far (the others refuse them)
MODEL_COMMANDS = ("flow --full", "simulate")


class InvalidRequest(ValueError):
    """A request the verb refuses before any work (bad usage); its message is one line. The command
    line reports it as a usage error (exit 2)."""


class NoAnswer(ValueError):
    """The computation has no answer to report (e.g. a flat loss); the command line exits 1."""


@dataclass(frozen=True)
class ScaledLaw:
    """A law of x_1 with its parameter values, held in normalized units.

    ``law`` may keep its parameters as symbols (sigma, c: the closed forms then show them) and
    ``values`` maps their names, and ``T``, to exact values; ``sampling_law`` is the same law
    with the numbers in place. A law of extreme scale (x_1 of size 10^k) is held as x_1 / 10^k
    (``digits`` = k): the flow is invariant under x_1 -> s x_1, (a, b) -> (a, b) / s,
    tau -> tau / s^4, so a b scales by 1/s^2 and the loss by s^2 (:meth:`in_user_units`)."""

    law: object  # mesacheck.symbolic.moments.Distribution, with parameters as symbols
    values: dict  # symbol name -> exact value, T included (normalized units)
    sampling_law: object  # the same law with numbers in place of its parameters (normalized units)
    description: str
    digits: int = 0  # x_1 has been divided by 10^digits

    @property
    def T(self) -> int:
        return int(self.values["T"])

    @property
    def scale(self):
        import sympy as sp

        return sp.Integer(10) ** self.digits

    def at(self, T: int) -> ScaledLaw:
        """The same law with the training length ``T``."""
        return ScaledLaw(self.law, {**self.values, "T": T}, self.sampling_law, self.description, self.digits)

    def in_user_units(self, value, length_power: int):
        """A normalized value of dimension (length of x_1)^length_power back in the user's
        units: a float where a double holds it, else a string of 15 significant digits."""
        return in_user_units(value, length_power, self.digits)


def in_user_units(value, length_power: int, digits: int):
    """:meth:`ScaledLaw.in_user_units` for a law divided by 10^digits."""
    if value is None or digits == 0:
        return value
    import mpmath

    with mpmath.workdps(30):
        out = mpmath.mpf(value) * mpmath.mpf(10) ** (digits * length_power)
        if out == 0 or 1e-300 < abs(out) < 1e300:
            return float(out)
        return mpmath.nstr(out, 15)


def scaled(law_or_scaled, T: int) -> ScaledLaw:
    """A :class:`ScaledLaw` at length ``T``: a numeric law as it is, in its own units."""
    if isinstance(law_or_scaled, ScaledLaw):
        return law_or_scaled.at(T)
    return ScaledLaw(law_or_scaled, {"T": T}, law_or_scaled, repr(law_or_scaled))


def diagonal_regime(law: ScaledLaw, mask: bool) -> str:
    """Why the diagonal model is exact here, or :class:`InvalidRequest` with the reason it is not."""
    from mesacheck.symbolic.conditions import emergence_condition

    if mask:
        return "masked: the off-diagonal entries of the prediction blocks are held at 0"
    offending = emergence_condition(law.law, law.T)
    if not offending:
        return (
            "unmasked: the emergence condition holds, so the full flow keeps the diagonal prediction blocks"
        )
    raise InvalidRequest(
        f"the emergence condition fails for this law ({len(offending)} non-zero coefficients, e.g. "
        f"{next(iter(offending))}; see `mesacheck conditions`): the diagonal closed form does not describe "
        "unmasked training; pass --mask for the reference's masked training, or use "
        "`mesacheck flow --full` for the exact full flow"
    )


def start_atol(a0: float, b0: float) -> float:
    """The flow's absolute tolerance for a start of this size: the library's 1e-14 is meant for
    starts of order 1; from a tiny start on a0 = -b0 the state falls 13 decades below the start
    into the saddle, and an absolute tolerance above that never lets the solver settle."""
    return 1e-14 * min(1.0, max(abs(a0), abs(b0)))


def read_model(model, mask: bool, d: int, init: str = "diagonal"):
    """The :class:`mesacheck.symbolic.parameterization.Model` a verb runs: ``model`` (default the
    paper's) with the reference's masking when ``mask``, checked at dimension d with its start
    ``init``; an impossible one is :class:`InvalidRequest` (one line)."""
    from dataclasses import replace

    from mesacheck.symbolic.parameterization import PAPER_MODEL, InvalidModel

    model = PAPER_MODEL if model is None else model
    try:
        if mask and not model.masked:
            model = replace(model, mask="prediction-blocks")
        keys = model.keys(d)
    except InvalidModel as error:
        raise InvalidRequest(str(error)) from None
    if init == "diagonal" and model.parameterization == "separate" and keys < d:
        raise InvalidRequest(
            f"the diagonal start W^KQ = a0 I in its lower-left block has rank d = {d}, above the key "
            f"dimension {keys}: start at random (--init random)"
        )
    return model


def refuse_model(model, verb: str) -> None:
    """Refuse a model other than the paper's where a verb's derivation is the paper's."""
    if model is not None and not model.is_paper:
        raise InvalidRequest(
            f"`mesacheck {verb}` takes the paper's model only so far (one merged head), "
            f"not {model.describe()}; "
            f"{' and '.join(f'`mesacheck {c}`' for c in MODEL_COMMANDS)} take --model, --heads and --key-dim"
        )
