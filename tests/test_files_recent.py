"""Open Recent: grouped (models, datasets, audits) under titles, "name — folder", missing greyed."""

from __future__ import annotations

from pathlib import Path

from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
)
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QWidgetAction

from inspector.gui.recent import (
    CLEAR_TEXT,
    RECENT_MAX,
    RecentFiles,
    describe,
    short_folder,
)


def _recent(tmp_path: Path, opened: list[tuple[str, str]]) -> RecentFiles:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    openers = {
        key: (lambda value, key=key: opened.append((key, value)))
        for key in ("recentModels", "recentDatasets", "recentAudits")
    }
    return RecentFiles(settings, QMenu(), openers)


def _rows(menu: QMenu) -> list[tuple[str, bool]]:
    """(text, enabled) per entry; titles as "# title" (enabled: not greyed), separators "-"."""
    rows = []
    for action in menu.actions():
        if action.isSeparator():
            rows.append(("-", False))
        elif isinstance(action, QWidgetAction):
            rows.append((f"# {action.text()}", action.isEnabled()))
        else:
            rows.append((action.text(), action.isEnabled()))
    return rows


def test_grouped_with_titles_names_and_folders(tmp_path, qapp):
    models = tmp_path / "models"
    models.mkdir()
    for name in ("a.pt2", "b&c.onnx"):
        (models / name).write_bytes(b"x")
    (tmp_path / "run.riaudit").write_bytes(b"x")
    opened: list[tuple[str, str]] = []
    recent = _recent(tmp_path, opened)
    assert not recent.menu.isEnabled() and _rows(recent.menu) == []
    recent.remember("recentAudits", str(tmp_path / "run.riaudit"))
    recent.remember("recentModels", str(models / "a.pt2"))
    recent.remember("recentModels", str(models / "b&c.onnx"))
    recent.remember("recentDatasets", "digits")
    recent.remember("recentDatasets", str(tmp_path / "gone.npz"))
    folder, top = short_folder(models), short_folder(tmp_path)
    assert _rows(recent.menu) == [
        ("# Models", True),
        (f"b&&c.onnx — {folder}", True),  # newest first; "&" shown, not a mnemonic
        (f"a.pt2 — {folder}", True),
        ("-", False),
        ("# Datasets", True),
        (f"gone.npz — {top} (not found)", False),  # greyed, and says why
        ("digits — built-in", True),
        ("-", False),
        ("# Audits", True),
        (f"run.riaudit — {top}", True),
        ("-", False),
        (CLEAR_TEXT, True),
    ]
    tips = [a.toolTip() for a in recent.menu.actions() if a.data()]
    assert tips[0] == str(models / "b&c.onnx") and tips[1] == str(models / "a.pt2")
    assert tips[2].startswith(f"{tmp_path / 'gone.npz'}: not found")
    entry = next(a for a in recent.menu.actions() if a.data() == str(models / "a.pt2"))
    entry.trigger()
    assert opened == [("recentModels", str(models / "a.pt2"))]
    recent.menu.deleteLater()


def test_persisted_capped_and_cleared(tmp_path, qapp):
    recent = _recent(tmp_path, [])
    for i in range(RECENT_MAX + 3):
        recent.remember("recentDatasets", f"tsipras:seed={i}")
    recent.remember("recentDatasets", "tsipras:seed=4")  # again: moves to the top, once
    again = _recent(tmp_path, [])  # a new session reads the same settings
    values = again.values("recentDatasets")
    assert values[0] == "tsipras:seed=4" and len(values) == RECENT_MAX
    assert values[1:] == [f"tsipras:seed={i}" for i in (10, 9, 8, 7, 6, 5, 3)]
    clear = next(a for a in again.menu.actions() if a.text() == CLEAR_TEXT)
    clear.trigger()
    assert again.values("recentDatasets") == [] and not again.menu.isEnabled()
    assert _recent(tmp_path, []).values("recentDatasets") == []
    for r in (recent, again):
        r.menu.deleteLater()


def test_a_split_and_a_long_folder(tmp_path):
    deep = tmp_path / ("x" * 50) / "cifar"
    deep.mkdir(parents=True)
    entry = describe(f"{deep}:train")
    assert entry.text == f"cifar:train — {short_folder(deep.parent)}" and not entry.missing
    assert short_folder(deep.parent).startswith("…") and len(short_folder(deep.parent)) == 40
    assert str(deep.parent).endswith(short_folder(deep.parent)[1:])
    assert short_folder(Path.home() / "data") == str(Path("~") / "data")
    assert entry.tip == str(deep)
