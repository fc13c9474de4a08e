"""The sources dialog: which files of an opened audit match, and what to do about the rest.

Names, paths and messages come from the audit (anyone's file): they are shown as plain
text, never as rich text (which could load images or links).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

STATUS_TEXT = {
    "ok": "✓ unchanged",
    "changed": "! changed since",
    "missing": "✗ not found",
    "not checked": "? not checked",
    "refused": "✗ refused",
}


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class SourcesDialog(QDialog):
    """Which model and data files still match the audit; moved ones can be located, files
    outside the audit's folder checked once the user confirms them."""

    def __init__(
        self,
        statuses: list,
        locate: Callable[[str, str], None],
        parent: QWidget,
        confirm: Callable[[str, str, str], None] | None = None,
    ):
        super().__init__(parent)
        self.setObjectName("sourcesDialog")
        self.setWindowTitle("Files of this audit")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Some files this audit was computed from have changed, moved, or lie outside the "
            "audit's folder (not opened until you confirm them: an audit may come from anyone). "
            "The saved results stay viewable as they are; running again or computing saliency "
            "needs the files."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.grid = QGridLayout()
        self.buttons: dict[tuple[str, str], QPushButton] = {}  # "Locate…" per source
        self.confirm_buttons: dict[tuple[str, str], QPushButton] = {}  # "Check it"
        self.messages: dict[tuple[str, str], str] = {}
        for row, s in enumerate(statuses):
            self._add_row(row, s, locate, confirm)
        self.grid.setColumnStretch(3, 1)
        layout.addLayout(self.grid)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(820, 120 + 40 * len(statuses))

    def _add_row(self, row: int, s, locate, confirm) -> None:
        grid = self.grid
        grid.addWidget(QLabel(f"<b>{s.kind}</b>"), row, 0)
        grid.addWidget(_plain(s.name), row, 1)
        state = QLabel(STATUS_TEXT.get(s.status, s.status))
        state.setToolTip(s.message)
        grid.addWidget(state, row, 2)
        message = _plain(s.message)
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(message, row, 3)
        self.messages[s.kind, s.name] = s.message
        if s.status == "not checked" and confirm is not None:
            check = QPushButton("Check it")
            check.setToolTip(f"Hash and use {s.path}: only if you trust where it points")
            check.clicked.connect(lambda _=False, k=s.kind, n=s.name, p=s.path: confirm(k, n, p))
            grid.addWidget(check, row, 4)
            self.confirm_buttons[s.kind, s.name] = check
        if not s.ok:
            button = QPushButton("Locate…")
            button.clicked.connect(lambda _=False, k=s.kind, n=s.name: locate(k, n))
            grid.addWidget(button, row, 5)
            self.buttons[s.kind, s.name] = button
