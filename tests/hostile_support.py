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
import tempfile
import time
import zipfile
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
    with tempfile.NamedTemporaryFile(prefix="rss-", suffix=".txt", delete=False) as report:
        rss_file = Path(report.name)
    proc = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, str(rss_file), sys.executable, "-m", "inspector", *args],
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # the wrapper; its child dies with the closed pipes or at the next write
        proc.communicate()
        raise AssertionError(f"inspector {args} still running after {timeout} s") from None
    finally:
        peak_kb = float(rss_file.read_text() or 0) if rss_file.exists() else 0.0
        rss_file.unlink(missing_ok=True)
    return Outcome(
        proc.returncode,
        stdout.decode(errors="replace"),
        stderr.decode(errors="replace"),
        peak_kb / 1024.0,
        time.monotonic() - start,
    )


# A small wrapper process forks and execs the real command and reports that child's own
# peak RSS (wait4). Measured from pytest directly, a forked child's peak starts at the size
# of the parent it was copied from (hundreds of MB in a full run), not at its own.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def assert_user_error(outcome: Outcome, *words: str) -> str:
    """Exit 2, one stderr line, no traceback, and the line names every one of `words`."""
    lines = outcome.stderr_lines()
    assert outcome.returncode == 2, (outcome.returncode, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert len(lines) == 1, lines
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]


# --- payloads inside torch archives (.pt2, torch.save zips) ---------------------------


def payload_prefix(marker: Path) -> bytes:
    """Opcodes that run `touch marker` and drop the result: the pickle still loads as before."""
    command = f"touch {marker}".encode()
    return f"c{os.system.__module__}\nsystem\n(V".encode() + command + b"\ntR0"


def inject(pickle_bytes: bytes, marker: Path) -> bytes:
    assert pickle_bytes.startswith(b"\x80")
    return pickle_bytes[:2] + payload_prefix(marker) + pickle_bytes[2:]


def rewrite_zip(src: Path, dst: Path, edit) -> Path:
    """Copy a zip member by member; `edit(name, data)` returns the new bytes (or the same)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for info in old.infolist():
            new.writestr(info, edit(info.filename, old.read(info)))
    return dst


def poisoned_torch_save(data: bytes, marker: Path) -> bytes:
    """A torch.save zip (as bytes) whose data.pkl also runs the payload."""
    out = Path(str(marker) + ".tmp.zip")
    Path(str(out) + ".src").write_bytes(data)
    rewrite_zip(
        Path(str(out) + ".src"),
        out,
        lambda n, d: inject(d, marker) if n.endswith("data.pkl") else d,
    )
    return out.read_bytes()


def sample_inputs_payload(src: Path, dst: Path, marker: Path) -> Path:
    def edit(name: str, data: bytes) -> bytes:
        return poisoned_torch_save(data, marker) if "sample_inputs/" in name else data

    return rewrite_zip(src, dst, edit)
