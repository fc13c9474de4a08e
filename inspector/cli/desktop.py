"""`--install-desktop-entry` / `--uninstall-desktop-entry`: the freedesktop integration, per user.

Installs, under $XDG_DATA_HOME (default ~/.local/share, no root needed): the desktop entry
(its Exec is this very program, by absolute path, so pipx's bin folder need not be on
PATH), the icon (SVG and PNG sizes), the MIME type of `.riaudit` (double-clicking an audit
opens it in the window) and the AppStream metadata. Uninstalling removes exactly those
files. Each write is atomic; the desktop's caches are refreshed where the tools exist.
Windows and macOS have no such files: packaging/README.md says what to do there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from inspector.core.atomic import atomic_open
from inspector.core.errors import InspectorError
from inspector.core.package_data import APP_ID, ICON_SIZES, icon_file, resource_dir

EXEC_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')  # characters that force quoting (the spec)
CACHE_TIMEOUT_S = 30


def add_desktop_arguments(parser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add the app to this user's desktop menu, with its icon and .riaudit files",
    )
    group.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove what --install-desktop-entry added",
    )


def data_home() -> Path:
    """$XDG_DATA_HOME when set to an absolute path (the spec ignores relative ones)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def program_command() -> list[str]:
    """How to start this same program again: the bundle, the console script, or -m."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: its executable
        return [str(Path(sys.executable).resolve())]
    script = Path(sys.executable).parent / "robustness-inspector"  # venv / pipx bin folder
    if script.is_file():
        return [str(script.absolute())]
    found = shutil.which("robustness-inspector")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "inspector"]


def exec_argument(arg: str) -> str:
    """One Exec argument, quoted and escaped as the Desktop Entry spec asks."""
    if any(ord(c) < 0x20 or c == "\x7f" for c in arg):
        raise InspectorError(
            f"the program's path {arg!r} has control characters, which a desktop entry "
            "cannot hold; install the program under a plain path"
        )
    arg = arg.replace("%", "%%")
    if EXEC_RESERVED & set(arg):
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        arg = f'"{inner}"'
    return arg.replace("\\", "\\\\")  # the file format's own escape of each backslash


def desktop_entry(command: list[str]) -> str:
    """The shipped desktop entry, its Exec and TryExec pointing at `command`."""
    exec_line = " ".join(exec_argument(a) for a in [*command, "gui"]) + " %f"
    lines = []
    for line in (resource_dir("desktop") / f"{APP_ID}.desktop").read_text("utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={exec_line}"
        elif line.startswith("TryExec="):
            exec_argument(command[0])  # the same refusal of control characters
            line = "TryExec=" + command[0].replace("\\", "\\\\")  # a plain string value
        lines.append(line)
    return "\n".join(lines) + "\n"


def planned_files() -> dict[Path, Path | None]:
    """Target (relative to the data home) → shipped source; None: the generated entry."""
    desktop = resource_dir("desktop")
    plan: dict[Path, Path | None] = {
        Path("applications", f"{APP_ID}.desktop"): None,
        Path("mime", "packages", f"{APP_ID}.xml"): desktop / f"{APP_ID}.mime.xml",
        Path("metainfo", f"{APP_ID}.metainfo.xml"): desktop / f"{APP_ID}.metainfo.xml",
        Path("icons", "hicolor", "scalable", "apps", f"{APP_ID}.svg"): icon_file(),
    }
    for size in ICON_SIZES:
        target = Path("icons", "hicolor", f"{size}x{size}", "apps", f"{APP_ID}.png")
        plan[target] = icon_file(size)
    return plan


def planned_contents() -> dict[Path, bytes]:
    """Every planned file's bytes, all read before anything is written."""
    try:
        entry = desktop_entry(program_command()).encode("utf-8")
        plan = planned_files().items()
        return {rel: entry if src is None else src.read_bytes() for rel, src in plan}
    except OSError as exc:
        raise InspectorError(
            f"the program's own file {exc.filename} is missing or unreadable "
            f"({exc.strerror}); reinstall the program"
        ) from exc


def install(home: Path) -> list[Path]:
    """Write every planned file under `home` (atomically); the paths written."""
    written = []
    for relative, data in planned_contents().items():
        target = home / relative
        try:
            with atomic_open(target, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise InspectorError(
                f"cannot write {target} ({exc.strerror}); check that folder's permissions"
            ) from exc
        written.append(target)
    return written


def uninstall(home: Path) -> list[Path]:
    """Remove the planned files that exist under `home`; the paths removed."""
    removed = []
    for relative in planned_files():
        target = home / relative
        if target.is_file() or target.is_symlink():
            try:
                target.unlink()
            except OSError as exc:
                raise InspectorError(f"cannot remove {target} ({exc.strerror})") from exc
            removed.append(target)
    return removed


def refresh_caches(home: Path) -> None:
    """Tell the desktop about the change; each tool is optional and bounded in time.

    The MIME database must be rebuilt for the type to exist. An icon cache is refreshed
    only where one exists: a new one in the user's folder would hide icons added later."""
    hicolor = home / "icons" / "hicolor"
    commands = [["update-mime-database", str(home / "mime")]]
    commands.append(["update-desktop-database", str(home / "applications")])
    if (hicolor / "icon-theme.cache").is_file():
        commands.append(["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)])
    for command in commands:
        if shutil.which(command[0]) and Path(command[-1]).is_dir():
            # a failure (or a stale cache) only delays the menu entry until the next login
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(command, capture_output=True, timeout=CACHE_TIMEOUT_S, check=False)


def run_desktop_entry(install_it: bool) -> int:
    if sys.platform in ("win32", "darwin"):
        raise InspectorError(
            "desktop entries are a Linux (freedesktop) feature; on Windows and macOS see "
            "packaging/README.md (a shortcut or the bundle's app)"
        )
    home = data_home()
    if install_it:
        paths = install(home)
        refresh_caches(home)
        print(f"installed {len(paths)} files under {home}: the menu entry {paths[0].name}, "
              "its icon, the .riaudit file type and the AppStream metadata")
    else:
        paths = uninstall(home)
        refresh_caches(home)
        print(f"removed {len(paths)} files under {home}" if paths
              else f"nothing to remove under {home}")
    return 0
