"""``mesacheck book``: build the Jupyter Book and say where it is."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ._common import emit


@click.command()
@click.option(
    "--source",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The book's folder (default: ./book of a mesacheck checkout).",
)
@click.option("--full", is_flag=True, help="Run the chapters' claims at full settings (slower).")
@click.option("--verbose", is_flag=True, help="Show Sphinx's output while it builds.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def book(source, full, verbose, progress, as_json):
    """Build the Jupyter Book (every chapter executed, warnings as errors) and say where it is."""
    from ..book import build_book

    show = sys.stderr.isatty() and not verbose if progress is None else progress
    start = time.perf_counter()
    try:
        index = build_book(source, full=full, quiet=not verbose, progress=show)
    except (FileNotFoundError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    seconds = time.perf_counter() - start
    payload = {"index": str(index), "seconds": seconds, "full_settings": full}
    emit(payload, as_json, [f"the book is built ({seconds:.0f} s): {index}"])
