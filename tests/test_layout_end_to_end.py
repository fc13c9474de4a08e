"""Issue 15's test: a demo session driven at 1280×720 from Run to the PDF, nothing cut at any step.

Run, move the ε slider, filter the boundary errors, switch the saliency method, export
the report: after each step every visible widget still fits its text and each plot keeps
a readable height (`clipped`, test_layout_clipping.py), and the step did what it says.
"""

from __future__ import annotations

from dataclasses import replace

from gui_support import SMALL, demo_window, run_to_finish
from test_layout_clipping import LIMIT
from test_layout_clipping import clipped as clipped_now

from inspector.core.metrics import BOUNDARY_ERROR


def test_a_demo_session_at_1280x720_end_to_end(qtbot, tmp_path):
    window = demo_window(qtbot)

    def clipped(_window) -> list[str]:
        """What is cut once the layout requests a step posted have run (as a user sees it)."""
        qtbot.wait(100)
        return clipped_now(window)

    window.resize(1280, 720)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1280, 720), timeout=5000)
    assert clipped(window) == [], "before the run"

    window.flags = replace(window.flags, limit=LIMIT)
    window.setup.set_threat(SMALL)
    results = run_to_finish(qtbot, window)
    assert [len(m.sweep.labels) for m in results.models] == [LIMIT] * 3
    qtbot.waitUntil(lambda: window.examples.current_position() is not None, timeout=5000)
    assert clipped(window) == [], "after the run"

    window.eps_bar.slider.setValue(3)  # ε = 0.15
    assert window.session.eps.index == 3
    assert window.eps_bar.value_label.text() == "L∞ ε = 0.15"
    assert clipped(window) == [], "after the slider"

    window.examples.select_status(BOUNDARY_ERROR)
    view = window.view
    shown = window.examples.visible_positions()
    expected = [p for p in range(LIMIT) if view.status_of(0, p, 3) == BOUNDARY_ERROR]
    assert sorted(shown) == expected and shown
    assert clipped(window) == [], "after the filter"

    controls = window.detail.saliency_controls
    controls.method_combo.setCurrentIndex(controls.method_combo.findData("gradcam"))
    assert controls.method == "gradcam"
    qtbot.waitUntil(lambda: not window.detail.saliency.busy, timeout=30_000)
    qtbot.waitUntil(lambda: window.detail.columns[0].saliency_clean.view.image is not None)
    assert "Grad-CAM" in window.detail.columns[0].saliency_clean.caption.text()
    assert clipped(window) == [], "after the saliency method"

    pdf = tmp_path / "report.pdf"
    with qtbot.waitSignal(window.documents.exported, timeout=60_000) as written:
        window.documents.export_report(str(pdf))
    assert written.args == [str(pdf)]
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    assert clipped(window) == [], "after the export"
