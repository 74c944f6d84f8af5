"""What `pip install .` installs: one top-level name, mesacheck, with its layers beneath it and
its package data; nothing named symbolic, numeric or proofs_check at the top level."""

import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_one_top_level_name_and_its_data(tmp_path):
    pytest.importorskip(
        "setuptools", reason="the wheel is built without build isolation: it needs setuptools"
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q"]
        + ["--disable-pip-version-check", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mesacheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    metadata = f"mesacheck-{version('mesacheck')}.dist-info"
    assert {name.split("/")[0] for name in names} == {"mesacheck", metadata}
    for path in (
        "mesacheck/__init__.py",  # the public API (proofs_check/api)
        "mesacheck/symbolic/setting.py",
        "mesacheck/numeric/flow.py",
        "mesacheck/proofs_check/cli/__init__.py",
        "mesacheck/proofs_check/extensions/noise.py",
        "mesacheck/proofs_check/claim_seconds.json",
    ):
        assert path in names, path
    assert not [name for name in names if name.startswith("mesacheck/proofs_check/api")]
    # every module of the sources is installed (a new subpackage must be listed in pyproject.toml)
    for folder in ("symbolic", "numeric", "proofs_check"):
        for source in (ROOT / folder).rglob("*.py"):
            relative = source.relative_to(ROOT / folder).as_posix()
            if relative.startswith("api/"):
                continue  # installed as mesacheck itself
            assert f"mesacheck/{folder}/{relative}" in names, f"{folder}/{relative} is not in the wheel"
    for source in (ROOT / "proofs_check" / "api").glob("*.py"):
        assert f"mesacheck/{source.name}" in names, source
    requires = zipfile.ZipFile(wheel).read(f"{metadata}/METADATA").decode()
    assert "Requires-Dist: python-flint" in requires  # numeric/certify.py's interval arithmetic
    entry_points = zipfile.ZipFile(wheel).read(f"{metadata}/entry_points.txt")
    assert b"mesacheck = mesacheck.proofs_check.cli:main" in entry_points
