"""Shared tools for the hostile-input tests (tests/hostile/): payloads, watched folders, runs.

A hostile case is built on the fly in tmp_path (never a large file in the repo), handed to
the real program in a subprocess, and judged from outside: exit code, a single stderr line
with no traceback, the payload's marker file absent, nothing written outside the output
folder, and the child's peak memory.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class MarkerPayload:
    """Unpickling this runs `touch MARKER`: the file's existence proves that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def marker_pickle(marker: Path, protocol: int = 2) -> bytes:
    """A pickle whose loading creates `marker` (os.system through REDUCE)."""
    return pickle.dumps(MarkerPayload(marker), protocol=protocol)


def snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every regular file under `folder`: (size, mtime_ns, sha256), to compare before/after."""
    state: dict[str, tuple[int, int, str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            info = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns, digest)
    return state


@dataclass(frozen=True)
class Outcome:
    """A finished child: what it said, how it ended, how much memory and time it took."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float

    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_inspector(
    args: list[str],
    *,
    cwd: Path,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run `python -m inspector ARGS` in `cwd`; peak RSS is the child's own (wait4)."""
    child_env = dict(os.environ)
    child_env.setdefault("QT_QPA_PLATFORM", "offscreen")
    child_env["PYTHONPATH"] = str(REPO) + os.pathsep + child_env.get("PYTHONPATH", "")
    child_env["OMP_NUM_THREADS"] = "1"
    child_env.update(env or {})
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda k=k, s=s: out.__setitem__(k, s.read()), daemon=True)
        for k, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    status, rusage = _wait4(proc, timeout, args)
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Outcome(
        proc.returncode,
        out["stdout"].decode(errors="replace"),
        out["stderr"].decode(errors="replace"),
        rusage.ru_maxrss / 1024.0,  # Linux: kilobytes; this child's own peak
        time.monotonic() - start,
    )


def _wait4(proc: subprocess.Popen, timeout: float, args: list[str]):
    """Reap the child with its own rusage (RUSAGE_CHILDREN would mix in earlier children)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return status, rusage
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            raise AssertionError(f"inspector {args} still running after {timeout} s")
        time.sleep(0.02)


def assert_user_error(outcome: Outcome, *words: str) -> str:
    """Exit 2, one stderr line, no traceback, and the line names every one of `words`."""
    lines = outcome.stderr_lines()
    assert outcome.returncode == 2, (outcome.returncode, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert len(lines) == 1, lines
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]
