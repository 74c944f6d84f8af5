"""The BLAS and OpenMP pools are set once, when numeric is imported."""

import os

from threadpoolctl import threadpool_info

import mesacheck.numeric  # noqa: F401  (sets the pools)


def test_every_loaded_pool_uses_the_configured_thread_count():
    import scipy.linalg  # noqa: F401  (SciPy's own OpenBLAS loads after the setting)

    expected = int(os.environ["OMP_NUM_THREADS"])  # numeric set it (default 1) unless the user did
    assert all(pool["num_threads"] == expected for pool in threadpool_info() if pool["user_api"] == "blas")
