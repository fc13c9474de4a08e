"""Where the shipped files are: the demo models, the icons, the desktop files.

Installed (a wheel, pipx, an editable install, a PyInstaller bundle) they are the package
`inspector._resources`, read with importlib.resources; the checkout's top-level
`resources/` is their source (setup.py maps it). Run from a checkout without installing
(`PYTHONPATH=.`), that package is not importable and the checkout's folder is used.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

PACKAGE = "inspector._resources"
CHECKOUT_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def resources_root() -> Path:
    """The folder holding demo/, icons/ and desktop/, as a real path (loaders need files)."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        return CHECKOUT_RESOURCES
    # a zipped install has no paths: the demo then reports its models missing (reinstall)
    return root if isinstance(root, Path) else Path(str(root))


def resource_dir(name: str) -> Path:
    """One of the shipped folders: "demo", "icons" or "desktop"."""
    return resources_root() / name


# the reverse-DNS id the desktop entry, icon, MIME package and AppStream files are named by
APP_ID = "io.github.robustness_inspector.RobustnessInspector"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the PNGs rendered from the SVG


def icon_file(size: int | None = None) -> Path:
    """The hand-drawn SVG icon, or (with a size from ICON_SIZES) its rendered PNG."""
    name = "robustness-inspector" + ("" if size is None else f"-{size}")
    return resource_dir("icons") / (name + (".svg" if size is None else ".png"))
