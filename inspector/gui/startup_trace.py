"""Timestamps of the window's start-up, for the benchmark and the test that measure it.

With INSPECTOR_STARTUP_TRACE=PATH set, each moment (first window painted, engine loaded,
main window shown, files loaded) appends one JSON line to PATH: the wall-clock time and
whether torch was imported by then. Unset, nothing is written. Qt-free and import-light,
so it can be used before Qt or torch load.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ENV = "INSPECTOR_STARTUP_TRACE"


def mark(event: str) -> None:
    """Append `event` with the time now (seconds since the epoch) when the trace is on."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = {"event": event, "time": time.time(), "torch_loaded": "torch" in sys.modules}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def read(path: str | Path) -> dict[str, dict]:
    """The trace as {event: its first record}."""
    events: dict[str, dict] = {}
    for text in Path(path).read_text(encoding="utf-8").splitlines():
        record = json.loads(text)
        events.setdefault(record["event"], record)
    return events


def launch_traced(
    command: list[str], env: dict[str, str], cwd: str | Path, timeout: float = 600
) -> tuple[dict[str, float], dict[str, dict], str]:
    """Run `command` with the trace on; (seconds from launch to each event, the raw
    records, stderr). Launch is taken just before the process is created, so interpreter
    start-up counts, as it does for a user. Raises if the command fails."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        trace = Path(folder) / "trace.jsonl"
        started = time.time()
        done = subprocess.run(
            command,
            env={**env, ENV: str(trace)},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr[-2000:]}")
        records = read(trace)
    return {k: r["time"] - started for k, r in records.items()}, records, done.stderr
