"""Menu pieces the File menu's submenus share: a section title that every style shows."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMenu, QWidgetAction


def add_header(menu: QMenu, text: str) -> QWidgetAction:
    """A bold title over a group of entries; it does nothing when clicked.

    `QMenu.addSection` leaves the text to the style, and Fusion (the window's style on
    Linux) draws a bare separator, so the groups would be unlabelled again."""
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(8, 4, 8, 2)
    action = QWidgetAction(menu)
    action.setDefaultWidget(label)
    action.setText(text)  # what tests and accessibility read
    # Enabled, with nothing connected: a disabled action greys its label, and greyed is
    # what a missing recent file looks like. A click on a label does not close the menu.
    menu.addAction(action)
    return action


def menu_text(text: str) -> str:
    """A file name as a menu entry's text: an "&" is shown, not taken as a mnemonic."""
    return text.replace("&", "&&")
