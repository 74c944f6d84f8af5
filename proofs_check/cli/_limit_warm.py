"""``mesacheck limit`` without SymPy when its symbolic half is already known.

``limit`` has two halves. The symbolic half (the setting, the emergence guard, the closed form,
its values and LaTeX, and the generated source of the flow's functions) depends only on the
command line and on the code; the numeric half integrates the flow and compares. The first
run of a command line stores its symbolic half (:func:`answer`) in the derivation cache
(``$MESACHECK_CACHE``, as :mod:`mesacheck.symbolic._cache`), keyed by every option but
``--json`` and by a fingerprint of the source of ``mesacheck.symbolic``, ``mesacheck.numeric``,
the command line and the extensions, and of SymPy's version. A later run of the same command
line (:func:`warm_path`) reads it and runs the numeric half: it integrates the flow again with
``solve_ivp``, every run, from the same generated source, so the answer compares the closed
form with this run's flow. It imports neither SymPy nor anything that does.

Both runs print through :func:`answer`, so the warm answer is the cold one's, field by field,
up to ``seconds``. A warm run applies the cold run's cost guard as it is now (a lower limit
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

from ._common import emit, in_user_units, number_text

__all__ = ["answer", "warm_path"]

# the packages whose source decides a limit's symbolic half
_PACKAGES = ("mesacheck.symbolic", "mesacheck.numeric", "mesacheck.proofs_check")
_FOLDERS = ("", "cli", "extensions")  # of mesacheck.proofs_check: the command line and the laws

_key_of_this_run: list = [None]  # the cache key of the running cold command line, for answer()


def warm_path(command):
    """Wrap the ``limit`` command: answer from the stored symbolic half when there is one,
    else run the command, which stores it (:func:`answer`)."""

    @functools.wraps(command)
    def wrapper(**options):
        start = time.perf_counter()
        key = _key(options)
        entry = _load(key) if key else None
        if entry is not None:
            _guard_again(entry["cost"], options)
            return _finish(entry, options["as_json"], start, store=None)
        _key_of_this_run[0] = key
        try:
            return command(**options)
        finally:
            _key_of_this_run[0] = None

    return wrapper


def answer(entry: dict, as_json: bool, start: float) -> None:
    """Integrate the flow of a symbolic half, print the comparison, and store the half for the
    next run of this command line."""
    _finish(entry, as_json, start, store=_key_of_this_run[0])


def _guard_again(cost, options: dict) -> None:
    """The cost guard of the cold run, with today's limits: a warm run is refused or
    announced exactly where the cold one would be."""
    from ._common import _read_atoms, progress_wanted
    from ._cost import announce, atoms_cost, guard

    if options["x1"] == "atoms":
        points = _read_atoms(options["atoms"])["points"]
        guard(atoms_cost(len(points), max((len(p) for p in points), default=0)), options["force"])
    guard(cost, options["force"])
    announce(cost, progress_wanted(options["as_json"]))


def _finish(entry: dict, as_json: bool, start: float, store) -> None:
    from mesacheck.numeric._compiled_flow import flow_from_source, integrate_compiled, start_state

    flow = entry["flow"]
    symmetric = entry["symmetric"]
    solution = integrate_compiled(
        flow_from_source(flow),
        start_state(flow.d, entry["a_start"], entry["b_start"], symmetric=symmetric),
        symmetric=symmetric,
        method="LSODA",
        rtol=1e-12,
        atol=entry["atol"],
        xtol=1e-13,
        tau_max=entry["tau_max"],
    )
    user = functools.partial(in_user_units, digits=entry["digits"])
    closed = entry["closed"]
    a_flow, b_flow = solution.limit[: solution.d], solution.limit[solution.d :]
    ab_flow = float(solution.ab[-1])
    payload = {
        **entry["head"],
        "ab_flow": user(ab_flow, -2),
        "certificate": {
            "gradient_norm": user(solution.gradient_norm, 3),
            "relative_newton_step": solution.newton_step,
            "conserved_drift": user(solution.conserved_drift, -2),
            "tau_end": user(float(solution.tau[-1]), -4),
            "method": solution.method,
            "rtol": solution.rtol,
            "state": "(a, b) on the invariant manifold a_j = a, b_j = b (exchangeable law)"
            if symmetric
            else "(a_1..a_d, b_1..b_d)",
        },
    }
    if closed is not None:
        ab_exact = entry["ab_exact"]
        payload.update(closed)
        payload["relative_error"] = abs(ab_flow - ab_exact) / abs(ab_exact) if ab_exact else None
        payload["absolute_error"] = user(abs(ab_flow - ab_exact), -2)
    else:
        payload.update(
            {
                "ab_closed_form": None,
                "closed_form_reason": entry["reason"],
                "a_limit": [user(v, -1) for v in a_flow.tolist()],
                "b_limit": [user(v, -1) for v in b_flow.tolist()],
                "limit_kind": "stationary point of the diagonal flow",
            }
        )
    payload.update(entry["tail"])
    payload["seconds"] = time.perf_counter() - start
    head = entry["head"]
    lines = [
        f"x_1: {head['x1']};  d = {head['d']}, T = {head['T']}, (a0, b0) = ({head['a0']}, {head['b0']});  "
        f"{head['regime']}"
    ]
    if closed is not None:
        kind = payload["limit_kind"]
        error = (
            f"relative error {payload['relative_error']:.1e}"
            if payload["relative_error"] is not None
            else f"absolute error {number_text(payload['absolute_error'], 2)}"
        )
        lines += [
            f"closed form     lim ab = {payload['closed_form']}",
            f"                       = {number_text(payload['ab_closed_form'], 15)}   ({kind})",
            f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}   {error}",
            f"a_limit = {number_text(payload['a_limit'], 12)}, "
            f"b_limit = {number_text(payload['b_limit'], 12)}",
            f"as T -> infinity: {entry['asymptote']} = {number_text(payload['ab_T_to_infinity'], 15)}",
        ]
    else:
        lines += [
            f"no closed form: {entry['reason']}",
            f"integrated flow lim ab = {number_text(payload['ab_flow'], 15)}",
            f"a_limit = {', '.join(number_text(v, 10) for v in payload['a_limit'])}",
            f"b_limit = {', '.join(number_text(v, 10) for v in payload['b_limit'])}",
        ]
    lines += [payload[key] for key in ("note", "units") if key in payload]
    certificate = payload["certificate"]
    lines.append(
        f"certificate: |grad L| = {number_text(certificate['gradient_norm'], 2)}, Newton step "
        f"{solution.newton_step:.1e}, conserved drift {number_text(certificate['conserved_drift'], 2)}  "
        f"({payload['seconds']:.2f} s)"
    )
    emit(payload, as_json, lines)
    if store:
        _store(store, entry)


def _key(options: dict) -> str | None:
    """The cache key of a command line, or None where it cannot be told from the options (an
    atoms law given as a file) or the cache is off."""
    atoms = options.get("atoms")
    if _folder() is None or (atoms is not None and not atoms.lstrip().startswith(("{", "["))):
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
        folders = _FOLDERS if package == "mesacheck.proofs_check" else ("",)
        for folder in folders:
            for path in sorted((root / folder).glob("*.py")):
                digest.update(path.name.encode() + path.read_bytes())
    sympy = importlib.util.find_spec("sympy")
    digest.update(Path(sympy.submodule_search_locations[0], "release.py").read_bytes())
    return digest.hexdigest()


def _folder() -> Path | None:
    # the folder of mesacheck.symbolic._cache._folder (which imports SymPy), read the same way
    setting = os.environ.get("MESACHECK_CACHE", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "mesacheck"


def _path(key: str) -> Path:
    return _folder() / f"limit-warm-{key}.pickle"


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
