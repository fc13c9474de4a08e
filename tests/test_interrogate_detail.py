"""Images you can interrogate (issue 15): the large view shows the arrays pixel for pixel,
captions are never cut, every ε-like number goes through one formatter, keys step ε."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from test_gui_detail import BROKEN, plain, shown_panel
from test_gui_plots import make_view as plots_view

from inspector.core.session import Session
from inspector.gui.detail import text as detail_text
from inspector.gui.detail.zoom import ZOOM_TARGET, zoom_factor
from inspector.gui.eps_bar import EPS_STEPS


@pytest.fixture
def panel(qtbot):
    return shown_panel(qtbot)


def grey_pixels(label, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """The zoomed label's image sampled at each block's centre, as 0-255 grey levels."""
    image = label.pixmap().toImage()
    h, w = shape
    return np.array(
        [
            [
                image.pixelColor(x * factor + factor // 2, y * factor + factor // 2).red()
                for x in range(w)
            ]
            for y in range(h)
        ]
    )


def test_zoom_view_shows_the_arrays_pixel_for_pixel(panel, qtbot) -> None:
    panel.show_example(BROKEN, 1)
    column = panel.columns[0]
    qtbot.mouseDClick(column.clean.view, Qt.MouseButton.LeftButton)  # what a user does
    dialog = column.zoom_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.factor == ZOOM_TARGET // 8 == 45  # 8×8 digits: 45 screen px per pixel
    clean = column.clean.view.image
    adv = column.adversarial.view.image
    for label, array in ((dialog.images[0], clean), (dialog.images[1], adv)):
        assert label.pixmap().width() == 8 * dialog.factor
        expected = np.rint(np.clip(array[0], 0, 1) * 255)
        np.testing.assert_array_equal(grey_pixels(label, dialog.factor, (8, 8)), expected)
        # one block is one colour: its corners equal its centre
        image = label.pixmap().toImage()
        f = dialog.factor
        assert (
            image.pixelColor(0, 0)
            == image.pixelColor(f - 1, f - 1)
            == image.pixelColor(f // 2, f // 2)
        )
    assert not dialog.images[2].pixmap().isNull()  # δ, amplified
    captions = " ".join(plain(t.text()) for t in dialog.findChildren(type(dialog.images[0])))
    assert "cat ✓" in captions and "ship ✗" in captions  # the model's predictions
    dialog.close()
    qtbot.waitUntil(lambda: column.zoom_dialog is None)


def test_zoom_factor_is_an_integer_within_the_target() -> None:
    assert zoom_factor(np.zeros((1, 8, 8))) == 45
    assert zoom_factor(np.zeros((3, 32, 32))) == 11
    assert zoom_factor(np.zeros((3, 1000, 500))) == 1


def test_max_delta_and_breaking_eps_share_one_formatter(panel, monkeypatch) -> None:
    panel.show_example(BROKEN, 1)  # δ = ±0.1 stored as float16 (0.0999…), broken at ε = 0.1
    column = panel.columns[0]
    assert "max |δ| = 0.1" in plain(column.perturbation.caption.text())
    assert plain(column.breaking_label.text()) == "breaking ε = 0.1"
    seen: list[float] = []
    real = detail_text.format_eps

    def spy(eps: float) -> str:
        seen.append(eps)
        return real(eps)

    monkeypatch.setattr(detail_text, "format_eps", spy)
    panel.refresh()
    column._shown = None  # redraw everything
    panel.show_example(BROKEN, 2)
    assert 0.1 in seen and 0.2 in seen  # breaking ε, and max |δ| snapped to the grid
    assert detail_text.eps_size("max |δ|", 0.12499, (0.1, 0.125)) == "max |δ|\u00a0=\u00a00.125"
    assert detail_text.measured_eps(0.0371, (0.0, 0.025, 0.05)) == 0.0371  # off-grid stays


@pytest.mark.parametrize("width", [56, 86])
def test_captions_are_never_cut(panel, qtbot, width) -> None:
    panel.show_example(BROKEN, 1)
    for tile in (panel.columns[0].adversarial, panel.columns[0].perturbation):
        caption = tile.caption
        caption.setFixedWidth(width)  # as narrow as at 1280×720 with three models
        qtbot.waitUntil(lambda c=caption: c.width() == width)
        caption._document.setTextWidth(caption.width())
        size = caption._document.size()
        assert caption.height() >= size.height(), plain(caption.text())  # not cut below
        assert size.width() <= caption.width() + 1, plain(caption.text())  # nor at the side


def test_keys_step_the_eps_cursor(qtbot) -> None:
    keys = {step: [QKeySequence(k) for k in ks] for _, step, ks in EPS_STEPS}
    assert QKeySequence("]") in keys[1] and QKeySequence("[") in keys[-1]
    session = Session()
    session.set_view(plots_view(), eps_index=0)
    session.step_eps(1)
    assert session.eps.index == 1
    session.step_eps(1)
    session.step_eps(1)
    assert session.eps.index == 2  # clamped at the top
    session.step_eps(-1)
    assert session.eps.index == 1 and session.eps.value == 0.1
