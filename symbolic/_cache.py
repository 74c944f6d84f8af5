"""A disk cache for derived expressions, so a derivation is paid for once per machine.

Entries are keyed by the function (its module and name), its arguments' repr, the SymPy version
and a hash of the source of :mod:`mesacheck.symbolic` itself: any change to a derivation
invalidates every entry, and an entry of other module names is never read. Processes that
want one entry at once derive it once: the others wait on its lock and read it. The
folder is ``$MESACHECK_CACHE`` (``off`` disables the cache), else ``~/.cache/mesacheck``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import pickle
from pathlib import Path

_SOURCE = Path(__file__).parent


@functools.lru_cache(maxsize=1)
def _fingerprint() -> str:
    import sympy as sp  # here, not at the top: the warm `limit` reads cache_folder without SymPy

    digest = hashlib.sha256(sp.__version__.encode())
    for path in sorted(_SOURCE.rglob("*.py")):  # every module of symbolic/, subpackages too
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_folder() -> Path | None:
    setting = os.environ.get("MESACHECK_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "mesacheck"


_MISSING = object()


def _read(path: Path):
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return _MISSING  # no entry, or one that this code cannot read (e.g. of older module names)


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive lock on one entry, held while it is derived (released by the system if the
    process dies); without a writable folder, no lock."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a")  # noqa: SIM115 (held across the yield)
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def disk_cached(function=None, *, key=None):
    """Memoize ``function`` in memory and on disk. ``key(*args)`` must identify the arguments
    faithfully by its repr (default: the arguments themselves)."""
    if function is None:
        return functools.partial(disk_cached, key=key)

    @functools.cache
    def wrapper(*args):
        folder = cache_folder()
        if folder is None:
            return function(*args)
        identity = (function.__module__, function.__qualname__, key(*args) if key else args, _fingerprint())
        digest = hashlib.sha256(repr(identity).encode()).hexdigest()[:32]
        path = folder / f"{function.__name__}-{digest}.pickle"
        found = _read(path)
        if found is not _MISSING:
            return found
        # one process derives an entry; another that wants it meanwhile (a parallel test worker,
        # a claim of `mesacheck check` in the next process) waits for it and reads it
        with _lock(path):
            found = _read(path)
            if found is not _MISSING:
                return found
            value = function(*args)
            try:
                temporary = path.with_suffix(f".{os.getpid()}.tmp")
                with temporary.open("wb") as handle:
                    pickle.dump(value, handle)
                temporary.replace(path)  # atomic: a reader never sees half a file
            except OSError:
                pass  # a read-only home still computes, only slower
        return value

    return functools.wraps(function)(wrapper)
