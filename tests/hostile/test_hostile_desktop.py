"""Desktop-entry installation in a hostile or broken data folder: links are replaced, never
written through or followed on removal; a folder that cannot be written, or a program
missing its own files, is one line and exit 2 (in-process: no GUI, no torch work)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from inspector.cli import desktop
from inspector.cli.main import main
from inspector.core.package_data import APP_ID

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="freedesktop only")
ENTRY = Path("applications", f"{APP_ID}.desktop")


def _one_error_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("robustness-inspector: error: "), err
    assert "Traceback" not in err and all(w in err for w in words), err
    return err


def _planted_link(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """(a file of the user's, the data folder) where the desktop entry is a link to that file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    home = tmp_path / "share"
    (home / "applications").mkdir(parents=True)
    (home / ENTRY).symlink_to(victim)
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return victim, home


def test_a_link_planted_at_the_entry_is_replaced_not_written_through(tmp_path, monkeypatch):
    victim, home = _planted_link(tmp_path, monkeypatch)
    assert main(["--install-desktop-entry"]) == 0
    assert victim.read_text() == "keep me"
    assert not (home / ENTRY).is_symlink() and "[Desktop Entry]" in (home / ENTRY).read_text()


def test_uninstall_removes_a_planted_link_and_leaves_its_target(tmp_path, monkeypatch):
    victim, home = _planted_link(tmp_path, monkeypatch)
    decoy = home / "metainfo" / f"{APP_ID}.metainfo.xml"
    decoy.mkdir(parents=True)  # a folder where a file is planned: not ours, left alone
    assert main(["--uninstall-desktop-entry"]) == 0
    assert not (home / ENTRY).exists() and not (home / ENTRY).is_symlink()
    assert victim.read_text() == "keep me" and decoy.is_dir()


def test_a_data_home_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    home = tmp_path / "share"
    home.write_text("not a folder")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    assert main(["--install-desktop-entry"]) == 2
    _one_error_line(capsys, "cannot write", "permissions")
    assert home.read_text() == "not a folder"


def test_a_program_missing_its_own_files_says_reinstall(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    empty = tmp_path / "no-resources"
    monkeypatch.setattr(desktop, "resource_dir", lambda name: empty / name)
    monkeypatch.setattr("inspector.core.package_data.resource_dir", lambda name: empty / name)
    assert main(["--install-desktop-entry"]) == 2
    _one_error_line(capsys, "missing", "reinstall")
    assert not (tmp_path / "share" / ENTRY).exists()
