"""Atomic file writes: a temp file in the target's folder, fsync, then rename.

A crash or a kill half-way leaves the previous file intact, never a truncated one.
A kill can leave the temp file itself behind (`.NAME.XXXXXXXX.tmp`, hidden, never read
as data); `remove_stale_temps` clears those once they are old enough to be nobody's.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMP_PREFIX, TEMP_SUFFIX = ".", ".tmp"  # mkstemp adds 8 random characters in between
STALE_SECONDS = 600.0  # a writer refreshes its temp file's mtime far more often than this


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside `path`; on clean exit it replaces `path`, on error it vanishes.

    Stale temps of the same target (a killed writer's) are removed first; the new file gets
    the permissions of any new document (0666 less the umask), not mkstemp's 0600."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder, target.name)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{target.name}.", suffix=TEMP_SUFFIX, dir=folder
    )
    binary = "b" in mode
    try:
        with _terminate_as_exit(), os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None
        ) as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), 0o666 & ~current_umask())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_folder(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else set and
    restored under a lock (os.umask is the only portable way to read it)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While writing on the main thread, SIGTERM raises SystemExit so the temp file is
    removed (default handling would kill the process and leave it); elsewhere no change."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (AttributeError, ValueError):
        previous = None
    if previous is not signal.SIG_DFL:  # someone else handles it (or no SIGTERM here)
        yield
        return

    def terminate(signum, _frame) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder, and needs not."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):  # some file systems refuse; the data itself is synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_temp_name(name: str, target_name: str | None = None) -> bool:
    """Is `name` a temp file of `atomic_open` (for `target_name`, or for any target)?"""
    target = re.escape(target_name) if target_name is not None else r".+"
    pattern = rf"{re.escape(TEMP_PREFIX)}{target}\.[A-Za-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}"
    return re.fullmatch(pattern, name) is not None


def remove_stale_temps(
    folder: str | Path, target_name: str | None = None, min_age: float = STALE_SECONDS
) -> list[Path]:
    """Delete temp files a killed writer left in `folder` (of one target, or all) older than
    `min_age` seconds; a writer still at work keeps its file fresh, so it is left alone."""
    removed: list[Path] = []
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not is_temp_name(entry.name, target_name):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime >= min_age:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed
