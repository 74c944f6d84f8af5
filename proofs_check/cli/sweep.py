"""``mesacheck sweep``: one command at every point of a grid of settings, on Dask."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ._common import emit, progress_wanted

_ADDRESS = re.compile(r"(tcp|tls|inproc|ucx)://[\w.\-\[\]:]+(:\d{1,5})?")


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Folder for the points, the table and the plot (default: the spec's name beside it).",
)
@click.option(
    "--scheduler",
    help="Address of a running Dask scheduler (tcp://HOST:PORT); default: a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Worker processes of the local cluster (default: one per core).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sweep(spec, out, scheduler, workers, as_json):
    """Run SPEC (a TOML sweep: a command, fixed options and axes) at every point, on Dask.

    Finished points are stored as they arrive, so an interrupted sweep resumes and a re-run
    recomputes nothing; a point that fails is recorded with its error. Writes table.parquet,
    table.csv and, with a [plot] section, plot.png."""
    from ..sweep import read_sweep, run_sweep, validate
    from . import main

    if scheduler is not None and not _ADDRESS.fullmatch(scheduler):
        raise click.BadParameter(f"give an address like tcp://127.0.0.1:8786, got {scheduler[:60]!r}")
    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sizes the local cluster: drop it with --scheduler")
    try:
        parsed = read_sweep(Path(spec))
        validate(parsed, main)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="SPEC") from None
    folder = Path(out) if out else Path(spec).with_suffix("")
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f"{str(folder)!r} exists and is not a folder", param_hint="--out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(
            f"cannot create {str(folder)!r}: {error.strerror}", param_hint="--out"
        ) from None
    progress = progress_wanted(as_json)
    try:
        result = run_sweep(
            parsed,
            folder,
            commands=main,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
            validated=True,
        )
    except OSError as error:
        if scheduler:
            raise click.ClickException(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
        raise
    payload = {
        "sweep": parsed.name,
        "command": parsed.command,
        "points": len(result.rows),
        "computed": result.computed,
        "cached": result.cached,
        "failed": result.failed,
        "wall_seconds": result.wall_seconds,
        "points_per_second": result.points_per_second,
        "files": result.files,
    }
    errors = sorted({row["error"] for row in result.rows if row["status"] != "ok"})
    lines = [
        f"sweep {parsed.name}: `mesacheck {parsed.command}` at {len(result.rows)} points "
        f"({', '.join(f'{name}: {len(values)}' for name, values in parsed.axes.items())})",
        f"computed {result.computed}, from the cache {result.cached}, failed {result.failed}; "
        f"wall {result.wall_seconds:.1f} s"
        + (f", {result.points_per_second:.2f} points/s" if result.computed else ""),
        *[f"error: {error}" for error in errors[:5]],
        *([f"... and {len(errors) - 5} more errors (see the table)"] if len(errors) > 5 else []),
        *[f"{kind}: {path}" for kind, path in result.files.items()],
    ]
    emit(payload, as_json, lines)
    if result.rows and result.failed == len(result.rows):
        # the table is written; a sweep that computed nothing must not look like a success
        raise click.ClickException(f"every one of the {result.failed} points failed (see the table)")
