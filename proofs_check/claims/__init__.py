"""One module per claim of the paper; each claim function returns a :class:`~mesacheck.proofs_check.Check`."""
