"""Colours with one meaning each (issue 15): models, statuses and signed maps never share a
colour, and text stays readable on both palettes (WCAG contrast, computed, not eyeballed)."""

from __future__ import annotations

import colorsys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

from inspector.gui.theme import DARK_BASE, DARK_WINDOW, palette_for
from inspector.render.palette import (
    GRAPHIC_CONTRAST,
    MODEL_COLORS,
    SIGNED_NEGATIVE,
    SIGNED_POSITIVE,
    STATUS_COLORS,
    STATUS_GLYPHS,
    STATUS_LABELS,
    TEXT_CONTRAST,
    contrast_ratio,
    model_color,
    readable_on,
)


def _rgb(color: str) -> tuple[float, float, float]:
    v = color.lstrip("#")
    return tuple(int(v[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _distance(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b), strict=True)) ** 0.5 * 255


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WCAG's example
    assert contrast_ratio("#0072B2", "#2D2D2D") == pytest.approx(2.7, abs=0.1)  # the figure


def test_statuses_are_neutral_greys_with_a_glyph_and_a_word() -> None:
    for status, color in STATUS_COLORS.items():
        r, g, b = _rgb(color)
        assert r == g == b, f"{status} is not neutral"
        assert STATUS_GLYPHS[status] and STATUS_LABELS[status]
    assert len(set(STATUS_COLORS.values())) == len(STATUS_GLYPHS) == 3


@pytest.mark.parametrize("signed", [SIGNED_NEGATIVE, SIGNED_POSITIVE])
def test_signed_map_ends_are_not_model_colours(signed: str) -> None:
    nearest = min(_distance(signed, m) for m in MODEL_COLORS)
    assert nearest > 60, f"{signed} is within {nearest:.0f} of a model colour"


@pytest.mark.parametrize("background", [DARK_BASE, DARK_WINDOW, "#FFFFFF"])
@pytest.mark.parametrize("index", range(len(MODEL_COLORS)))
def test_model_colours_read_as_text_on_both_palettes_and_keep_their_hue(
    index: int, background: str
) -> None:
    shown = model_color(index, background)
    assert contrast_ratio(shown, background) >= TEXT_CONTRAST
    hue = colorsys.rgb_to_hls(*_rgb(MODEL_COLORS[index]))[0]
    shown_hue = colorsys.rgb_to_hls(*_rgb(shown))[0]
    assert min(abs(hue - shown_hue), 1 - abs(hue - shown_hue)) < 0.03


def test_readable_on_leaves_readable_colours_alone_and_reaches_the_graphic_ratio() -> None:
    assert readable_on("#0072B2", "#FFFFFF") == "#0072B2"  # 5.2:1 already
    assert contrast_ratio(readable_on("#E69F00", "#FFFFFF", GRAPHIC_CONTRAST), "#FFFFFF") >= 3.0


def test_dark_palette_text_passes_aa_and_disabled_text_looks_disabled(qapp) -> None:
    palette = palette_for(Qt.ColorScheme.Dark, qapp)
    active, disabled = QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled
    for text, back in (
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
        (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    ):
        enabled = contrast_ratio(
            palette.color(active, text).name(), palette.color(active, back).name()
        )
        dimmed = contrast_ratio(
            palette.color(disabled, text).name(), palette.color(disabled, back).name()
        )
        assert enabled >= TEXT_CONTRAST
        assert dimmed < enabled / 1.5  # plainly dimmer than an enabled control
