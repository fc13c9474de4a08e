"""No widget of the window is cut at the sizes a presenter or an auditor uses.

"Cut" is measured, not eyeballed: every visible label, button and combo box is at least as
wide as its size hint says its text needs (a word-wrapped label: as tall as its text at its
width), every header's title fits its section, and each summary plot keeps a readable
height. `clipped(window)` lists what fails; the tests below run it at 1280×720, 1366×768
and 1920×1080, before and after a run, and (in a subprocess, QT_SCALE_FACTOR=2) at 200 %.

Run as a script it saves a screenshot and prints what is clipped (how the PNGs in
resources/screenshots/ were made):
    python tests/test_layout_clipping.py 1280 720 /tmp/w.png [--run] [--dark] [--zoom 1.5]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QStyle,
    QWidget,
)

from inspector.gui.caption import StableCaption
from inspector.gui.fitting import needed_width

SIZES = ((1280, 720), (1366, 768), (1920, 1080))
MIN_PLOT_HEIGHT = 200  # logical px of the plotting area itself (axes excluded)
LIMIT = 60  # examples per run: seconds, not minutes, on a shared machine


def _shown(widget: QWidget, window: QWidget) -> bool:
    """Visible, in the window, and not zero-sized (a collapsed splitter pane is not shown)."""
    return widget.isVisibleTo(window) and widget.isVisible() and widget.width() > 0


def _label_problem(label: QLabel) -> str | None:
    if not label.text():
        return None
    if label.wordWrap():
        need = label.heightForWidth(label.width())
        return f"needs {need} px height, has {label.height()}" if need > label.height() else None
    need = label.minimumSizeHint().width()
    return f"needs {need} px width, has {label.width()}" if need > label.width() else None


def _caption_problem(caption: StableCaption) -> str | None:
    if not caption.text() or caption.width() <= 0:
        return None
    document = caption._document
    document.setTextWidth(caption.width())
    need = document.size().height() - 1
    widest = document.idealWidth()
    if need > caption.height():
        return f"needs {need:.0f} px height, has {caption.height()}"
    if widest > caption.width() + 1:
        return f"needs {widest:.0f} px width, has {caption.width()}"
    return None


def _header_problems(header: QHeaderView, name: str) -> list[str]:
    problems = []
    model = header.model()
    if model is None:
        return problems
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    for logical in range(header.count()):
        title = model.headerData(logical, header.orientation())
        if header.isSectionHidden(logical) or not title:
            continue
        has = header.sectionSize(logical)
        if logical == header.sortIndicatorSection():  # room for the arrow as well
            need = header.sectionSizeFromContents(logical).width()
        else:
            need = header.fontMetrics().horizontalAdvance(str(title)) + 2 * margin
        if need > has:
            problems.append(f"{name} header {title!r}: needs {need} px, has {has}")
    return problems


def _plot_problems(window) -> list[str]:
    problems = []
    for plot in (window.tradeoff, window.frontier):
        if not _shown(plot, window):
            continue
        height = plot.plot_item.getViewBox().height()
        if height < MIN_PLOT_HEIGHT:
            problems.append(f"{plot.objectName()}: plotting area {height:.0f} px high")
    return problems


def clipped(window) -> list[str]:
    """Every visible widget whose text does not fit, and every plot too low to read."""
    problems: list[str] = []
    for widget in window.findChildren(QWidget):
        if not _shown(widget, window):
            continue
        name = type(widget).__name__
        problem = None
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
            name = f"QLabel({widget.objectName() or widget.text()[:40]!r})"
        elif isinstance(widget, StableCaption):
            problem = _caption_problem(widget)
            name = f"StableCaption({widget.objectName() or widget.text()[:40]!r})"
        elif isinstance(widget, QComboBox):
            need = needed_width(widget)
            if need > widget.width():
                problem = f"{widget.currentText()!r} needs {need} px, has {widget.width()}"
            name = f"QComboBox({widget.objectName()!r})"
        elif isinstance(widget, QAbstractButton) and widget.text():
            need = widget.minimumSizeHint().width()
            if need > widget.width():
                problem = f"needs {need} px, has {widget.width()}"
            name = f"{type(widget).__name__}({widget.text()!r})"
        elif isinstance(widget, QHeaderView) and widget.orientation().name == "Horizontal":
            problems += _header_problems(widget, widget.parent().objectName() or "table")
        if problem is not None:
            problems.append(f"{name}: {problem}")
    return problems + _plot_problems(window)


# -- the tests -----------------------------------------------------------------------------


def _settle(qtbot, window, width: int, height: int) -> None:
    window.showNormal()
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height, timeout=5000)
    qtbot.wait(100)  # posted layout requests run
    QApplication.processEvents()


def test_first_size_fits_the_screen():
    from inspector.gui.layout import first_size

    assert first_size(QSize(1280, 690)) == QSize(1280, 690)  # a projector, less a panel
    assert first_size(QSize(1920, 1050)) == QSize(1600, 1000)
    assert first_size(QSize(800, 800)) == QSize(1600, 1000)  # offscreen: a virtual screen


def test_minimum_size_allows_a_projector(qtbot):
    from gui_support import demo_window

    window = demo_window(qtbot)
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert minimum.width() <= 1280 and minimum.height() <= 720, minimum


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_nothing_is_clipped_before_a_run(qtbot, size):
    from gui_support import demo_window

    window = demo_window(qtbot)
    _settle(qtbot, window, *size)
    assert clipped(window) == []


def test_nothing_is_clipped_after_a_run_at_every_size(qtbot):
    from gui_support import SMALL, demo_window, run_to_finish

    window = demo_window(qtbot)
    window.flags = replace(window.flags, limit=LIMIT)
    window.setup.set_threat(SMALL)
    run_to_finish(qtbot, window)
    # the saliency maps and scores arrive after the run: their captions' relayout too
    qtbot.waitUntil(lambda: not window.detail.saliency.busy, timeout=30_000)
    for size in SIZES:
        _settle(qtbot, window, *size)
        assert clipped(window) == [], size


@pytest.mark.slow
def test_nothing_is_clipped_at_200_percent(tmp_path):
    """QT_SCALE_FACTOR=2 in a 2560×1440 window: 1280×720 logical pixels at twice the density."""
    shot = tmp_path / "hidpi.png"
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, __file__, "1280", "720", str(shot), "--run"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["device_pixel_ratio"] == 2.0
    assert report["clipped"] == []
    assert shot.stat().st_size > 10_000


# -- as a script: a screenshot and what is clipped -------------------------------------------


def main(argv: list[str]) -> int:
    """Build the demo window at a size (optionally run it), save a PNG, print a JSON report."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("width", type=int)
    parser.add_argument("height", type=int)
    parser.add_argument("png")
    parser.add_argument("--run", action="store_true")
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--zoom", type=float, default=1.0)
    parser.add_argument("--present", action="store_true")
    parser.add_argument("--checks", action="store_true", help="sanity checks after the run")
    parser.add_argument("--setup-end", action="store_true", help="set-up scrolled to its end")
    args = parser.parse_args(argv)
    import tempfile

    for folder in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):  # not the user's settings or autosaves
        os.environ[folder] = tempfile.mkdtemp(prefix="inspector-layout-")
    import torch
    from gui_support import SMALL
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from inspector.core.demo import DEMO_THREAT
    from inspector.gui.main_window import MainWindow
    from inspector.gui.theme import apply_theme, palette_for

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    if args.dark:
        app.setPalette(palette_for(Qt.ColorScheme.Dark, app))
    window = MainWindow()
    window.flags = replace(window.flags, limit=LIMIT)
    window.load_demo(DEMO_THREAT)
    window.setup.set_threat(SMALL)
    window.setup.checks.setChecked(args.checks)
    window.show()
    window.resize(args.width, args.height)

    def wait(condition, ms: int = 120_000) -> None:
        loop, waited = QEventLoop(), 0
        while not condition() and waited < ms:
            QTimer.singleShot(50, loop.quit)
            loop.exec()
            waited += 50

    wait(lambda: not window.loader.busy and len(window.models) == 3)
    if args.run:
        window.run()
        wait(lambda: window.results is not None and not window.runner.running)
        wait(lambda: not window.detail.saliency.busy, 30_000)
    if args.zoom != 1.0:
        window.presentation.set_zoom(args.zoom)
    if args.present:
        window.presentation.set_presenting(True, full_screen=False)
    if args.setup_end:
        bar = window.setup_dock.widget().verticalScrollBar()
        bar.setValue(bar.maximum())
    wait(lambda: False, 400)
    window.grab().save(args.png)
    report = {
        "size": [window.width(), window.height()],
        "device_pixel_ratio": window.devicePixelRatioF(),
        "clipped": clipped(window),
    }
    print(json.dumps(report))
    window.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(sys.argv[1:]))
