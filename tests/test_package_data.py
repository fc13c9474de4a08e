"""The shipped files (resources/ → inspector._resources) and the platform markers.

The wheel itself is built and run in test_wheel_install.py; here, fast facts: where the
files are found from a checkout, that the icons have their sizes, that the desktop files
agree with each other, and that onnxruntime's markers pick exactly one build everywhere.
"""

from __future__ import annotations

import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from PIL import Image

from inspector.core import package_data
from inspector.core.demo import DEMO_DIR, DEMO_MODELS, demo_model_paths
from inspector.core.package_data import APP_ID, ICON_SIZES, icon_file, resource_dir

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
REPO = Path(__file__).resolve().parents[1]
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def test_a_checkout_run_without_installing_reads_the_top_level_resources(monkeypatch) -> None:
    def not_installed(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(package_data.importlib.resources, "files", not_installed)
    assert package_data.resource_dir("icons") == REPO / "resources" / "icons"


def test_the_demo_is_found_with_its_manifest() -> None:
    # the checkout's folder, or an editable install's mapping of it: the same files
    assert [p.name for p in demo_model_paths()] == list(DEMO_MODELS)
    shipped = (DEMO_DIR / "MANIFEST.sha256").read_bytes()
    assert shipped == (REPO / "resources" / "demo" / "MANIFEST.sha256").read_bytes()


def test_every_icon_size_is_rendered_at_its_size() -> None:
    for size in ICON_SIZES:
        with Image.open(icon_file(size)) as image:
            assert (image.format, image.size, image.mode) == ("PNG", (size, size), "RGBA")
            corner, centre = image.getpixel((0, 0)), image.getpixel((size // 2, size // 2))
        assert corner[3] == 0 and centre[3] == 255  # rounded corners transparent, body opaque
    svg = ET.parse(icon_file()).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox") == "0 0 256 256"


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(resource_dir("desktop") / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_files_name_one_app_one_icon_one_type() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application" and entry["Icon"] == APP_ID
    assert entry["Exec"] == "robustness-inspector gui %f"
    assert entry["MimeType"] == "application/x-riaudit;"
    mime = ET.parse(resource_dir("desktop") / f"{APP_ID}.mime.xml").getroot()
    kind = mime.find(f"{MIME_NS}mime-type")
    assert kind.get("type") == "application/x-riaudit"
    assert kind.find(f"{MIME_NS}glob").get("pattern") == "*.riaudit"
    assert kind.find(f"{MIME_NS}sub-class-of").get("type") == "application/zip"
    assert kind.find(f"{MIME_NS}icon").get("name") == APP_ID
    meta = ET.parse(resource_dir("desktop") / f"{APP_ID}.metainfo.xml").getroot()
    assert meta.findtext("id") == APP_ID
    assert meta.findtext("launchable") == f"{APP_ID}.desktop"
    assert meta.findtext("provides/mediatype") == "application/x-riaudit"


def _onnxruntime_requirements() -> list[Requirement]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    deps = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    return [r for r in deps if r.name.startswith("onnxruntime")]


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "onnxruntime-gpu"),
        ("Windows", "AMD64", "onnxruntime-gpu"),
        ("Linux", "aarch64", "onnxruntime"),
        ("Darwin", "arm64", "onnxruntime"),
        ("Darwin", "x86_64", "onnxruntime"),
        ("Windows", "ARM64", "onnxruntime"),
        ("FreeBSD", "amd64", "onnxruntime"),
    ],
)
def test_exactly_one_onnxruntime_build_per_platform(system, machine, expected) -> None:
    env = {"platform_system": system, "platform_machine": machine}
    chosen = [r.name for r in _onnxruntime_requirements() if r.marker.evaluate(env)]
    assert chosen == [expected]
