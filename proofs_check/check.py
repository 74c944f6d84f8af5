"""The verdict of one claim: a prediction, an independent measurement, and a tolerance."""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Check", "claim_fields"]

Kind = Literal["equal", "upper_bound", "vanishes", "iff", "certified"]
KINDS = ("equal", "upper_bound", "vanishes", "iff", "certified")


@dataclass(frozen=True)
class Check:
    """One claim checked by two independent routes.

    ``predicted`` comes from :mod:`symbolic`; ``measured`` from an independent numeric route.
    The claim passes when

    * ``equal``: |measured - predicted| <= atol + rtol |predicted|;
    * ``vanishes``: |measured| <= atol (predicted is 0);
    * ``upper_bound``: measured <= predicted + atol + rtol |predicted|;
    * ``iff``: predicted and measured are the same tuple of truth values (both directions);
    * ``certified``: an interval-arithmetic proof (:mod:`mesacheck.numeric.certify`) around
      the numeric measurement: ``measured`` is its verdict (True: proven), ``predicted`` True.

    ``tolerance`` says where rtol and atol come from. ``exact``, when given, is the prediction
    as an exact algebraic SymPy number: :meth:`certified` then encloses it in a ball with a
    proven radius, and the JSON reports the ball beside the float.
    """

    claim: str
    statement: str
    kind: Kind
    predicted: object
    measured: object
    rtol: float
    atol: float
    tolerance: str
    evidence: dict = field(default_factory=dict)
    exact: object = field(default=None, compare=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of claim {self.kind!r}")
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError("rtol and atol must be non-negative")

    @property
    def error(self) -> float:
        """|measured - predicted| (0 or 1 for ``iff``: the number of disagreeing directions)."""
        if self.kind == "iff":
            return float(sum(p != m for p, m in zip(self.predicted, self.measured)))
        if self.kind == "certified":
            return float(self.measured is not True)
        return abs(complex(self.measured) - complex(self.predicted))

    @property
    def passed(self) -> bool:
        if self.kind == "iff":
            return tuple(self.predicted) == tuple(self.measured)
        if self.kind == "certified":
            return self.predicted is True and self.measured is True
        if not all(math.isfinite(abs(complex(v))) for v in (self.predicted, self.measured)):
            return False
        scale = self.atol + self.rtol * abs(complex(self.predicted))
        if self.kind == "vanishes":
            return abs(complex(self.measured)) <= self.atol
        if self.kind == "upper_bound":
            return float(self.measured) <= float(self.predicted) + scale
        return self.error <= scale

    def certified(self) -> dict | None:
        """The exact prediction as a ball with a proven radius (Arb, 128 bits), and whether the
        float ``predicted`` is that number to double rounding; None without ``exact``."""
        if self.exact is None:
            return None
        from mesacheck.numeric.bridge import algebraic_data
        from mesacheck.numeric.certify import certified_value

        value = certified_value(algebraic_data(self.exact))
        float_error = 2.0**-52 * abs(float(self.predicted))  # one rounding of the exact value
        return {
            **value.as_dict(),
            "contains_predicted": value.contains(float(self.predicted), radius=float_error),
        }

    def as_dict(self) -> dict:
        def plain(v):
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, tuple | list):
                return [plain(x) for x in v]
            if isinstance(v, bool | int | str) or v is None:
                return v
            return float(v) if abs(complex(v).imag) == 0 else str(complex(v))

        return {
            "claim": self.claim,
            "statement": self.statement,
            "kind": self.kind,
            "predicted": plain(self.predicted),
            "measured": plain(self.measured),
            "error": self.error,
            "rtol": self.rtol,
            "atol": self.atol,
            "tolerance": self.tolerance,
            "passed": self.passed,
            "evidence": plain(self.evidence),
        } | ({"certified": self.certified()} if self.exact is not None else {})


_FIELD = re.compile(r"^(Claim|Derivation|Guarantee|Reference):\s*", re.M)


def claim_fields(function) -> dict:
    """The Claim / Derivation / Guarantee / Reference fields of a claim function's docstring."""
    text = inspect.getdoc(function) or ""
    parts = _FIELD.split(text)
    fields = {name.lower(): " ".join(body.split()) for name, body in zip(parts[1::2], parts[2::2])}
    missing = {"claim", "derivation", "guarantee", "reference"} - set(fields)
    if missing:
        raise ValueError(f"{function.__name__}'s docstring lacks {sorted(missing)}")
    return fields
