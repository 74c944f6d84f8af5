"""NumPy, SciPy and mpmath routes. Importing the package sets the BLAS and OpenMP thread pools.

The matrices here are small (at most ~1000 x 1000 at d = 5), the project's machine has two
cores, and ``mesacheck check`` runs claims in parallel processes, so extra BLAS threads only
contend: oversubscribed pools measured up to 5.7x slower (issue 12). Every process therefore
uses one thread per pool unless ``MESACHECK_THREADS`` (or an explicit ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``) says otherwise. This is the one place that
sets them: the environment default covers libraries loaded later (SciPy's own OpenBLAS) and
child processes, and threadpoolctl covers those already loaded (NumPy or SciPy imported before
this package; else it is not needed, and not imported).
"""

import os as _os
import sys as _sys

# threadpoolctl is needed only for pools that loaded before the environment below was set
_LOADED = any(name in _sys.modules for name in ("numpy", "scipy"))
_THREADS = _os.environ.get("MESACHECK_THREADS") or _os.environ.get("OMP_NUM_THREADS") or "1"
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    if "MESACHECK_THREADS" in _os.environ:
        _os.environ[_name] = _THREADS
    else:
        _os.environ.setdefault(_name, _THREADS)

import numpy as _np  # noqa: E402, F401  (after the environment: its BLAS reads it when it loads)

if _LOADED and _THREADS.isdigit():
    from threadpoolctl import threadpool_limits as _threadpool_limits

    _threadpool_limits(int(_THREADS))
