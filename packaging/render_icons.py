"""Render the hand-drawn SVG icon to the PNG sizes desktops and PyInstaller want.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py
Writes resources/icons/robustness-inspector-<N>.png for each size (the PNGs are committed:
installing needs no Qt renderer). Deterministic for a given Qt version.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from the checkout
from inspector.core.package_data import CHECKOUT_RESOURCES, ICON_SIZES  # noqa: E402

ICONS = CHECKOUT_RESOURCES / "icons"
SVG = ICONS / "robustness-inspector.svg"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """One square PNG of `size` pixels on a transparent background."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot read {SVG}", file=sys.stderr)
        return 1
    for size in ICON_SIZES:
        out = ICONS / f"{SVG.stem}-{size}.png"
        if not render(renderer, size).save(str(out)):
            print(f"cannot write {out}", file=sys.stderr)
            return 1
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
