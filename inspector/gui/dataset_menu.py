"""File ▸ Open Dataset: a file, a folder or a built-in, all opened as the CLI's --data does.

Every choice ends in the same call, `open_spec(spec)`, which the window runs on its loader
thread through core/data's `open_dataset` (the CLI's validation and limits.py's bounds), so
the window accepts exactly what the command line accepts and refuses it the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from inspector.core.data.builtin import BUILTIN_CHOICES
from inspector.gui.file_dialogs import ask_dataset_file, ask_dataset_path
from inspector.gui.menus import add_header

FILE_TEXT = "&File… (.npz, MNIST images, CIFAR-10 batch)"
FOLDER_TEXT = "F&older… (image classes, CIFAR-10, MNIST)"
BUILTIN_HEADER = "Built-in datasets"


class DatasetMenu(QMenu):
    """The Open Dataset submenu; the set-up panel's button pops the same menu up."""

    def __init__(
        self, parent: QWidget, settings: QSettings, open_spec: Callable[[str], None]
    ) -> None:
        super().__init__("Open &Dataset", parent)
        self.setObjectName("datasetMenu")
        self.setToolTipsVisible(True)
        self.settings, self.open_spec = settings, open_spec
        self.file_action = self._add(FILE_TEXT, self.ask_file, "Open a dataset file")
        self.file_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.folder_action = self._add(FOLDER_TEXT, self.ask_folder, "Open a dataset folder")
        self.addSeparator()
        add_header(self, BUILTIN_HEADER)
        self.builtin_actions = [
            self._add(f"{spec} — {what}", lambda _=False, s=spec: open_spec(s), what)
            for spec, what in BUILTIN_CHOICES
        ]

    def _add(self, text: str, slot: Callable[[], None], tip: str) -> QAction:
        action = self.addAction(text)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def ask_file(self) -> None:
        if path := ask_dataset_file(self.parentWidget(), self.settings):
            self.open_spec(path)

    def ask_folder(self) -> None:
        if path := ask_dataset_path(self.parentWidget(), self.settings):
            self.open_spec(path)
