"""Theorem checks: each claim of the paper as a function returning a :class:`Check`."""

from .check import Check, claim_fields
from .registry import CLAIMS, claim_table, run_claim

__all__ = ["Check", "claim_fields", "CLAIMS", "claim_table", "run_claim"]
