"""The disk cache: an entry it cannot read (of module names that no longer exist, as after the
packages moved beneath mesacheck, or a truncated file) is computed again, never an error."""

import pickle
import sys
import types

from mesacheck.symbolic import _cache


def _pickle_of_a_module_that_is_gone() -> bytes:
    gone = types.ModuleType("symbolic_before_the_move")
    exec("class Entry:\n    pass", gone.__dict__)
    gone.Entry.__module__ = gone.__name__
    sys.modules[gone.__name__] = gone
    try:
        return pickle.dumps(gone.Entry())
    finally:
        del sys.modules[gone.__name__]


def test_an_unreadable_entry_is_computed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("MESACHECK_CACHE", str(tmp_path))
    calls = []

    @_cache.disk_cached
    def square(n):
        calls.append(n)
        return n * n

    assert square(3) == 9 and calls == [3]
    (entry,) = tmp_path.glob("square-*.pickle")
    assert pickle.loads(entry.read_bytes()) == 9  # the entry that a warm run reads
    for unreadable in (_pickle_of_a_module_that_is_gone(), entry.read_bytes()[:-1]):
        entry.write_bytes(unreadable)
        square.cache_clear()  # the in-memory memo: the disk entry is what is read next
        assert square(3) == 9
    assert calls == [3, 3, 3]
    assert pickle.loads(entry.read_bytes()) == 9  # and written again
