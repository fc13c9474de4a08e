"""Opening files named by a stranger: regular files only, sizes bounded, links kept in.

Paths inside results, audits and dataset folders are data from the party being audited.
Opening a FIFO blocks forever and a device file can be endless, so only regular files are
ever opened; a file the tool hashes or opens by itself is of bounded size and outside
/proc, /sys, /dev and /etc; and a symlink (or a path through one) is followed only when
its target stays inside the folder it was found in (the audit's, the dataset's) or the
user confirmed it, so a hostile folder cannot make the auditor read, and hash into a
result, files from elsewhere on their machine.

Two kinds of refusal: `Refused` for paths inside audits (the caller says what it skipped),
InspectorError for dataset files (the whole open fails with the reason).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.core.errors import InspectorError

if TYPE_CHECKING:
    from inspector.core.data.limits import Limit

SYSTEM_FOLDERS = ("/proc", "/sys", "/dev", "/etc")
MAX_HASH_BYTES = 8 << 30  # the largest model or data file hashed or opened: 8 GiB
FOLLOW_SYMLINKS_ENV = "INSPECTOR_FOLLOW_SYMLINKS"

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class Refused(Exception):
    """Why a path is not opened (one line)."""


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def is_inside(path: str | Path, root: str | Path) -> bool:
    """True when the fully resolved `path` is `root` (resolved) or lies below it."""
    return _under(os.path.realpath(path), os.path.realpath(root))


def system_path(path: str | Path) -> bool:
    """Is `path` (resolved) under a system folder the tool never reads as data?"""
    real = os.path.realpath(path)
    return any(_under(real, f) for f in SYSTEM_FOLDERS) or any(
        _under(os.path.abspath(path), f) for f in SYSTEM_FOLDERS
    )


def follow_outside_symlinks() -> bool:
    """True when the user allowed links that leave the dataset folder (1/yes/true)."""
    return os.environ.get(FOLLOW_SYMLINKS_ENV, "").strip().lower() in {"1", "yes", "true"}


# --- paths named inside results and audits: Refused ------------------------------------


def regular_file_size(path: str | Path, limit: int = MAX_HASH_BYTES) -> int:
    """The size of `path` if it is a regular file (after symlinks) no larger than `limit`;
    raises Refused otherwise. Nothing is opened."""
    if system_path(path):
        raise Refused(f"{path} is in a system folder, not a model or data file")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise Refused(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{path} is {_kind(info.st_mode)}, not a regular file")
    if info.st_size > limit:
        mib = limit >> 20
        raise Refused(f"{path} is {info.st_size:,} bytes, more than the {mib:,} MiB allowed")
    return info.st_size


def read_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """Read a regular file of at most `limit` bytes; a larger, special or missing one raises
    Refused or FileNotFoundError. Reads stop at limit + 1 bytes whatever the size claimed."""
    if not os.path.lexists(path):
        raise FileNotFoundError(path)
    regular_file_size(path, limit)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the stat
            raise Refused(f"{path} is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{what} {path} is larger than the {limit >> 20:,} MiB allowed")
    return data


# --- dataset files and folders: InspectorError -----------------------------------------


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
