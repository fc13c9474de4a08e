"""Combo boxes as wide as the entry they show, not as their longest entry.

A combo sized for its longest entry ("Fast audit (APGD-CE, MALT-ranked APGD-T, Square)")
made the set-up panel 465 px wide; one sized for a few characters cut the entry shown
("digits_pg", "Grad-CA"). Fitted, it is as wide as the current entry needs, and its list
as wide as the longest, so every entry reads whole in both.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox


def needed_width(combo: QComboBox, text: str | None = None) -> int:
    """The width the style needs to show `text` (default: the current entry) whole."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    shown = combo.currentText() if text is None else text
    metrics = combo.fontMetrics()
    icon = combo.iconSize().width() + 4 if not combo.itemIcon(combo.currentIndex()).isNull() else 0
    size = QSize(metrics.horizontalAdvance(shown) + icon, metrics.height())
    style = combo.style()
    return style.sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, size, combo).width()


def fit_to_current(combo: QComboBox) -> None:
    """Keep `combo` as wide as its current entry, its drop-down list as wide as its longest."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(4)

    def fit(_index: int = 0) -> None:
        combo.setMinimumWidth(needed_width(combo))
        texts = [combo.itemText(i) for i in range(combo.count())]
        widest = max((combo.fontMetrics().horizontalAdvance(t) for t in texts), default=0)
        combo.view().setMinimumWidth(widest + 32)

    combo.currentIndexChanged.connect(fit)
    combo.installEventFilter(_OnFontChange(combo, fit))  # zoom: larger type, wider combo
    items = combo.model()  # entries may be added with the combo's signals blocked
    for signal in (items.rowsInserted, items.rowsRemoved, items.modelReset, items.dataChanged):
        signal.connect(lambda *_args: fit())
    fit()


class _OnFontChange(QObject):
    """Calls `action` after its parent's font changed (the window's zoom)."""

    def __init__(self, parent: QObject, action) -> None:
        super().__init__(parent)
        self.action = action

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:
            self.action()
        return False
