"""The book: every claim is in it, a failing claim stops it, and in a real browser with the
network off its math is typeset, its figures load and its cross-references resolve.

The build and the browser need the book extra and Debian's chromium + chromium-driver. Without
them these tests skip, unless MESACHECK_REQUIRE_BOOK=1 (CI sets it), where they fail instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from mesacheck.proofs_check import CLAIMS
from mesacheck.proofs_check.book import ClaimFailed, build_book, claim_map, claims_markdown, show_claim
from mesacheck.proofs_check.check import Check

BOOK = Path(__file__).resolve().parents[2] / "book"
REQUIRED = os.environ.get("MESACHECK_REQUIRE_BOOK", "") not in ("", "0")
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SCREENSHOTS = ("emergence", "simulations")


def _missing(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (MESACHECK_REQUIRE_BOOK=1)")
    pytest.skip(reason)


def test_every_registered_claim_is_shown_in_a_chapter():
    shown = claim_map(BOOK)
    assert {c.__name__ for c in CLAIMS} <= set(shown)
    assert set(shown) <= {c.__name__ for c in CLAIMS}, "a chapter shows a claim that is not registered"
    assert all(len(chapters) == 1 for chapters in shown.values()), "each claim is shown once"


def test_claim_table_refuses_a_book_without_a_claim(tmp_path):
    (tmp_path / "only.md").write_text('show_claim("prediction_is_one_gd_step")\n')
    with pytest.raises(ClaimFailed, match="missing from the book"):
        claims_markdown(tmp_path)


def test_a_failing_claim_raises(monkeypatch):
    def always_fails(quick=False):
        """Claim: x. Derivation: eq-x. Guarantee: x. Reference: x."""
        return Check("always_fails", "1 = 2", "equal", 1.0, 2.0, 0.0, 0.0, "none")

    import mesacheck.proofs_check.registry as registry

    monkeypatch.setattr(registry, "CLAIMS", (*registry.CLAIMS, always_fails))
    with pytest.raises(ClaimFailed, match="always_fails"):
        show_claim("always_fails")
    with pytest.raises(KeyError):
        show_claim("no_such_claim")


def test_a_passing_claim_renders_its_numbers():
    verdict = show_claim("prediction_is_one_gd_step", quick=True)
    text = verdict._repr_markdown_()
    assert "PASS" in text and "| predicted | measured |" in text and "Tolerance:" in text


def test_a_failing_cell_fails_the_build(tmp_path):
    if importlib.util.find_spec("jupyter_book") is None:
        _missing('the book extra is not installed (pip install ".[book]")')
    failing = "from mesacheck.proofs_check.book import ClaimFailed\nraise ClaimFailed('claim x failed')"
    _small_book(tmp_path, {"intro": failing})
    with pytest.raises(RuntimeError, match="failed to build"):
        build_book(tmp_path)


def _small_book(folder: Path, chapters: dict[str, str]) -> Path:
    """A book of these chapters (file stem -> the code of its one cell), the first its root."""
    shutil.copy(BOOK / "_config.yml", folder)
    root, *rest = chapters
    toc = f"format: jb-book\nroot: {root}\n" + ("chapters:\n" if rest else "")
    (folder / "_toc.yml").write_text(toc + "".join(f"  - file: {stem}\n" for stem in rest))
    header = (BOOK / "setting.md").read_text().split("---\n")[1]
    for stem, code in chapters.items():
        (folder / f"{stem}.md").write_text(
            f"---\n{header}---\n\n# Chapter {stem}\n\n```{{code-cell}} ipython3\n{code}\n```\n"
        )
    return folder


@pytest.fixture(scope="module")
def builds_beside_a_killed_one(tmp_path_factory):
    """A small book: a build whose caller is killed once the build has started (the build runs
    on, orphaned, in its folder), then two builds at the same time beside it."""
    if importlib.util.find_spec("jupyter_book") is None:
        _missing('the book extra is not installed (pip install ".[book]")')
    import signal
    import subprocess
    import sys
    import time
    from concurrent.futures import ThreadPoolExecutor

    # one tiny chapter: the builds race on the book's folder and cache whatever it holds; the
    # real book's build (the fixture built_book) executes its chapters in parallel
    code = {"intro": "print('ran intro')"}
    book = _small_book(tmp_path_factory.mktemp("small-book"), code)
    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from mesacheck.proofs_check.book import build_book; build_book({str(book)!r})",
        ],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(book.glob("_build/.build-*/_build")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(book.glob("_build/.build-*/_build")), "the first build never started"
        killed.kill()
        killed.wait()
        with ThreadPoolExecutor(2) as pool:  # each build is a child process: the threads only wait
            indexes = list(pool.map(lambda _: build_book(book), range(2)))
    finally:
        try:
            os.killpg(killed.pid, signal.SIGKILL)  # the orphaned build, if it still runs
        except ProcessLookupError:
            pass
    return book, indexes


# the two tests below judge one scenario: one worker runs it
SMALL_BOOK_GROUP = pytest.mark.xdist_group("small-book")


@SMALL_BOOK_GROUP
def test_two_builds_of_one_book_at_once_both_pass(builds_beside_a_killed_one):
    book, indexes = builds_beside_a_killed_one
    assert indexes[0] == indexes[1] == book / "_build" / "html" / "index.html"
    assert "ran intro" in (indexes[0].parent / "intro.html").read_text()


@SMALL_BOOK_GROUP
def test_a_build_after_a_killed_build_passes_and_removes_its_folder(builds_beside_a_killed_one):
    import time

    from mesacheck.proofs_check.book import _remove_dead_builds

    book, indexes = builds_beside_a_killed_one
    assert indexes[0].is_file()
    # the killed build's folder goes once nothing runs in it (its processes release its lock
    # as they exit), as the next build would remove it
    deadline = time.monotonic() + 30
    while list(book.glob("_build/.build-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
        _remove_dead_builds(book / "_build")
    assert sorted(p.name for p in book.glob("_build/.build-*")) == []


def test_build_book_refuses_a_folder_that_is_not_a_book(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a book"):
        build_book(tmp_path)


# The build and the browser tests share one worker (pytest-xdist's loadgroup, set in
# pyproject.toml): the book is built once, and its group, the longest unit of the run, starts first.
BOOK_GROUP = pytest.mark.xdist_group("book")


@pytest.fixture(scope="session")
def built_book() -> Path:
    if importlib.util.find_spec("jupyter_book") is None:
        _missing('the book extra is not installed (pip install ".[book]")')
    return build_book(BOOK).parent


@pytest.fixture(scope="session")
def browser(built_book):
    if not (CHROMIUM and CHROMEDRIVER) or importlib.util.find_spec("selenium") is None:
        _missing("Debian's chromium and chromium-driver (and selenium) are needed for the browser check")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-file-access-from-files",
        # the network off: every host resolves to nothing and every proxy request fails
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _chapters(html: Path) -> list[Path]:
    return sorted(p for p in html.glob("*.html") if p.stem not in ("genindex", "search", "index"))


def _open(driver, page: Path) -> None:
    driver.get(page.as_uri())
    # MathJax 3 resolves startup.promise once the page is typeset
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (!window.MathJax || !MathJax.startup) { done('no MathJax'); return; }"
        "MathJax.startup.promise.then(() => done('ok'), (e) => done(String(e)));"
    )


@pytest.fixture(scope="session")
def rendered(built_book, browser) -> dict[Path, dict]:
    """Every chapter opened once in the browser, typeset, and read: its math, the resources it
    asked for, its figures, its internal links, its unresolved references and its element ids.
    The tests below judge these readings (one visit per chapter instead of one per test)."""
    readings = {}
    for page in _chapters(built_book):
        _open(browser, page)
        readings[page] = browser.execute_script(
            "const math = [...document.querySelectorAll('.math')];"
            "return {math: math.length,"
            " typeset: math.filter(m => m.querySelector('mjx-container')).length,"
            " containers: document.querySelectorAll('mjx-container').length,"
            " text: document.querySelector('main').innerText,"
            " remote: performance.getEntriesByType('resource').map(e => e.name)"
            "   .filter(n => !n.startsWith('file:') && !n.startsWith('data:')),"
            " images: [...document.querySelectorAll('main img')]"
            "   .map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),"
            " links: [...document.querySelectorAll('main a.reference.internal, main a.internal')]"
            "   .map(a => a.href),"
            " dangling: document.querySelectorAll('main span.xref').length,"
            " ids: [...document.querySelectorAll('[id]')].map(e => e.id)};"
        )
    return readings


@BOOK_GROUP
def test_math_is_typeset_offline(rendered):
    for page, state in rendered.items():
        assert state["typeset"] == state["math"], f"{page.name}: untypeset math"
        assert "$$" not in state["text"], f"{page.name}: raw $$ left in the page"
        assert state["remote"] == [], f"{page.name} asked the network for {state['remote']}"
        if page.stem in ("setting", "emergence", "capability"):
            assert state["containers"] > 10, f"{page.name}: expected typeset formulas"


@BOOK_GROUP
def test_every_figure_loads(rendered):
    figures = 0
    for page, state in rendered.items():
        broken = [i["src"] for i in state["images"] if not i["ok"]]
        assert broken == [], f"{page.name}: figures that did not load: {broken}"
        figures += len(state["images"])
    assert figures >= 8  # the chapters' glued figures, at the least


@BOOK_GROUP
def test_cross_references_resolve(rendered, browser):
    targets: dict[Path, set[str]] = {}
    for page, state in rendered.items():
        for href in state["links"]:
            url = urlparse(href)
            path = Path(unquote(url.path))
            assert path.is_file(), f"{page.name}: link to a missing page {href}"
            if url.fragment:
                targets.setdefault(path, set()).add(url.fragment)
        assert state["dangling"] == 0, f"{page.name}: {state['dangling']} unresolved references"
    assert targets, "the book has no internal anchors to check"
    for path, fragments in targets.items():
        if path in rendered:
            ids = set(rendered[path]["ids"])
        else:  # a page that is not a chapter (the index): opened here
            browser.get(path.as_uri())
            ids = set(browser.execute_script("return [...document.querySelectorAll('[id]')].map(e => e.id);"))
        missing = sorted(fragments - ids)
        assert missing == [], f"{path.name} lacks the anchors {missing}"


@BOOK_GROUP
def test_screenshots_of_the_emergence_and_simulations_chapters(built_book, browser):
    folder = built_book.parent / "screenshots"
    folder.mkdir(exist_ok=True)
    for stem in SCREENSHOTS:
        _open(browser, built_book / f"{stem}.html")
        height = browser.execute_script("return document.querySelector('main').scrollHeight;")
        browser.set_window_size(1280, min(int(height) + 200, 16000))  # the whole chapter in one PNG
        _open(browser, built_book / f"{stem}.html")
        path = folder / f"{stem}.png"
        assert browser.save_screenshot(str(path))
        assert path.stat().st_size > 50_000  # a page of text and figures, not a blank
    browser.set_window_size(1280, 1000)
