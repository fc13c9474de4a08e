"""Opening files named by a stranger: regular files only, sizes bounded, system folders off.

Paths inside results and audits are data from the party being audited. Before the tool
hashes or opens one by itself it must be a regular file (never a device, FIFO or socket
that would block or never end), of bounded size, outside /proc, /sys, /dev and /etc, and,
unless the user confirmed it, inside the audit's own folder after resolving symlinks.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from inspector.core.data.safe_files import is_inside

SYSTEM_FOLDERS = ("/proc", "/sys", "/dev", "/etc")
MAX_HASH_BYTES = 8 << 30  # the largest model or data file hashed or opened: 8 GiB


class Refused(Exception):
    """Why a path is not opened (one line)."""


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def system_path(path: str | Path) -> bool:
    """Is `path` (resolved) under a system folder the tool never reads as data?"""
    real = os.path.realpath(path)
    return any(_under(real, f) for f in SYSTEM_FOLDERS) or any(
        _under(os.path.abspath(path), f) for f in SYSTEM_FOLDERS
    )


def regular_file_size(path: str | Path, limit: int = MAX_HASH_BYTES) -> int:
    """The size of `path` if it is a regular file (after symlinks) no larger than `limit`;
    raises Refused otherwise. Nothing is opened."""
    if system_path(path):
        raise Refused(f"{path} is in a system folder, not a model or data file")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise Refused(f"{path} cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise Refused(f"{path} is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{path} is not a regular file (a device, pipe or socket)")
    if info.st_size > limit:
        mib = limit >> 20
        raise Refused(f"{path} is {info.st_size:,} bytes, more than the {mib:,} MiB allowed")
    return info.st_size


def inside_folder(path: str | Path, folder: str | Path) -> bool:
    """Is `path`, symlinks resolved, the folder itself or below it? (The datasets' rule.)"""
    return is_inside(Path(path), Path(folder))


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
