"""Extensions: the paper's derivations under new assumptions, one module each.

An extension module declares what its assumption changes and what it claims. It is found here
by name: the registry, ``mesacheck check``, the command line's ``--x1`` and the book's
extension chapters (``book/extension_<module>.md``) pick it up with no edit anywhere else.
The contract, shown in full by ``_template.py``:

* ``NAME``: the assumption's name on the command line (``--x1 NAME``);
* ``CHANGES``: which part of the setting it changes, one of :data:`CHANGES`;
* ``law(d)``: the assumption as a :class:`mesacheck.symbolic.moments.Distribution` at default numeric
  parameters: its moments (a new x_1 law), and where needed a ``sampler`` (for the
  finite-sample simulator) and ``nodes`` (for exact quadrature); for a new normalization, the
  token in a :class:`mesacheck.symbolic.setting.Setting` with its ``rho`` (a setting goes wherever a law
  goes); for an assumption about the process or the loss, the x_1 law of its worked example;
* ``setting(d)`` (optional, for the process or the loss): the assumption as a
  :class:`mesacheck.symbolic.setting.Setting` (the law of W, noise, rho_t, the loss positions) around
  ``law(d)``; every stage reads it, and ``mesacheck`` takes it through ``--r``, ``--phases``,
  ``--noise`` and ``--loss-positions``;
* ``CLAIMS``: claim functions returning :class:`mesacheck.proofs_check.check.Check`, as in
  :mod:`mesacheck.proofs_check.claims`.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["CHANGES", "extension_modules", "extension_claims", "extension_laws"]

CHANGES = ("x_1 law", "normalization", "law of W", "noise", "loss positions")


def extension_modules() -> list[ModuleType]:
    """Every extension module of this package (names not starting with an underscore)."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        missing = [name for name in ("NAME", "CHANGES", "law", "CLAIMS") if not hasattr(module, name)]
        if missing:
            raise TypeError(f"extension {info.name} lacks {missing} (see _template.py)")
        if module.CHANGES not in CHANGES:
            raise TypeError(f"extension {info.name}: CHANGES must be one of {CHANGES}")
        modules.append(module)
    return modules


def extension_claims() -> tuple:
    """The claims of every extension, in module order."""
    return tuple(claim for module in extension_modules() for claim in module.CLAIMS)


def extension_laws() -> dict:
    """NAME -> law(d) factory, for the command line."""
    return {module.NAME: module.law for module in extension_modules()}
