"""Hypothesis is configured once, here. Choose a profile with HYPOTHESIS_PROFILE:

* ``ci`` (default): derandomized and small, well inside CI's time;
* ``thorough``: many examples, for local runs (tens of minutes).

A test run shares the claims' verdicts between its workers and the book it builds (a fresh
``MESACHECK_VERDICTS`` folder, see mesacheck.proofs_check.registry.run_claim): each claim runs
once, by its test or by the chapter that shows it, whichever asks first, and both judge that
verdict.
"""

import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=12,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    """Tests marked slow run only with MESACHECK_SLOW=1 (the default run stays within minutes)."""
    import pytest

    if os.environ.get("MESACHECK_SLOW", "") not in ("", "0"):
        return
    skip = pytest.mark.skip(reason="slow: set MESACHECK_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config):
    # the controlling process only (xdist's workers, started after this, inherit the folder)
    if not hasattr(config, "workerinput") and "MESACHECK_VERDICTS" not in os.environ:
        config.mesacheck_verdicts = os.environ["MESACHECK_VERDICTS"] = tempfile.mkdtemp(
            prefix="mesacheck-verdicts-"
        )


def pytest_unconfigure(config):
    folder = getattr(config, "mesacheck_verdicts", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("MESACHECK_VERDICTS", None)
