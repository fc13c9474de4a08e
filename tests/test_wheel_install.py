"""The wheel works outside the checkout (issue 17): built here with no download, installed
into a fresh venv that reuses this environment's dependencies, then run from a temporary
folder: `evaluate --demo`, the demo's ONNX model under PGD, and `gui --demo --run
--screenshot` (packaging/smoke.py checks the results and the PNG). 22 s on a quiet 2-core
machine, 60-80 s while other builds run, hence slow."""

from __future__ import annotations

import importlib.util
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from inspector.core.package_data import APP_ID, ICON_SIZES

REPO = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the venv layout below is POSIX"),
]


def _smoke_module():
    spec = importlib.util.spec_from_file_location("smoke", REPO / "packaging" / "smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pip(*args: str, python: str = sys.executable) -> None:
    subprocess.run([python, "-m", "pip", *args], check=True, capture_output=True, timeout=300)


def _build_wheel(out: Path) -> Path:
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), str(REPO))
    (wheel,) = out.glob("robustness_inspector-*.whl")
    return wheel


def _fresh_venv(folder: Path) -> Path:
    """A venv whose site-packages also sees this one's (a .pth file): no download."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    purelib = Path(
        sysconfig.get_path("purelib", vars={"base": str(folder), "platbase": str(folder)})
    )
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "project-deps.pth").write_text("\n".join(ours) + "\n")
    return folder / "bin"


def test_the_wheel_ships_the_demo_icons_and_desktop_files(tmp_path) -> None:
    names = set(zipfile.ZipFile(_build_wheel(tmp_path)).namelist())
    manifest = (REPO / "resources" / "demo" / "MANIFEST.sha256").read_text().splitlines()
    demo = {f"inspector/_resources/demo/{line.split()[1]}" for line in manifest}
    assert demo | {"inspector/_resources/demo/MANIFEST.sha256"} <= names
    icons = {f"inspector/_resources/icons/robustness-inspector-{n}.png" for n in ICON_SIZES}
    assert icons | {"inspector/_resources/icons/robustness-inspector.svg"} <= names
    for suffix in (".desktop", ".mime.xml", ".metainfo.xml"):
        assert f"inspector/_resources/desktop/{APP_ID}{suffix}" in names
    assert not [n for n in names if n.startswith(("tests/", "resources/", "packaging/"))]


def test_the_installed_wheel_runs_the_demo_outside_the_checkout(tmp_path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    bin_dir = _fresh_venv(tmp_path / "venv")
    python = str(bin_dir / "python")  # --ignore-installed: the .pth shows the checkout's own
    _pip("install", "--no-deps", "--no-index", "--ignore-installed", str(wheel), python=python)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import inspector.core.demo as d; print(d.DEMO_DIR)"],
        cwd=outside, env=_smoke_module().clean_env(), capture_output=True, text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(tmp_path / "venv"), where  # not the checkout's copy
    checked = _smoke_module().smoke([str(bin_dir / "robustness-inspector")], outside)
    assert checked["screenshot"] == (1600, 1000)
    robust = checked["robust_at_0.1"]  # 20 digits, PGD-10 at ε=0.1 (the demo's tradeoff)
    assert robust["digits_standard"] <= 0.6 and robust["digits_pgd"] >= 0.9, robust
    # the same network as the .pt2 (up to an example or two of float differences)
    assert abs(checked["onnx_robust_at_0.1"] - robust["digits_standard"]) <= 0.1, checked
