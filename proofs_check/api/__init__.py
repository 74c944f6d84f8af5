"""mesacheck: exact checks of mesa-optimization in autoregressively trained linear transformers.

The few names a researcher needs, from the three layers beneath (``mesacheck.symbolic``: SymPy
derivations; ``mesacheck.numeric``: flows, quadrature and the finite-sample simulator;
``mesacheck.proofs_check``: the claims and the command line):

* the setting: :class:`Setting` (the law of x_1, the law of W, noise, the trained positions);
  the model: :class:`Model` (merged or separate keys and queries, heads, key dimension, mask;
  :data:`PAPER_MODEL` the default) and its reduced flows :func:`model_line`, :func:`heads_line`;
  laws of x_1 :func:`gaussian`, :func:`sparse`, :func:`full_one`, :class:`Atoms`; laws of W
  :func:`circle`, :func:`roots_of_unity`, :func:`random_modulus`, :func:`modulus_atoms`; noise
  :class:`Noise`;
* the theorems, exact in the training length ``T`` (a SymPy symbol): :func:`ab_limit` and
  :func:`emergence_limit` (the limit of a b, closed form), :func:`symmetric_line` (the
  mesa-optimizer p* in any setting), :func:`emergence_condition`, :func:`recovery_condition`;
* the numeric routes: :func:`integrate_flow`, :func:`full_model` and
  :func:`integrate_full_flow`, :func:`simulate_training`; for any model
  :func:`parameterized_loss`, :func:`integrate_model_flow`, :func:`train_model`;
* the verbs, each the mathematics of one command, returning a frozen dataclass with its
  certificate: :func:`limit` (:class:`Limit`), :func:`conditions` (:class:`Conditions`),
  :func:`recovery` (:class:`Recovery`), :func:`full_flow` (:class:`FullFlow`),
  :func:`simulate` (:class:`Simulation`), :func:`check` (:class:`CheckReport`); a request they
  refuse raises :class:`InvalidRequest` (a ``ValueError``), and :class:`ScaledLaw` holds a law
  with symbolic parameters and their values (as the command line gives it);
* the checks: :class:`Check`, ``CLAIMS`` and :func:`run_claim`.

Every name loads on first use, so ``import mesacheck`` (and the command line) start quickly.

>>> import mesacheck
>>> limit = mesacheck.ab_limit(mesacheck.gaussian(5, 1))  # exact in T, the training length
>>> round(float(limit.subs(mesacheck.T, 100)), 6)
0.191905
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the lazy names that are not functions or classes, as Sphinx documents them
    __version__: str
    """The installed version of mesacheck (read on first use: importlib.metadata costs the
    command line ~25 ms)."""
    T: object
    """The training length, a SymPy symbol (a positive integer): the closed forms are exact in it."""
    CLAIMS: tuple
    """Every registered claim, in registry order: functions ``claim(quick=False) -> Check``.
    ``mesacheck check`` runs them all (:func:`check`); :func:`run_claim` runs one.

    :meta hide-value:
    """

# public name -> the module that defines it
_WHERE = {
    **dict.fromkeys(
        ("Setting", "Noise", "circle", "roots_of_unity", "random_modulus", "modulus_atoms"),
        "mesacheck.symbolic.setting",
    ),
    **dict.fromkeys(
        ("Distribution", "Atoms", "gaussian", "sparse", "full_one"), "mesacheck.symbolic.moments"
    ),
    "T": "mesacheck.symbolic.population_loss",
    **dict.fromkeys(("ab_limit", "emergence_limit"), "mesacheck.symbolic.stationary"),
    "symmetric_line": "mesacheck.symbolic.symmetric_line",
    **dict.fromkeys(("Model", "PAPER_MODEL"), "mesacheck.symbolic.parameterization"),
    **dict.fromkeys(("model_line", "heads_line"), "mesacheck.symbolic.model_line"),
    "emergence_condition": "mesacheck.symbolic.conditions",
    "recovery_condition": "mesacheck.symbolic.capability",
    "integrate_flow": "mesacheck.numeric.flow",
    **dict.fromkeys(("full_model", "integrate_full_flow"), "mesacheck.numeric.full_flow"),
    **dict.fromkeys(
        ("parameterized_loss", "integrate_model_flow", "train_model"), "mesacheck.numeric.parameterized"
    ),
    "simulate_training": "mesacheck.numeric.simulate",
    **{
        name: f"mesacheck.proofs_check.verbs.{module}"
        for module, names in {
            "limit": ("limit", "Limit"),
            "conditions": ("conditions", "Conditions"),
            "recovery": ("recovery", "Recovery"),
            "full_flow": ("full_flow", "FullFlow"),
            "simulate": ("simulate", "Simulation"),
            "check": ("check", "CheckReport"),
            "_base": ("ScaledLaw", "InvalidRequest"),
        }.items()
        for name in names
    },
    "Check": "mesacheck.proofs_check.check",
    **dict.fromkeys(("CLAIMS", "run_claim"), "mesacheck.proofs_check.registry"),
}

__all__ = ["__version__", *_WHERE]


def __getattr__(name):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value  # loaded once
        return value
    if name == "__version__":  # on first use too: importlib.metadata costs the command line ~25 ms
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("mesacheck")
        except PackageNotFoundError:  # the sources, not installed
            value = "0+unknown"
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mesacheck' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
