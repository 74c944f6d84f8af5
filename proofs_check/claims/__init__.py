"""One module per claim of the paper; each claim function returns a :class:`~proofs_check.Check`."""
