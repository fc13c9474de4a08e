"""--install-desktop-entry / --uninstall-desktop-entry into a temporary XDG_DATA_HOME, the
Exec quoting of the Desktop Entry spec, and the window's icon."""

from __future__ import annotations

import configparser
import shutil
import sys
from pathlib import Path

import pytest

from inspector.cli import desktop
from inspector.cli.main import main
from inspector.core.errors import InspectorError
from inspector.core.package_data import APP_ID, ICON_SIZES, icon_file

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="freedesktop only")


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _entry(home: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(home / "applications" / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_writes_every_file_and_points_at_this_program(data_home, capsys) -> None:
    assert main(["--install-desktop-entry"]) == 0
    assert f"installed {len(desktop.planned_files())} files under {data_home}" in (
        capsys.readouterr().out
    )
    for size in ICON_SIZES:
        png = data_home / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png"
        assert png.read_bytes() == icon_file(size).read_bytes()
    svg = data_home / f"icons/hicolor/scalable/apps/{APP_ID}.svg"
    assert svg.read_bytes() == icon_file().read_bytes()
    assert (data_home / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    assert (data_home / "mime" / "packages" / f"{APP_ID}.xml").is_file()
    entry = _entry(data_home)
    program = desktop.program_command()
    assert Path(program[0]).is_absolute() and Path(program[0]).exists()
    assert entry["Exec"] == " ".join([*program, "gui", "%f"])  # no quoting needed here
    assert entry["TryExec"] == program[0] and entry["Icon"] == APP_ID
    if shutil.which("update-mime-database"):  # the compiled database knows the type
        assert "*.riaudit" in (data_home / "mime" / "globs").read_text()
        assert (data_home / "mime" / "application" / "x-riaudit.xml").is_file()


def test_uninstall_removes_exactly_what_install_wrote(data_home, capsys) -> None:
    mine = data_home / "applications" / "someone-else.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\n")
    assert main(["--install-desktop-entry"]) == 0
    assert main(["--uninstall-desktop-entry"]) == 0
    assert f"removed {len(desktop.planned_files())} files" in capsys.readouterr().out
    left = {p.relative_to(data_home) for p in data_home.rglob("*") if p.is_file()}
    assert not left & set(desktop.planned_files())
    assert mine.read_text() == "[Desktop Entry]\n"
    if shutil.which("update-mime-database"):
        assert "riaudit" not in (data_home / "mime" / "globs").read_text()
    assert main(["--uninstall-desktop-entry"]) == 0
    assert "nothing to remove" in capsys.readouterr().out


def test_a_bundle_points_at_its_executable_a_bare_python_at_dash_m(tmp_path, monkeypatch):
    exe = tmp_path / "robustness-inspector-bundle" / "robustness-inspector"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert desktop.program_command() == [str(exe)]
    monkeypatch.setattr(sys, "frozen", False)
    python = tmp_path / "bin" / "python3"  # no console script beside it, none on PATH
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert desktop.program_command() == [str(python), "-m", "inspector"]


def test_a_relative_xdg_data_home_is_ignored_as_the_spec_says(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home() == tmp_path / ".local" / "share"


@pytest.mark.parametrize(
    ("arg", "written"),
    [
        ("/opt/ri/bin/robustness-inspector", "/opt/ri/bin/robustness-inspector"),
        ("/home/a b/ri", '"/home/a b/ri"'),
        ("/home/100%/ri", "/home/100%%/ri"),
        ('/x/"q"/$HOME/ri', '"/x/\\\\"q\\\\"/\\\\$HOME/ri"'),
        ("/x/back\\slash", '"/x/back\\\\\\\\slash"'),
    ],
)
def test_exec_arguments_are_quoted_and_escaped(arg, written) -> None:
    assert desktop.exec_argument(arg) == written


def test_the_exec_line_reads_back_to_the_same_program() -> None:
    """Undo the file format's escapes, then the Exec quoting: the original path again."""
    path = '/opt/my apps/100%/"ri"/$x\\y'
    quoted = desktop.exec_argument(path).replace("\\\\", "\\")  # the file format's escapes
    assert quoted.startswith('"') and quoted.endswith('"')
    inner, out, i = quoted[1:-1], "", 0
    while i < len(inner):
        if inner[i] == "\\":
            i += 1
        out += inner[i]
        i += 1
    assert out.replace("%%", "%") == path


def test_a_path_with_a_space_is_quoted_in_exec_but_not_in_tryexec() -> None:
    lines = desktop.desktop_entry(["/opt/my apps/ri"]).splitlines()
    assert 'Exec="/opt/my apps/ri" gui %f' in lines
    assert "TryExec=/opt/my apps/ri" in lines


def test_a_control_character_in_the_program_path_is_refused() -> None:
    with pytest.raises(InspectorError, match="control characters"):
        desktop.exec_argument("/opt/evil\nExec=rm -rf ~/ri")


def test_the_window_gets_the_icon_and_the_desktop_id(qapp) -> None:
    from inspector.gui.app import set_app_icon

    set_app_icon(qapp)
    sizes = {s.width() for s in qapp.windowIcon().availableSizes()}
    assert sizes == set(ICON_SIZES)
    assert qapp.desktopFileName() == APP_ID
