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


SLOW_SQUARE = """
import sys, time
from mesacheck.symbolic import _cache

@_cache.disk_cached
def slow_square(n):
    with open(sys.argv[1], "a") as log:
        log.write("derived\\n")
    time.sleep(1.0)
    return n * n

assert slow_square(7) == 49
"""


def test_processes_that_want_one_entry_at_once_derive_it_once(tmp_path):
    import os
    import subprocess

    log = tmp_path / "log"
    environment = {**os.environ, "MESACHECK_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-c", SLOW_SQUARE, str(log)]
    workers = [subprocess.Popen(command, env=environment) for _ in range(2)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert log.read_text() == "derived\n"  # the other waited for the entry and read it
