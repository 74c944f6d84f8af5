"""A new user's install: `pip install .` into a fresh venv (no site packages but its own),
then, outside the checkout, `import mesacheck` and its version, and that no top-level
`symbolic`, `numeric` or `proofs_check` was installed (issue 21), and that python-flint came
with it and `flow --full --certify` runs (issue 24). Prints each step's time.

    python benchmarks/fresh_install.py [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the venv and print its path")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mesacheck-fresh-"))
    python = folder / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    steps = [
        ("create the venv", [sys.executable, "-m", "venv", str(folder / "venv")], 0),
        ("pip install .", [*pip, str(ROOT)], 0),
        ("import mesacheck", [str(python), "-c", "import mesacheck; print(mesacheck.__version__)"], 0),
        ("the command line", [str(folder / "venv" / "bin" / "mesacheck"), "--version"], 0),
        ("python-flint came too", [str(python), "-c", "import flint; print(flint.__version__)"], 0),
        (
            "a certified limit",
            [
                str(folder / "venv" / "bin" / "mesacheck"),
                "flow",
                "--full",
                "--d",
                "2",
                "--T",
                "10",
                "--certify",
            ],
            0,
        ),
        *(
            (f"no top-level {name}", [str(python), "-c", f"import {name}"], 1)
            for name in ("symbolic", "numeric", "proofs_check")
        ),
    ]
    failed = 0
    try:
        for label, command, expected in steps:
            start = time.perf_counter()
            # outside the checkout: its folders must not stand in for the installed package
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            ok = (result.returncode == 0) == (expected == 0)
            failed += not ok
            said = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1:] or [""]
            verdict = "ok  " if ok else "FAIL"
            print(f"{verdict} {label:24s} {seconds:6.1f} s  exit {result.returncode}  {said[0][:80]}")
    finally:
        if args.keep:
            print(f"venv kept: {folder / 'venv'}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{len(steps) - failed} of {len(steps)} as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
