"""The verbs: each job of the command line as a function that returns a frozen dataclass with
its certificate (``mesacheck.limit``, ``conditions``, ``recovery``, ``full_flow``, ``simulate``,
``check``). They hold the mathematics of the commands and know nothing of the command line:
a request they refuse raises :class:`InvalidRequest` (a ``ValueError``) with a one-line message.

One module per verb, each imported on first use (``import mesacheck`` stays quick)."""

from ._base import InvalidRequest, NoAnswer, ScaledLaw

__all__ = ["InvalidRequest", "NoAnswer", "ScaledLaw"]
