"""The book's side of the checks: live verdicts in the chapters, the claim map, the build.

* :func:`show_claim` runs one registered claim while a chapter executes and returns its verdict
  as Markdown; a failing claim raises, so the cell fails and the ``-W`` build fails with it.
* :func:`claim_map` finds, for every registered claim, the chapter that shows it; the reference
  chapter tabulates it and refuses to build while a claim is missing from the book.
* :func:`build_book` runs Jupyter Book 1.x with warnings as errors.
* :func:`setup` is a small Sphinx extension: it serves MathJax from the installed
  ``django-static-mathjax`` package (MathJax 3.2.2, PyPI) so that formulas render with no
  network, renders docstrings verbatim (they are plain text, not reStructuredText), and
  executes the chapters in parallel, one kernel per core, before Sphinx reads them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .check import Check

__all__ = [
    "ClaimFailed",
    "Verdict",
    "full_settings",
    "show_claim",
    "claim_map",
    "claims_markdown",
    "build_book",
    "setup",
]

# Chapters run the claims at the quick settings (the build stays within minutes); `mesacheck book
# --full` sets this variable and the chapters run them as `mesacheck check` does.
FULL_SETTINGS = "MESACHECK_BOOK_FULL"
# `jupyter-book build`, run as a child process (Sphinx patches docutils globals). Sphinx's
# parallel reading is not available (sphinx_multitoc_numbering does not declare it safe), so the
# extension below executes the chapters in parallel itself, on this many kernels (default: cores).
JOBS = "MESACHECK_BOOK_JOBS"
_JUPYTER_BOOK = "from jupyter_book.cli.main import main; main()"
_SHOW = re.compile(r"""show_claim\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


class ClaimFailed(AssertionError):
    """A registered claim failed while the book was built."""


@dataclass(frozen=True)
class Verdict:
    """A claim's Check and how long it took, rendered as Markdown in the book."""

    check: Check
    seconds: float
    quick: bool

    def _repr_markdown_(self) -> str:
        c = self.check.as_dict()
        verdict = "PASS" if c["passed"] else "FAIL"
        rows = [
            "| predicted | measured | error | rtol | atol |",
            "|---|---|---|---|---|",
            f"| {_cell(c['predicted'])} | {_cell(c['measured'])} | {c['error']:.3g} "
            f"| {c['rtol']:.0e} | {c['atol']:.1e} |",
        ]
        evidence = "; ".join(f"{k} = {_cell(v)}" for k, v in c["evidence"].items())
        settings = "quick settings" if self.quick else "full settings"
        return "\n".join(
            [
                f"**Check `{c['claim']}` ({c['kind']}): {verdict}** "
                f"({settings}, {self.seconds:.1f} s). {_escape(c['statement'])}",
                "",
                *rows,
                "",
                f"Tolerance: {_escape(c['tolerance'])}",
                *(
                    ["", f"Certified: the exact prediction lies in {_escape(c['certified']['ball'])}"]
                    if c.get("certified")
                    else []
                ),
                *([""] + [f"Evidence: {evidence}"] if evidence else []),
            ]
        )


def _escape(text: str) -> str:
    """Plain text inside Markdown: no accidental emphasis, math or table cells."""
    return re.sub(r"([*_`$|\\<>\[\]])", r"\\\1", str(text))


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_cell(v)}" for k, v in value.items()) + "}"
    return _escape(value)


def full_settings() -> bool:
    """Whether the book is being built at full settings (``mesacheck book --full``)."""
    return os.environ.get(FULL_SETTINGS, "") not in ("", "0")


def show_claim(name: str, *, quick: bool | None = None) -> Verdict:
    """Run the registered claim ``name`` and return its verdict; raise if it fails."""
    from .registry import CLAIMS, run_claim

    by_name = {claim.__name__: claim for claim in CLAIMS}
    if name not in by_name:
        raise KeyError(f"no registered claim {name!r}")
    if quick is None:
        quick = not full_settings()
    check, seconds = run_claim(by_name[name], quick=quick)
    if not check.passed:
        raise ClaimFailed(f"claim {name} failed: {check.as_dict()}")
    return Verdict(check, seconds, quick)


def claim_map(source: Path) -> dict[str, list[str]]:
    """For each claim name, the chapters (file stems under ``source``) that call show_claim on it."""
    found: dict[str, list[str]] = {}
    for chapter in sorted(Path(source).glob("*.md")):
        for name in _SHOW.findall(chapter.read_text()):
            found.setdefault(name, []).append(chapter.stem)
    return found


def claims_markdown(source: Path) -> str:
    """The table of every registered claim: its test, its chapter, its derivation and the paper's
    reference. Raises if a registered claim appears in no chapter."""
    from .registry import claim_table

    shown = claim_map(source)
    missing = [row["name"] for row in claim_table() if row["name"] not in shown]
    if missing:
        raise ClaimFailed(f"registered claims missing from the book: {missing}")
    lines = [
        "| claim | test | chapter | derivation | paper |",
        "|---|---|---|---|---|",
    ]
    for row in claim_table():
        chapters = ", ".join(f"{{doc}}`{stem}`" for stem in shown[row["name"]])
        label = row["derivation"].split()[0].rstrip(".,;")
        role = "eq" if label.startswith("eq-") else "prf:ref"
        test = f"`tests/proofs_check/test_claims.py::test_claim[{row['name']}]`"
        lines.append(
            f"| `{row['name']}` | {test} | {chapters} | {{{role}}}`{label}` | {_escape(row['reference'])} |"
        )
    return "\n".join(lines)


def default_source() -> Path:
    """The book's sources: ./book in the current folder, else next to the installed packages."""
    for candidate in (Path.cwd() / "book", Path(__file__).resolve().parent.parent / "book"):
        if (candidate / "_config.yml").is_file():
            return candidate
    raise FileNotFoundError("no book/_config.yml here: run from a mesacheck checkout or give --source")


def build_book(
    source: Path | None = None, *, full: bool = False, quiet: bool = True, progress: bool = False
) -> Path:
    """Build the book with warnings as errors; return the path of its index.html.

    Notebooks execute afresh, so every verdict is live; they execute in parallel, one kernel per
    core (``MESACHECK_BOOK_JOBS`` sets another number; 1 executes them one by one). ``quiet=False``
    echoes Sphinx's output; ``progress`` shows a bar over the chapters as they execute. Raises
    ``RuntimeError`` with the causes and the end of Sphinx's output when the build fails.

    Each build works in a private folder of its own under ``_build`` (its doctrees and myst-nb's
    execution cache too), so two builds of one book never share a cache, and a build that was
    killed leaves nothing the next one reads. Only a finished build is published, by renaming
    its pages to ``_build/html`` under a lock.
    """
    if _module_missing("jupyter_book"):
        raise RuntimeError('the book needs its extra: pip install ".[book]"')
    source = Path(source) if source is not None else default_source()
    if not (source / "_config.yml").is_file() or not (source / "_toc.yml").is_file():
        raise FileNotFoundError(f"{source} is not a book: it needs _config.yml and _toc.yml")
    output = source / "_build"
    output.mkdir(exist_ok=True)
    _remove_dead_builds(output)
    with _private_build(output) as (private, lock):
        env = {**os.environ, FULL_SETTINGS: "1" if full else "0"}
        command = [sys.executable, "-c", _JUPYTER_BOOK, "build", str(source), "-W", "--keep-going"]
        command += ["--path-output", str(private)]
        chapters = sum("kernelspec:" in path.read_text() for path in source.glob("*.md"))
        lines: list[str] = []
        with (
            tqdm(total=chapters, desc="executing chapters", unit="chapter", disable=not progress) as bar,
            # the build holds the private folder's lock too: a build whose caller was killed keeps
            # its folder while it runs on, and the next build removes the folder once it is gone
            subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                pass_fds=(lock,),
            ) as build,
        ):
            for line in build.stdout:
                lines.append(line.rstrip("\n"))
                if not quiet:
                    print(line, end="", file=sys.stderr)
                executed = re.search(r"([\w.-]+)\.md: Executed notebook", line)
                if executed:
                    bar.set_postfix_str(executed.group(1))
                    bar.update()
        pages = private / "_build" / "html"
        if build.returncode != 0 or not (pages / "index.html").is_file():
            causes = [
                line
                for line in lines
                if re.search(r"WARNING|ERROR|Error|Traceback", line) and "IPKernelApp" not in line
            ]
            tail = "\n".join(lines[-40:])
            raise RuntimeError("the book failed to build:\n" + "\n".join(causes[:40]) + "\n...\n" + tail)
        _publish(pages, output / "html", private / "replaced")
    return output / "html" / "index.html"


_PRIVATE = ".build-"  # a build's private folder under _build, beside its lock file (+ ".lock")


@contextmanager
def _builds_lock(output: Path):
    """The lock (an exclusive ``flock`` on ``_build/.lock``) under which builds create, remove
    and publish folders: short steps, so concurrent builds wait for each other only there."""
    import fcntl

    with open(output / ".lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


@contextmanager
def _private_build(output: Path):
    """A new private folder under ``output`` and the open descriptor of its own lock, held (an
    exclusive ``flock``) while the build runs; the folder is removed when the build ends."""
    import fcntl
    import tempfile

    with _builds_lock(output):
        lock = tempfile.NamedTemporaryFile(prefix=_PRIVATE, suffix=".lock", dir=output, delete=False)
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        private = Path(lock.name).with_suffix("")
        private.mkdir()
    try:
        yield private, lock.fileno()
    finally:
        shutil.rmtree(private, ignore_errors=True)
        Path(lock.name).unlink(missing_ok=True)
        lock.close()


def _remove_dead_builds(output: Path) -> None:
    """Remove the private folders of builds that no longer run (nothing holds their lock): a
    build killed with its caller, or whose caller was killed and which has finished since."""
    import fcntl

    with _builds_lock(output):
        for path in output.glob(_PRIVATE + "*.lock"):
            with open(path, "rb") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a build that runs
                    continue
                shutil.rmtree(path.with_suffix(""), ignore_errors=True)
                path.unlink()


def _publish(pages: Path, html: Path, replaced: Path) -> None:
    """Rename the finished ``pages`` to ``html``; the pages they replace are moved to
    ``replaced`` (removed with the private folder)."""
    with _builds_lock(html.parent):
        if html.exists():
            html.rename(replaced)
        pages.rename(html)


def _module_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


# --- the Sphinx extension -------------------------------------------------------------------


def _offline_mathjax(app, config):
    import mathjax  # django-static-mathjax: MathJax's es5 distribution as package data

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    static = Path(app.outdir).parent / "_mathjax"
    shutil.copytree(es5, static / "mathjax", dirs_exist_ok=True)
    # html_static_path copies the folder's contents into _static/, so MathJax is _static/mathjax/
    config.html_static_path = [*config.html_static_path, str(static)]
    config.mathjax_path = "mathjax/tex-mml-chtml.js"


def _verbatim_docstring(app, what, name, obj, options, lines):
    # autodoc has read its ``:meta ...:`` fields (e.g. hide-value) already: not shown as text
    lines[:] = [line for line in lines if not line.strip().startswith(":meta ")]
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        lines[:] = ["::", ""] + [f"    {line}" for line in lines] + [""]


def _jobs() -> int:
    """``MESACHECK_BOOK_JOBS`` if it is a whole number (as ``MESACHECK_WORKERS`` is read), else
    the machine's cores: a bad value must not end the build in a traceback."""
    setting = os.environ.get(JOBS, "").strip()
    return max(1, int(setting)) if setting.isdigit() else (os.cpu_count() or 1)


def _parallel_execution(app, config):
    """With more than one job, a forced execution becomes: every chapter Sphinx is about to read
    is executed now, in parallel (:func:`_execute_chapters`), and myst-nb takes the outputs
    from its cache instead of executing the chapter again while it reads it."""
    if config.nb_execution_mode == "force" and _jobs() > 1:
        config.nb_execution_mode = "cache"
        app.mesacheck_parallel_execution = True


def _execute_chapters(app, env, docnames):
    """Execute the notebooks among ``docnames`` (one kernel per job, in parallel) and store the
    outputs of those that ran through in myst-nb's cache, under the hash myst-nb gives the
    notebook it reads. A chapter that fails is not stored: myst-nb then executes it itself and
    reports the failure as a forced execution does."""
    if not getattr(app, "mesacheck_parallel_execution", False):
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context
    from pathlib import PurePosixPath

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import create_nb_reader
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    nb_config = env.mystnb_config
    notebooks = {}
    for docname in docnames:
        path = Path(env.doc2path(docname))
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        excluded = any(PurePosixPath(path.as_posix()).match(p) for p in nb_config.execution_excludepatterns)
        if reader is not None and not excluded:
            notebooks[docname] = (path, reader.read(text))
    if len(notebooks) < 2:  # nothing to run beside it: myst-nb executes it as it reads it
        return
    cache = get_cache(nb_config.execution_cache_path)
    workers = min(_jobs(), len(notebooks))
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {
            pool.submit(
                _execute_notebook,
                notebook,
                None if nb_config.execution_in_temp else str(path.parent),
                nb_config.execution_timeout,
                nb_config.execution_allow_errors,
            ): docname
            for docname, (path, notebook) in notebooks.items()
        }
        for future in as_completed(futures):
            docname = futures[future]
            try:
                notebook, seconds, failed = future.result()
            except Exception:  # the worker itself failed: myst-nb executes the chapter instead
                continue
            if failed:
                continue
            record = CacheBundleIn(notebook, str(notebooks[docname][0]), data={"execution_seconds": seconds})
            cache.cache_notebook_bundle(record, check_validity=False, overwrite=True)
            logger.info(f"Executed notebook in {seconds:.2f} seconds", location=docname)


def _execute_notebook(notebook, cwd: str | None, timeout, allow_errors):
    """One chapter in its own kernel (a worker process), as myst-nb executes it."""
    import tempfile

    from jupyter_cache.executors.utils import single_nb_execution

    with tempfile.TemporaryDirectory() as temporary:
        result = single_nb_execution(
            notebook, cwd=cwd or temporary, timeout=timeout, allow_errors=allow_errors, meta_override=True
        )
    return result.nb, result.time, result.err is not None


def setup(app):
    app.connect("config-inited", _offline_mathjax)
    app.connect("config-inited", _parallel_execution)
    app.connect("env-before-read-docs", _execute_chapters)
    app.connect("autodoc-process-docstring", _verbatim_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
