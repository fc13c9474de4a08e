"""The window appears before torch is imported, and `gui --screenshot` works without --run.

One launch of `python -m inspector gui --demo --screenshot PATH` (offscreen) with the
start-up trace on, and `python -c "import torch"` on the same machine in the same test:
the first window must be painted before torch is imported by the app, and sooner after
launch than a bare `import torch` takes (a ratio, not a clock time, so a loaded machine
slows both sides). The screenshot is taken once the demo's files are open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from inspector.gui.startup_trace import ENV, launch_traced, read

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_first_window_is_painted_before_torch_loads(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    shot = tmp_path / "window.png"
    command = [sys.executable, "-m", "inspector", "gui", "--demo", "--screenshot", str(shot)]
    seconds, records, _ = launch_traced(command, env, ROOT, timeout=600)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True, timeout=300)
    import_torch = time.perf_counter() - started

    assert records["first_window_painted"]["torch_loaded"] is False
    assert seconds["first_window_painted"] < import_torch
    order = ["first_window_painted", "engine_loaded", "main_window_shown", "files_loaded"]
    assert [seconds[e] for e in order] == sorted(seconds[e] for e in order)
    assert records["files_loaded"]["torch_loaded"] is True
    assert Image.open(shot).size == (1600, 1000)  # the automated screenshots' framing


def test_ctrl_c_while_the_engine_loads_exits_130_with_one_line(tmp_path):
    """The imports now run inside Qt's event loop; Ctrl-C there still ends the process."""
    trace = tmp_path / "trace.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env[ENV] = str(trace)
    command = [sys.executable, "-m", "inspector", "gui", "--demo", "--screenshot", "x.png"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not trace.exists() and time.monotonic() < deadline:  # the splash is painted
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "robustness-inspector: interrupted"
    assert "engine_loaded" not in read(trace)  # it ended during start-up, not after
