"""What the window remembers between sessions: recent files, and the last threat model."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from inspector.core.errors import InspectorError
from inspector.core.threat import ThreatModel

RECENT_MAX = 8
RECENT_KEYS = ("recentAudits", "recentModels", "recentDatasets")  # in the menu's order


class RecentFiles:
    """The Open Recent menu, kept in the settings (newest first, at most RECENT_MAX each)."""

    def __init__(
        self, settings: QSettings, menu: QMenu, openers: dict[str, Callable[[str], object]]
    ) -> None:
        self.settings, self.menu, self.openers = settings, menu, openers
        self.rebuild()

    def remember(self, key: str, value: str) -> None:
        items = [v for v in self.settings.value(key, [], type=list) if v != value]
        self.settings.setValue(key, [value, *items][:RECENT_MAX])
        self.rebuild()

    def rebuild(self) -> None:
        self.menu.clear()
        for key in RECENT_KEYS:
            opener = self.openers[key]
            for value in self.settings.value(key, [], type=list):  # 1 item reads back as str
                action = self.menu.addAction(value)
                action.triggered.connect(lambda _=False, v=value, o=opener: o(v))
        self.menu.setEnabled(not self.menu.isEmpty())


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
