"""The verdict of one claim: a prediction, an independent measurement, and a tolerance."""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Check", "claim_fields"]

Kind = Literal["equal", "upper_bound", "vanishes", "iff"]


@dataclass(frozen=True)
class Check:
    """One claim checked by two independent routes.

    ``predicted`` comes from :mod:`symbolic`; ``measured`` from an independent numeric route.
    The claim passes when

    * ``equal``: |measured - predicted| <= atol + rtol |predicted|;
    * ``vanishes``: |measured| <= atol (predicted is 0);
    * ``upper_bound``: measured <= predicted + atol + rtol |predicted|;
    * ``iff``: predicted and measured are the same tuple of truth values (both directions).

    ``tolerance`` says where rtol and atol come from.
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

    def __post_init__(self):
        if self.kind not in ("equal", "upper_bound", "vanishes", "iff"):
            raise ValueError(f"unknown kind of claim {self.kind!r}")
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError("rtol and atol must be non-negative")

    @property
    def error(self) -> float:
        """|measured - predicted| (0 or 1 for ``iff``: the number of disagreeing directions)."""
        if self.kind == "iff":
            return float(sum(p != m for p, m in zip(self.predicted, self.measured)))
        return abs(complex(self.measured) - complex(self.predicted))

    @property
    def passed(self) -> bool:
        if self.kind == "iff":
            return tuple(self.predicted) == tuple(self.measured)
        if not all(math.isfinite(abs(complex(v))) for v in (self.predicted, self.measured)):
            return False
        scale = self.atol + self.rtol * abs(complex(self.predicted))
        if self.kind == "vanishes":
            return abs(complex(self.measured)) <= self.atol
        if self.kind == "upper_bound":
            return float(self.measured) <= float(self.predicted) + scale
        return self.error <= scale

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
        }


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
