"""The window's PDF export carries the saliency maps the window has computed, and only those.

The demo is run in the window, one boundary error is selected (its maps are computed for
every model), the report is exported; the gallery of each model that shows that example
has its two maps (two more images), the others say in one line that nothing was computed.
"""

from __future__ import annotations

import re

import numpy as np
from gui_support import demo_window, run_to_finish
from pypdf import PdfReader

from inspector.core.metrics import broken_at
from inspector.reporting.gallery import boundary_positions, natural_positions

FIXED_PAGES = 5
TIMEOUT = 60_000  # ms: the suite shares 2 cores


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def images_on(page) -> int:
    xobjects = page["/Resources"].get("/XObject", {})
    return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")


def test_export_passes_the_cached_maps(qtbot, tmp_path):
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    window.eps_bar.slider.setValue(2)
    eps = window.view.eps[2]
    s = results.models[0].sweep
    chosen = int(boundary_positions(results.models[0], eps)[0])
    assert s.clean_correct[chosen] and broken_at(s.breaking_eps, eps)[chosen]
    window.examples.select_position(chosen)
    columns = window.detail.columns
    qtbot.waitUntil(
        lambda: all(c.saliency_adv.view.image is not None for c in columns), timeout=TIMEOUT
    )
    with qtbot.waitSignal(window.documents.exported, timeout=TIMEOUT):
        window.documents.export_report(str(tmp_path / "report.pdf"))
    pages = PdfReader(tmp_path / "report.pdf").pages
    shown = [p for p in pages[FIXED_PAGES:] if "7Examples:" in squash(p.extract_text())]
    assert len(shown) == len(results.models)
    with_maps = 0
    for page, m in zip(shown, results.models, strict=True):
        text = squash(page.extract_text())
        boundary = boundary_positions(m, eps)
        natural = len(natural_positions(m))
        cached = chosen in boundary.tolist()
        with_maps += cached
        assert images_on(page) == 3 * len(boundary) + natural + (2 if cached else 0)
        if cached:
            assert "Saliency:vanillagradientofthetrueclass'slogit" in text
        else:
            assert "thewindowcomputesthemonlyfortheexamplesselectedinit" in text
    assert with_maps >= 1
    assert np.isfinite(window.detail.saliency.cache[next(iter(window.detail.saliency.cache))]).all()
