"""Colours with one meaning in the widgets (issue 15): statuses as glyph + word on a neutral
cell, model colours readable on the palette they are drawn on, signed maps named green/magenta."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.gui.colors import (
    composite,
    model_line_color,
    model_text_color,
    status_cell_brush,
    status_chip,
    status_glyph,
)
from inspector.gui.detail.text import TIPS
from inspector.gui.theme import DARK_WINDOW, palette_for
from inspector.render.palette import (
    GRAPHIC_CONTRAST,
    MODEL_COLORS,
    STATUS_GLYPHS,
    TEXT_CONTRAST,
    contrast_ratio,
)

STATUSES = (ROBUST, BOUNDARY_ERROR, NATURAL_ERROR)


@pytest.mark.parametrize("scheme", [Qt.ColorScheme.Light, Qt.ColorScheme.Dark])
@pytest.mark.parametrize("status", STATUSES)
def test_status_cell_text_reads_at_aa_on_its_tinted_cell(qapp, scheme, status) -> None:
    palette = palette_for(scheme, qapp)
    base = palette.color(QPalette.ColorRole.Base).name()
    text = palette.color(QPalette.ColorRole.Text).name()
    cell = composite(status_cell_brush(status).color(), base)
    assert contrast_ratio(text, cell) >= TEXT_CONTRAST
    assert contrast_ratio(cell, base) < 1.5  # a tint, not a stripe of colour


def test_status_chip_and_glyph_carry_the_status(qapp) -> None:
    for status in STATUSES:
        assert STATUS_GLYPHS[status] in status_chip(status)
        assert status.replace("_", " ") in status_chip(status)
        assert not status_glyph(status).isNull()


@pytest.mark.parametrize("index", range(len(MODEL_COLORS)))
def test_model_colours_follow_the_widgets_palette(qapp, qtbot, index) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.setPalette(palette_for(Qt.ColorScheme.Dark, qapp))
    assert contrast_ratio(model_text_color(widget, index), DARK_WINDOW) >= TEXT_CONTRAST
    assert contrast_ratio(model_line_color(widget, index), DARK_WINDOW) >= GRAPHIC_CONTRAST
    widget.setPalette(palette_for(Qt.ColorScheme.Light, qapp))
    assert model_line_color(widget, index) == MODEL_COLORS[index]  # the report's colours


def test_first_model_blue_is_lightened_on_dark() -> None:
    assert contrast_ratio(MODEL_COLORS[0], DARK_WINDOW) < TEXT_CONTRAST  # the 2.7:1


def test_signed_maps_are_named_as_they_are_drawn() -> None:
    for key in ("perturbation", "saliency_clean"):
        tip = TIPS[key].lower()
        assert "magenta" in tip and "green" in tip
        assert "orange" not in tip and "blue" not in tip
