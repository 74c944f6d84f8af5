"""The theorem check: every registered claim (or the named ones), run on every core."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CheckReport", "check"]


@dataclass(frozen=True)
class CheckReport:
    """Every claim's row in registry order (``claims``: its verdict, prediction, measurement,
    tolerance and time, as ``mesacheck check --json`` prints each), whether all ``passed``, the
    names that ``failed`` and the wall ``seconds``."""

    passed: bool
    failed: tuple
    claims: list = field(repr=False)
    seconds: float = field(default=0.0, compare=False)

    def as_dict(self) -> dict:
        """The JSON of ``mesacheck check --json``."""
        return {"passed": self.passed, "failed": list(self.failed), "claims": self.claims}


def check(
    only=(),
    *,
    quick: bool = False,
    workers: int | None = None,
    on_done: Callable[[dict], None] | None = None,
) -> CheckReport:
    """Run the claims named in ``only`` (every registered claim for none) at their ``quick``
    or full settings, on ``workers`` processes (default: ``MESACHECK_WORKERS`` or every core);
    ``on_done(row)`` is called as each claim finishes. Unknown names raise ``KeyError`` with
    the list of them.

    >>> import mesacheck
    >>> report = mesacheck.check(["prediction_is_one_gd_step"], quick=True, workers=1)
    >>> report.passed, report.failed, report.claims[0]["kind"]
    (True, (), 'vanishes')
    """
    from ..runner import find_claims, run_claims

    claims = find_claims(tuple(only))
    start = time.perf_counter()
    rows = run_claims(claims, quick=quick, workers=workers, on_done=on_done)
    failed = tuple(row["claim"] for row in rows if not row["passed"])
    return CheckReport(not failed, failed, rows, time.perf_counter() - start)
