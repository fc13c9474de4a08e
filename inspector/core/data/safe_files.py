"""File-system checks made before a dataset file is opened.

Opening a FIFO blocks forever and a device file can be endless, so only regular files
are ever opened; a symlink is followed only when its target stays inside the dataset
folder (or the user opted in), so a hostile folder cannot make the auditor read, and
hash into a result, files from elsewhere on their machine.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from inspector.core.data.limits import FOLLOW_SYMLINKS_ENV, Limit, follow_outside_symlinks
from inspector.core.errors import InspectorError

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def require_regular_file(path: Path) -> os.stat_result:
    """stat() the path (following links) and refuse anything but a regular file."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InspectorError(f"cannot read {path} ({exc}); check the path and permissions") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InspectorError(
            f"{path} is {_kind(info.st_mode)}, not a regular file; point to a dataset file"
        )
    return info


def is_inside(path: Path, root: Path) -> bool:
    """True when the fully resolved `path` lies in the fully resolved `root`."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def check_link(path: Path, root: Path) -> None:
    """Refuse a symlink (or a path through one) whose target leaves `root`, unless opted in."""
    if follow_outside_symlinks() or is_inside(path, root):
        return
    raise InspectorError(
        f"{path} is a symbolic link to {os.path.realpath(path)}, outside the dataset folder "
        f"{root}; copy the file into the folder, or set {FOLLOW_SYMLINKS_ENV}=1 to follow it"
    )


def checked_member(path: Path, root: Path) -> os.stat_result:
    """A file found inside a dataset folder: a regular file whose real path stays in `root`."""
    if path.is_symlink():
        check_link(path, root)
    return require_regular_file(path)


def scan(folder: Path, budget: list[int], limit: Limit, where: str) -> Iterator[os.DirEntry]:
    """Entries of one folder, decrementing a shared budget so huge trees stop early."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                budget[0] -= 1
                if budget[0] < 0:
                    raise limit.exceeded(where, "the folder and its class folders")
                yield entry
    except OSError as exc:
        raise InspectorError(f"cannot list {folder} ({exc}); check its permissions") from exc
