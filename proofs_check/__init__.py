"""Theorem checks: each claim of the paper as a function returning a :class:`Check`.

The registry (and with it every claim module) and :class:`Check` load on first use, so that
the command line starts quickly for jobs that run no claim.
"""

__all__ = ["Check", "claim_fields", "CLAIMS", "claim_table", "run_claim"]


def __getattr__(name):
    if name in ("Check", "claim_fields"):  # the command line's import of this package needs neither
        from . import check

        return getattr(check, name)
    if name in ("CLAIMS", "claim_table", "run_claim"):
        from . import registry

        return getattr(registry, name)
    raise AttributeError(name)
