"""``mesacheck limit`` without SymPy when its symbolic half is already known.

``limit`` has two halves. The symbolic half (the setting, the emergence guard, the closed form,
its values and LaTeX, and the generated source of the flow's functions) depends only on the
command line and on the code; the numeric half integrates the flow and compares. The first
run of a command line stores its symbolic half (``Limit.symbolic_half``) in the derivation cache
(``$MESACHECK_CACHE``, as :mod:`mesacheck.symbolic._cache`), keyed by every option but
``--json`` and by a fingerprint of the source of ``mesacheck.symbolic``, ``mesacheck.numeric``,
the command line and the extensions, and of SymPy's version. A later run of the same command
line (:func:`warm_path`) reads it and runs the numeric half: it integrates the flow again with
``solve_ivp``, every run, from the same generated source, so the answer compares the closed
form with this run's flow. It imports neither SymPy nor anything that does.

Both runs build the answer with :func:`mesacheck.proofs_check.verbs.limit.from_symbolic_half`
and print it the same way, so the warm answer is the cold one's, field by field, up to
``seconds``. A warm run applies the cold run's cost guard as it is now (a lower limit
refuses it as it would the cold run). An atoms law given as a file is always run cold (its
content is not in the key).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import pickle
import time
from pathlib import Path

from mesacheck.symbolic._cache import cache_folder  # SymPy-free: the derivation cache's folder

__all__ = ["warm_path"]

# the packages whose source decides a limit's symbolic half
_PACKAGES = ("mesacheck.symbolic", "mesacheck.numeric", "mesacheck.proofs_check")


def warm_path(command, show):
    """Wrap the ``limit`` command's callback: answer from the stored symbolic half when there is
    one, else run the command and store the half it derived. ``show(result, as_json)`` prints."""

    @functools.wraps(command)
    def wrapper(**options):
        from mesacheck.proofs_check.verbs.limit import from_symbolic_half

        start = time.perf_counter()
        key = _key(options)
        entry = _load(key) if key else None
        if entry is not None:
            _guard_again(entry["cost"], options)
            show(from_symbolic_half(entry, start), options["as_json"])
            return
        result = command(**options)
        if key and result.symbolic_half is not None:
            _store(key, result.symbolic_half)
        show(result, options["as_json"])

    return wrapper


def _guard_again(cost, options: dict) -> None:
    """The cost guard of the cold run, with today's limits: a warm run is refused or
    announced exactly where the cold one would be."""
    from mesacheck.proofs_check.costs import announce, atoms_cost, guard

    from ._common import _read_atoms, progress_wanted

    if options["x1"] == "atoms":
        points = _read_atoms(options["atoms"])["points"]
        guard(atoms_cost(len(points), max((len(p) for p in points), default=0)), options["force"])
    guard(cost, options["force"])
    announce(cost, progress_wanted(options["as_json"]))


def _key(options: dict) -> str | None:
    """The cache key of a command line, or None where it cannot be told from the options (an
    atoms law given as a file) or the cache is off."""
    atoms = options.get("atoms")
    if cache_folder() is None or (atoms is not None and not atoms.lstrip().startswith(("{", "["))):
        return None
    given = sorted((name, value) for name, value in options.items() if name != "as_json")
    return hashlib.sha256(repr((given, _fingerprint())).encode()).hexdigest()[:32]


@functools.cache
def _fingerprint() -> str:
    """The source the symbolic half comes from, and SymPy's version (its release.py, read
    without importing SymPy)."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        root = Path(importlib.util.find_spec(package).submodule_search_locations[0])
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    sympy = importlib.util.find_spec("sympy")
    digest.update(Path(sympy.submodule_search_locations[0], "release.py").read_bytes())
    return digest.hexdigest()


def _path(key: str) -> Path:
    return cache_folder() / f"limit-warm-{key}.pickle"


def _load(key: str) -> dict | None:
    try:
        with _path(key).open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        return None  # no entry, or one this code cannot read


def _store(key: str, entry: dict) -> None:
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(entry, handle)
        temporary.replace(path)  # atomic, as in mesacheck.symbolic._cache
    except OSError:
        pass  # a read-only cache only makes the next run cold
