"""Sweeps: one command of ``mesacheck`` run at every point of a grid of settings, on Dask.

A sweep is a small TOML file. A point is a command line: the sweep's ``command`` (``limit``,
``flow``, ``conditions``, ``recovery`` or ``check``) with the options in ``[fixed]`` and one
value of every axis in ``[axes]``. Options are named as on the command line, without the dashes
(``x1``, ``d``, ``T``, ``r``, ``noise``, ``init``, ``sigma-w``, ``seed``, ``a0``, ...; ``true``
for a flag), so every point is read, checked and refused exactly as the command reads it, and
its answer is the command's own JSON::

    command = "flow"
    [fixed]
    full = true
    d = 5
    T = 100
    init = "random"
    [axes]
    x1 = ["gaussian", "sparse"]
    sigma-w = [0.01, 0.1, 0.5, 1]
    seed = {range = [0, 10]}          # 0, 1, ..., 9; also {linspace = [start, stop, count]}
    # options that vary together are one axis of tables, shown by their label:
    # law = [{x1 = "gaussian", label = "Gaussian"}, {x1 = "iid", moments = "{...}", label = "mu = 0.1"}]
    [plot]                            # optional: a heatmap (x and y) or lines (x, one per series)
    x = "sigma-w"
    y = "x1"
    value = "exact_limit.reached"     # a column of the table, averaged over the other axes

The points run on ``dask.distributed``: an in-process ``LocalCluster`` with one single-threaded
worker process per core by default, or an existing cluster (``scheduler="tcp://host:port"``)
with no other change. Every finished point is stored at once under ``<out>/points``, keyed by
its command line and a fingerprint of the toolkit's source, so an interrupted sweep resumes where
it stopped and a re-run recomputes nothing. A point whose command refuses or fails is recorded
with its error and does not stop the sweep. The table (one row per point: the axes, the answer's
fields, the status and the wall time) is written as Parquet and CSV, with the plot as PNG.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Sweep", "read_sweep", "validate", "run_point", "run_sweep", "SweepResult", "aggregate"]

COMMANDS = ("limit", "flow", "conditions", "recovery", "check")
MAX_POINTS = 100_000  # a spec past this is refused before anything runs
_AXIS_VALUES = 10_000  # at most this many values on one axis
SCHEDULER_TIMEOUT = "20s"  # how long to try an existing scheduler before giving up


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: the command, the fixed options, the axes (name -> values, in order) and
    the optional plot."""

    command: str
    fixed: dict
    axes: dict
    plot: dict = field(default_factory=dict)
    name: str = "sweep"
    family: dict = field(default_factory=dict)  # moment order -> SymPy expression in axes

    @property
    def size(self) -> int:
        return math.prod(len(values) for values in self.axes.values())

    def points(self) -> list[dict]:
        """Every point's options: the fixed ones with one value of each axis, in the axes'
        order (the last axis varies fastest). A table value gives several options at once."""
        return [self.options(zip(self.axes, values)) for values in itertools.product(*self.axes.values())]

    def options(self, values) -> dict:
        """The options of the point with these (axis, value) pairs. With a family, its
        parameters give the i.i.d. law's moments (``--x1 iid --moments``), exactly."""
        options = dict(self.fixed)
        parameters = {}
        for name, value in values:
            if name in self.parameters:
                parameters[name] = value
            else:
                options.update(_options_of(value) if isinstance(value, dict) else {name: value})
        if self.family:
            options |= {"x1": "iid", "moments": family_moments(self.family, parameters)}
        return options

    @property
    def parameters(self) -> set:
        """The axes that are the family's parameters, not options."""
        return {str(s) for expression in self.family.values() for s in expression.free_symbols}

    def labels(self) -> list[dict]:
        """Every point's value of each axis, as the table's axis columns: a table value by its
        ``label``."""
        return [
            {name: label_of(value) for name, value in zip(self.axes, values)}
            for values in itertools.product(*self.axes.values())
        ]


def label_of(value):
    """An axis value as it is shown: a table by its ``label`` (else its options, compactly)."""
    if not isinstance(value, dict):
        return value
    return value.get("label") or ", ".join(f"{k}={v}" for k, v in _options_of(value).items())


def _options_of(table: dict) -> dict:
    return {name: value for name, value in table.items() if name != "label"}


def read_sweep(source) -> Sweep:
    """A sweep from a TOML file's path or text; ``ValueError`` names what is wrong."""
    text = source
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith(".toml")
    ):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"no sweep file {str(path)!r}")
        if path.stat().st_size > 1_000_000:
            raise ValueError(f"the sweep file {str(path)!r} is larger than 1 MB")
        text = path.read_text()
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"the sweep file is not valid TOML: {error}") from None
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise ValueError("the sweep file nests its arrays or tables too deeply to read") from None
    unknown = set(spec) - {"command", "fixed", "axes", "plot", "name", "family"}
    if unknown:
        raise ValueError(f"unknown sweep keys {sorted(unknown)}: use command, name, [fixed], [axes], [plot]")
    command = spec.get("command")
    if command not in COMMANDS:
        raise ValueError(f"the sweep's command must be one of {', '.join(COMMANDS)}, got {command!r}")
    fixed, axes = spec.get("fixed", {}), spec.get("axes", {})
    if not isinstance(fixed, dict) or not isinstance(axes, dict):
        raise ValueError("[fixed] and [axes] must be tables")
    if not axes:
        raise ValueError("a sweep needs at least one axis in [axes]")
    both = set(fixed) & set(axes)
    if both:
        raise ValueError(f"{sorted(both)} are both fixed and an axis")
    axes = {name: _axis_values(name, values) for name, values in axes.items()}
    for name, value in fixed.items():
        _check_value(name, value)
    family = _read_family(spec.get("family"), axes, fixed)
    sweep = Sweep(
        command, dict(fixed), axes, dict(spec.get("plot", {})), str(spec.get("name", "sweep")), family
    )
    if sweep.size > MAX_POINTS:
        raise ValueError(f"the sweep has {sweep.size} points, more than {MAX_POINTS}: split it")
    _check_plot(sweep)
    return sweep


def _read_family(family, axes: dict, fixed: dict) -> dict:
    """[family] moments = {"2" = "...", ...}: an i.i.d. law of x_1 whose moments E x^n (n = 1..6)
    are expressions in axes (its parameters), read without evaluating them."""
    if family is None:
        return {}
    import sympy as sp

    from .expressions import read_expression

    if not isinstance(family, dict) or set(family) != {"moments"} or not isinstance(family["moments"], dict):
        raise ValueError('[family] takes moments = {"2" = "expression in axes", ...}')
    if {"x1", "moments"} & (set(fixed) | set(axes)):
        raise ValueError("a [family] sets x1 and moments itself: drop them from [fixed] and [axes]")
    names = {name: sp.Symbol(name, real=True) for name in axes if name.isidentifier()}
    out = {}
    for order, text in family["moments"].items():
        if order not in {str(n) for n in range(1, 7)}:
            raise ValueError(f"[family] gives moments of order 1..6, got {order!r}")
        out[int(order)] = read_expression(text, names, f"[family] moment {order}")
    if not set().union(*(e.free_symbols for e in out.values())):
        raise ValueError("[family] moments use no axis: give them as --moments in [fixed]")
    return out


def family_moments(family: dict, parameters: dict) -> str:
    """The family's moments at these parameter values, exactly, as --moments JSON."""
    import sympy as sp

    from mesacheck.symbolic.moments import exact_number

    values = {sp.Symbol(name, real=True): exact_number(value) for name, value in parameters.items()}
    out = {}
    for order, expression in sorted(family.items()):
        value = expression.xreplace(values)  # rebuilt, so evaluated: a rational of rationals
        if not value.is_Rational:
            raise ValueError(f"[family] moment {order} is {value} at {parameters}: not a finite rational")
        out[str(order)] = str(value)
    return json.dumps(out)


def _axis_values(name: str, values) -> list:
    if isinstance(values, dict):
        if set(values) == {"range"} and _integers(values["range"], 2):
            start, stop = values["range"]
            if not 0 < stop - start <= _AXIS_VALUES:
                raise ValueError(
                    f"axis {name}: range [{start}, {stop}) is empty or longer than {_AXIS_VALUES}"
                )
            values = list(range(start, stop))
        elif (
            set(values) == {"linspace"}
            and isinstance(values["linspace"], list)
            and len(values["linspace"]) == 3
        ):
            start, stop, count = values["linspace"]
            if not (
                _number(start) and _number(stop) and isinstance(count, int) and 2 <= count <= _AXIS_VALUES
            ):
                raise ValueError(
                    f"axis {name}: linspace is [start, stop, count] with 2 <= count <= {_AXIS_VALUES}"
                )
            values = [start + (stop - start) * k / (count - 1) for k in range(count)]
        else:
            raise ValueError(
                f"axis {name}: give a list, {{range = [start, stop]}} or {{linspace = [a, b, n]}}"
            )
    if not isinstance(values, list) or not values:
        raise ValueError(f"axis {name}: give a non-empty list of values")
    if len(values) > _AXIS_VALUES:
        raise ValueError(f"axis {name} has {len(values)} values, more than {_AXIS_VALUES}")
    for value in values:
        if isinstance(value, dict):  # several options that vary together, e.g. x1 with its moments
            if not value or not isinstance(value.get("label", ""), str):
                raise ValueError(f"axis {name}: a table value needs options (and an optional string label)")
            for option, entry in _options_of(value).items():
                _check_value(option, entry)
        else:
            _check_value(name, value)
    if len({json.dumps(v) for v in values}) != len(values):
        raise ValueError(f"axis {name} repeats a value")
    return values


def _integers(values, count: int) -> bool:
    return isinstance(values, list) and len(values) == count and all(type(v) is int for v in values)


def _number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _check_value(name: str, value) -> None:
    if not isinstance(name, str) or not name or name.startswith("-") or not name.replace("-", "").isalnum():
        raise ValueError(f"{name!r} is not an option name (give it without dashes, e.g. sigma-w)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"option {name}: {value} is not a finite number")
    if not isinstance(value, (bool, int, float, str)):
        raise ValueError(f"option {name}: give a number, a string or true/false, got {type(value).__name__}")


def _check_plot(sweep: Sweep) -> None:
    plot = sweep.plot
    if not plot:
        return
    unknown = set(plot) - {"x", "y", "value"}
    if unknown:
        raise ValueError(f"unknown [plot] keys {sorted(unknown)}: use x, y and value")
    for key in ("x", "y"):
        if key in plot and plot[key] not in sweep.axes:
            raise ValueError(f"[plot] {key} = {plot[key]!r} is not an axis")
    if "x" not in plot or "value" not in plot:
        raise ValueError("[plot] needs x (an axis) and value (a column of the table)")


def arguments(command: str, options: dict) -> list[str]:
    """The command line of one point: ``[command, --name value, ..., --json]``; ``true`` is a
    flag, ``false`` leaves it out."""
    out = [command]
    for name, value in options.items():
        if value is True:
            out.append(f"--{name}")
        elif value is not False:
            out += [f"--{name}", repr(value) if isinstance(value, float) else str(value)]
    return [*out, "--json"]


def validate(sweep: Sweep, commands) -> None:
    """Parse command lines as the command would, without running them, so that a misspelt
    option or a value of the wrong type is refused before any work: every value of every axis
    once, with the first value of the others. (What only the command's run can tell, such as
    r > 1, is a failing point.) ``commands``: the command group (``mesacheck``'s, handed in by
    the caller: the sweep sits below the command line and does not import it)."""
    import click

    command = commands.get_command(None, sweep.command)
    first = {name: values[0] for name, values in sweep.axes.items()}
    for name, values in sweep.axes.items():
        for value in values:
            options = sweep.options((first | {name: value}).items())
            argv = arguments(sweep.command, options)[1:]
            try:
                command.make_context(sweep.command, list(argv))
            except click.ClickException as error:
                raise ValueError(f"point {options}: {' '.join(error.format_message().split())}") from None


def code_fingerprint() -> str:
    """A hash of the toolkit's source and the numeric libraries' versions: a cached point is
    reused only by the same code."""
    import numpy
    import scipy
    import sympy

    from .. import numeric, proofs_check, symbolic

    digest = hashlib.sha256(f"{sympy.__version__} {numpy.__version__} {scipy.__version__}".encode())
    for package in (symbolic, numeric, proofs_check):
        root = Path(package.__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{package.__name__}/{path.relative_to(root)}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def point_key(argv: list[str], fingerprint: str) -> str:
    return hashlib.sha256(json.dumps([argv, fingerprint]).encode()).hexdigest()[:24]


def run_point(argv: list[str], commands) -> dict:
    """Run one command line of the group ``commands`` in this process: ``{"status": "ok",
    "answer": <its JSON>}``, or ``{"status": "error", "error": <one line>}`` for a refusal or a
    failure (never raised), with the wall time."""
    import click

    start = time.perf_counter()
    out = io.StringIO()
    result: dict = {"status": "ok"}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                commands.main(list(argv), prog_name="mesacheck", standalone_mode=False)
            except SystemExit as stop:  # `check` exits 1 when a claim fails: its JSON is the answer
                if stop.code not in (0, 1, None):
                    raise
    except click.ClickException as error:
        result = {"status": "error", "error": " ".join(error.format_message().split())}
    except (Exception, SystemExit) as error:  # one point's bug must not end the sweep: recorded
        result = {"status": "error", "error": f"{type(error).__name__}: {' '.join(str(error).split())}"}
    if result["status"] == "ok":
        try:
            result["answer"] = json.loads(out.getvalue())
        except json.JSONDecodeError:
            result = {"status": "error", "error": "the command printed no JSON answer"}
    result["wall_seconds"] = time.perf_counter() - start
    return result


@dataclass
class SweepResult:
    """What a run did: the rows (one per point, in the sweep's order), how many points were
    computed now, taken from the cache, or failed, the wall time and the files written."""

    rows: list[dict]
    computed: int
    cached: int
    failed: int
    wall_seconds: float
    files: dict

    @property
    def points_per_second(self) -> float:
        return self.computed / self.wall_seconds if self.computed and self.wall_seconds > 0 else 0.0


def run_sweep(
    sweep: Sweep,
    out: Path,
    *,
    commands,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    validated: bool = False,
) -> SweepResult:
    """Run every point not already in ``out/points`` on Dask and write the table and plot.
    ``commands``: the command group whose commands the points run (``mesacheck``'s:
    ``mesacheck.proofs_check.cli.main``; it travels to the workers by value). ``scheduler``: the
    address of an existing cluster (``tcp://host:port``); else a ``LocalCluster`` of ``workers``
    single-threaded processes (default: one per core)."""
    if not validated:  # the command line validates before it creates the output folder
        validate(sweep, commands)
    out = Path(out)
    folder = out / "points"
    folder.mkdir(parents=True, exist_ok=True)
    fingerprint = code_fingerprint()
    points = sweep.points()
    argvs = [arguments(sweep.command, options) for options in points]
    keys = [point_key(argv, fingerprint) for argv in argvs]
    results: dict[str, dict] = {}
    for key in set(keys):
        stored = _load_point(folder / f"{key}.json")
        if stored is not None:
            results[key] = stored
    cached = len(results)
    todo = {key: argv for key, argv in zip(keys, argvs) if key not in results}
    start = time.perf_counter()
    if todo:
        _compute(todo, folder, results, commands, scheduler=scheduler, workers=workers, progress=progress)
    wall = time.perf_counter() - start
    rows = [
        _row(options | labels, results[key], key)
        for options, labels, key in zip(points, sweep.labels(), keys)
    ]
    files = write_table(rows, out / "table")
    if sweep.plot:
        files["plot"] = str(plot_sweep(sweep, rows, out / "plot.png"))
    failed = sum(row["status"] != "ok" for row in rows)
    return SweepResult(rows, len(todo), cached, failed, wall, files)


def _compute(todo: dict, folder: Path, results: dict, commands, *, scheduler, workers, progress) -> None:
    """Submit every point to Dask and store each result as it arrives."""
    import logging

    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    if scheduler:
        cluster = None
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
    else:
        import os

        count = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=min(count, len(todo)),
            threads_per_worker=1,
            processes=True,
            # the scheduler always serves HTTP (health, metrics): on a free port, not 8787, so
            # that two sweeps (or a sweep beside another cluster) do not collide; no dashboard
            dashboard_address=":0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    try:
        futures = {
            client.submit(run_point, argv, commands, key=f"mesacheck-point-{key}", pure=False): key
            for key, argv in todo.items()
        }
        bar = tqdm(total=len(futures), desc="sweep", unit="point", disable=not progress)
        for future in as_completed(futures):
            key = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the worker itself died: recorded like a failing point
                result = {
                    "status": "error",
                    "error": f"{type(error).__name__}: {error}",
                    "wall_seconds": None,
                }
            result["argv"] = todo[key]
            _store_point(folder / f"{key}.json", result)
            results[key] = result
            bar.update()
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _load_point(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _store_point(path: Path, result: dict) -> None:
    """Write atomically: an interrupted write leaves no half point behind."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(result))
    temporary.replace(path)


def _row(options: dict, result: dict, key: str) -> dict:
    row = dict(options)
    row["status"] = result["status"]
    row["error"] = result.get("error")
    row["wall_seconds"] = result.get("wall_seconds")
    for name, value in _flatten(result.get("answer") or {}).items():
        row.setdefault(name, value)
    row["point"] = key
    return row


def _flatten(answer: dict, prefix: str = "") -> dict:
    """Nested answers as dotted columns; lists as JSON text."""
    out = {}
    for name, value in answer.items():
        column = f"{prefix}{name}"
        if isinstance(value, dict):
            out.update(_flatten(value, column + "."))
        elif isinstance(value, list):
            out[column] = json.dumps(value)
        else:
            out[column] = value
    return out


def write_table(rows: list[dict], stem: Path) -> dict:
    """The rows as ``stem.csv`` and ``stem.parquet`` (columns in first-seen order; a column
    whose values mix types is written as text)."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    with open(stem.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name in columns:
        values = [row.get(name) for row in rows]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, float} and kinds != {int, float} or kinds in ({bool}, {str}, set()):
            arrays[name] = pa.array(values)
        elif kinds == {int, float}:
            arrays[name] = pa.array([None if v is None else float(v) for v in values])
        else:
            arrays[name] = pa.array([None if v is None else str(v) for v in values])
    pq.write_table(pa.table(arrays), stem.with_suffix(".parquet"))
    return {"csv": str(stem.with_suffix(".csv")), "parquet": str(stem.with_suffix(".parquet"))}


def aggregate(rows: list[dict], x: str, y: str | None, value: str) -> dict:
    """{(x value, y value or None): (mean of the value over the points there, count)} over the
    points that answered with a number (a boolean counts as 0 or 1: a fraction)."""
    groups: dict = {}
    for row in rows:
        v = row.get(value)
        if row["status"] != "ok" or not isinstance(v, (bool, int, float)) or not math.isfinite(float(v)):
            continue
        groups.setdefault((row[x], row[y] if y else None), []).append(float(v))
    return {key: (sum(vs) / len(vs), len(vs)) for key, vs in groups.items()}


def plot_sweep(sweep: Sweep, rows: list[dict], path: Path) -> Path:
    """A heatmap of the value over (x, y), or one line over x per value of y (one line when
    there is no y), averaged over the other axes."""
    from matplotlib.figure import Figure

    x, y, value = sweep.plot["x"], sweep.plot.get("y"), sweep.plot["value"]
    means = aggregate(rows, x, y, value)
    xs = [label_of(value) for value in sweep.axes[x]]
    figure = Figure(figsize=(6.5, 4.0), layout="constrained")
    axis = figure.subplots()
    if y:
        ys = [label_of(value) for value in sweep.axes[y]]
        grid = [[means.get((a, b), (math.nan, 0))[0] for a in xs] for b in ys]
        image = axis.imshow(grid, aspect="auto", origin="lower", cmap="viridis")
        axis.set_xticks(range(len(xs)), [str(a) for a in xs])
        axis.set_yticks(range(len(ys)), [str(b) for b in ys])
        axis.set(xlabel=x, ylabel=y)
        figure.colorbar(image, ax=axis, label=value)
        low, high = image.get_clim()
        for i, b in enumerate(ys):
            for j, a in enumerate(xs):
                if (a, b) in means:  # dark text on the bright end of viridis
                    bright = high > low and (means[a, b][0] - low) / (high - low) > 0.6
                    axis.text(
                        j,
                        i,
                        f"{means[a, b][0]:.3g}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="k" if bright else "w",
                    )
    else:
        numeric = all(isinstance(a, (int, float)) for a in xs)
        positions = xs if numeric else list(range(len(xs)))
        axis.plot(positions, [means.get((a, None), (math.nan, 0))[0] for a in xs], "o-")
        if not numeric:
            axis.set_xticks(positions, [str(a) for a in xs])
        axis.set(xlabel=x, ylabel=value)
    axis.set_title(f"{sweep.name}: {value}")
    figure.savefig(path, dpi=110)
    return path
