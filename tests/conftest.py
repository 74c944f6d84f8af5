"""Hypothesis is configured once, here. Choose a profile with HYPOTHESIS_PROFILE:

* ``ci`` (default): derandomized and small, well inside CI's time;
* ``thorough``: many examples, for local runs (tens of minutes).
"""

import os

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
