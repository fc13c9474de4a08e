"""What the window remembers between sessions: recent files, and the last threat model.

Open Recent is grouped by what a file is (models, datasets, audits), each group under a
title; an entry reads "name — folder" with the full path as its tooltip. A file that is
gone is greyed and says so (it stays until Clear, so a disconnected drive comes back).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from inspector.core.data.builtin import is_builtin
from inspector.core.data.files import split_spec
from inspector.core.errors import InspectorError
from inspector.core.threat import ThreatModel
from inspector.gui.menus import add_header, menu_text

RECENT_MAX = 8
# settings key, group title; in the menu's order
RECENT_GROUPS = (
    ("recentModels", "Models"),
    ("recentDatasets", "Datasets"),
    ("recentAudits", "Audits"),
)
RECENT_KEYS = tuple(key for key, _ in RECENT_GROUPS)
FOLDER_CHARS = 40  # a longer folder keeps its end: the part that tells folders apart
CLEAR_TEXT = "&Clear Recent Files"
MISSING = "not found"


@dataclass(frozen=True)
class RecentEntry:
    """One remembered file as the menu shows it."""

    value: str  # what was opened: a path, a dataset spec (PATH:train) or a built-in
    text: str  # "name — folder"
    tip: str  # the full path, and whether it is there
    missing: bool


def short_folder(folder: Path) -> str:
    """The folder as a menu says it: ~ for home, the last FOLDER_CHARS characters."""
    text = str(folder)
    with contextlib.suppress(ValueError, RuntimeError):
        text = str(Path("~") / folder.relative_to(Path.home()))
    return text if len(text) <= FOLDER_CHARS else "…" + text[-(FOLDER_CHARS - 1) :]


def describe(value: str) -> RecentEntry:
    """How one remembered value reads in the menu (built-ins have no file to miss)."""
    if is_builtin(value):
        return RecentEntry(value, f"{value} — built-in", f"built-in dataset {value}", False)
    path, split = split_spec(value)
    path = path.absolute()
    name = path.name + (f":{split}" if split else "")
    missing = not path.exists()
    text = f"{name} — {short_folder(path.parent)}" + (f" ({MISSING})" if missing else "")
    tip = f"{path}" + (f": {MISSING} (moved, renamed or on a drive not mounted)" if missing else "")
    return RecentEntry(value, text, tip, missing)


class RecentFiles:
    """The Open Recent menu, kept in the settings (newest first, at most RECENT_MAX each)."""

    def __init__(
        self, settings: QSettings, menu: QMenu, openers: dict[str, Callable[[str], object]]
    ) -> None:
        self.settings, self.menu, self.openers = settings, menu, openers
        menu.setToolTipsVisible(True)
        menu.aboutToShow.connect(self.rebuild)  # files come and go while the window is open
        self.rebuild()

    def values(self, key: str) -> list[str]:
        return [str(v) for v in self.settings.value(key, [], type=list)]  # 1 item reads as str

    def remember(self, key: str, value: str) -> None:
        items = [v for v in self.values(key) if v != value]
        self.settings.setValue(key, [value, *items][:RECENT_MAX])
        self.rebuild()

    def clear(self) -> None:
        for key in RECENT_KEYS:
            self.settings.remove(key)
        self.rebuild()

    def entries(self, key: str) -> list[RecentEntry]:
        return [describe(value) for value in self.values(key)]

    def rebuild(self) -> None:
        self.menu.clear()
        for key, title in RECENT_GROUPS:
            entries = self.entries(key)
            if not entries:
                continue
            if not self.menu.isEmpty():
                self.menu.addSeparator()
            add_header(self.menu, title)
            for entry in entries:
                self._add_entry(entry, self.openers[key])
        empty = self.menu.isEmpty()
        if not empty:
            self.menu.addSeparator()
            self.menu.addAction(CLEAR_TEXT).triggered.connect(lambda _=False: self.clear())
        self.menu.setEnabled(not empty)

    def _add_entry(self, entry: RecentEntry, opener: Callable[[str], object]) -> None:
        action = self.menu.addAction(menu_text(entry.text))
        action.setToolTip(entry.tip)
        action.setStatusTip(entry.tip)
        action.setEnabled(not entry.missing)
        action.setData(entry.value)
        action.triggered.connect(lambda _=False, v=entry.value: opener(v))


def save_threat(settings: QSettings, threat: Callable[[], ThreatModel]) -> None:
    """Keep the set-up panel's threat model; invalid controls keep the last good one."""
    with contextlib.suppress(InspectorError):
        settings.setValue("threat", json.dumps(threat().to_dict()))


def saved_threat(settings: QSettings) -> ThreatModel | None:
    """The threat model of the last session's set-up panel, if one was saved and is valid."""
    text = settings.value("threat", "")
    try:
        return ThreatModel.from_dict(json.loads(text)) if text else None
    except (InspectorError, ValueError, TypeError, KeyError):
        return None
