"""Autosave during long runs, and recovery after a crash.

While a run goes on, the window hands its completed results to `Autosaver.save` (after
each ε, say); at most one write per `interval` seconds reaches the disk, the newest audit
waiting in between, and `flush()` writes it on demand. Each run has its own file,
`<run id>.riaudit`, written atomically, so a crash mid-write leaves the previous recovery
point. A clean finish or an explicit close calls `discard()`. At the next start,
`find_recoverable` lists what a crashed session left behind, newest first.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from inspector.core.atomic import remove_stale_temps
from inspector.core.audit import SUFFIX, Audit, read_audit_header, save_audit
from inspector.core.errors import InspectorError

APP_FOLDER = "robustness-inspector"
DEFAULT_INTERVAL = 30.0  # seconds between two autosave writes


def default_autosave_folder() -> Path:
    """$XDG_STATE_HOME/robustness-inspector/autosave (else ~/.local/state/...);
    on Windows %LOCALAPPDATA%\\robustness-inspector\\autosave."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        state = os.environ.get("XDG_STATE_HOME", "")
        # the XDG spec says to ignore a relative path
        base = state if os.path.isabs(state) else str(Path.home() / ".local" / "state")
    return Path(base) / APP_FOLDER / "autosave"


def new_run_id() -> str:
    """Sortable and unique: UTC time, then a random suffix."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"run-{stamp}-{uuid.uuid4().hex[:8]}"


class Autosaver:
    """Throttled atomic autosaves of one run. Thread-safe: a worker thread may call save()."""

    def __init__(
        self,
        folder: str | Path | None = None,
        interval: float = DEFAULT_INTERVAL,
        run_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = Path(folder) if folder is not None else default_autosave_folder()
        self.interval = interval
        self.run_id = run_id or new_run_id()
        self.path = self.folder / f"{self.run_id}{SUFFIX}"
        self._clock = clock
        self._last_write: float | None = None
        self._pending: Audit | None = None
        self._lock = threading.Lock()
        self._started = datetime.now(timezone.utc).isoformat()

    def save(self, audit: Audit, force: bool = False) -> bool:
        """Write `audit` now if `interval` seconds have passed since the last write (or
        `force`); otherwise keep it as the pending one. True when it was written."""
        with self._lock:
            self._pending = audit
            now = self._clock()
            due = self._last_write is None or now - self._last_write >= self.interval
            if not (force or due):
                return False
            return self._write_pending(now)

    def flush(self) -> bool:
        """Write the pending (throttled) audit now; False when there is none."""
        with self._lock:
            return self._pending is not None and self._write_pending(self._clock())

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def _write_pending(self, now: float) -> bool:
        assert self._pending is not None
        marker = {
            "run_id": self.run_id,
            "started": self._started,
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        save_audit(self.path, self._pending, autosave=marker)
        self._pending, self._last_write = None, now
        return True

    def discard(self) -> None:
        """The run finished cleanly or was closed on purpose: drop its recovery point."""
        with self._lock:
            self._pending = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


@dataclass(frozen=True)
class RecoveryCandidate:
    """An autosave a previous session left behind."""

    path: Path
    saved: str  # ISO time of the last autosave
    models: tuple[str, ...]
    eps_done: tuple[int, ...]  # per model, finished ε values
    size: int  # bytes
    eps_total: int = 0  # grid points of the run's threat model
    threat_model: str = ""  # its one-line description

    def describe(self) -> str:
        done = ", ".join(
            f"{m} {k}/{self.eps_total} ε" for m, k in zip(self.models, self.eps_done, strict=True)
        )
        return f"{self.saved[:19].replace('T', ' ')} UTC: {done or 'no model finished'}"


def _alive_here(marker: dict) -> bool:
    """Is the process that wrote this autosave still running on this machine (POSIX)?"""
    pid = marker.get("pid")
    if os.name != "posix" or not isinstance(pid, int) or marker.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, under another user
        return True
    return True


def _candidate(path: Path) -> tuple[RecoveryCandidate, dict] | None:
    try:
        header = read_audit_header(path)
        contents = header.get("contents", {})
        found = RecoveryCandidate(
            path=path,
            saved=str(header.get("saved", "")),
            models=tuple(str(m) for m in contents.get("models", [])),
            eps_done=tuple(int(k) for k in contents.get("eps_done", [])),
            size=path.stat().st_size,
            eps_total=int(contents.get("eps_total", 0)),
            threat_model=str(contents.get("threat_model", "")),
        )
    except (InspectorError, OSError, TypeError, ValueError, AttributeError):
        return None  # unreadable: nothing to recover from it
    marker = header.get("autosave")
    return found, marker if isinstance(marker, dict) else {}


def find_recoverable(
    folder: str | Path | None = None, include_running: bool = False
) -> list[RecoveryCandidate]:
    """Autosaves of sessions that did not finish, newest first. Autosaves of a session still
    running on this machine (another window) are left out unless `include_running`.
    Temp files of writes that were killed are skipped, and removed once stale."""
    folder = Path(folder) if folder is not None else default_autosave_folder()
    if not folder.is_dir():
        return []
    remove_stale_temps(folder)
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        item = _candidate(path)
        if item is not None and (include_running or not _alive_here(item[1])):
            found.append(item[0])
    return sorted(found, key=lambda c: (c.saved, c.path.name), reverse=True)


def discard_recoverable(candidate: RecoveryCandidate | str | Path) -> None:
    """Delete a recovery point (after it was recovered and saved, or declined)."""
    path = candidate.path if isinstance(candidate, RecoveryCandidate) else Path(candidate)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
