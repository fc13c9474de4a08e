"""Menu pieces the File menu's submenus share: a section title that every style shows."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMenu, QWidgetAction


def add_header(menu: QMenu, text: str) -> QWidgetAction:
    """A bold, unclickable title over a group of entries.

    `QMenu.addSection` leaves the text to the style, and Fusion (the window's style on
    Linux) draws a bare separator, so the groups would be unlabelled again."""
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(8, 4, 8, 2)
    action = QWidgetAction(menu)
    action.setDefaultWidget(label)
    action.setText(text)  # what tests and accessibility read
    action.setEnabled(False)
    menu.addAction(action)
    return action


def menu_text(text: str) -> str:
    """A file name as a menu entry's text: an "&" is shown, not taken as a mnemonic."""
    return text.replace("&", "&&")
