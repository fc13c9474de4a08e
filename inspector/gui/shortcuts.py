"""Help ▸ Keyboard Shortcuts: every key the window answers to, read from its actions.

Read from the actions themselves, so the list can never disagree with the keys: a new
action with a shortcut shows here without anyone editing a list.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

EXTRA = (  # keys that belong to a widget, not to a window action
    ("Double-click an image in the detail panel", "a large, pixel-exact view"),
    ("Click or drag on the accuracy plot", "set ε there"),
)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every action of `window` that has a shortcut, in menu order."""
    rows = []
    for action in window.actions():
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((" or ".join(keys), action.text().replace("&", "").rstrip("…")))
    return rows


def shortcuts_html(window: QWidget) -> str:
    cells = [*shortcut_rows(window), *EXTRA]
    body = "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>"
        for k, v in cells
    )
    return f"<table>{body}</table>"


def open_shortcuts_box(window: QWidget) -> QMessageBox:
    box = QMessageBox(window)
    box.setObjectName("shortcutsBox")
    box.setWindowTitle("Keyboard shortcuts")
    box.setText(shortcuts_html(window))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box
