"""The examples in the docstrings hold. They run on the installed modules, under their names
beneath mesacheck (pytest's --doctest-modules would import the source folders under the folder
names, a second copy of each module)."""

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest


def _modules_with_examples() -> list[str]:
    names = ["mesacheck"]
    for package in ("mesacheck.symbolic", "mesacheck.numeric", "mesacheck.proofs_check"):
        names.append(package)
        origin = Path(importlib.util.find_spec(package).origin).parent
        names += [info.name for info in pkgutil.walk_packages([str(origin)], f"{package}.")]
    # read, not imported: collection stays cheap
    names = [
        name for name in names if not name.startswith("mesacheck.proofs_check.api")
    ]  # editable: the API folder
    return [name for name in names if ">>>" in Path(importlib.util.find_spec(name).origin).read_text()]


@pytest.mark.parametrize("name", _modules_with_examples())
def test_the_docstring_examples_hold(name):
    module = importlib.import_module(name)
    tests = [test for test in doctest.DocTestFinder().find(module, name) if test.examples]
    assert tests, f"{name} has '>>>' but no example was found"
    report: list[str] = []
    runner = doctest.DocTestRunner()
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
