"""How long the window takes to appear, and to have its files open, against `import torch`.

Launches `python -m inspector gui --demo --screenshot PATH` (offscreen, no --run: it exits
once the demo's files are open) with INSPECTOR_STARTUP_TRACE set, and prints the seconds
from launch to: the first window painted (the splash), the engine imported, the main
window shown, the files loaded. Interleaved with `python -c "import torch"` in the same run,
so a load spike hits both. Medians over the repeats. Run:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/window_startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inspector.gui.startup_trace import launch_traced

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ("first_window_painted", "engine_loaded", "main_window_shown", "files_loaded")


def import_torch_seconds(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.setdefault("OMP_NUM_THREADS", "1")
    seen: dict[str, list[float]] = {name: [] for name in (*EVENTS, "import torch")}
    torch_at_first_window = []
    with tempfile.TemporaryDirectory() as folder:
        shot = str(Path(folder) / "window.png")
        command = [sys.executable, "-m", "inspector", "gui", "--demo", "--screenshot", shot]
        for _ in range(args.repeats):
            seconds, records, _ = launch_traced(command, env, ROOT)
            for name in EVENTS:
                seen[name].append(seconds[name])
            torch_at_first_window.append(records["first_window_painted"]["torch_loaded"])
            seen["import torch"].append(import_torch_seconds(env))
    print(f"{args.repeats} launches, seconds from launch (median; each)")
    for name, values in seen.items():
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<21} {statistics.median(values):6.2f}   ({each})")
    ratio = statistics.median(seen["first_window_painted"]) / statistics.median(
        seen["import torch"]
    )
    print(f"  first window / import torch: {ratio:.2f}")
    print(f"  torch imported when the first window was painted: {any(torch_at_first_window)}")


if __name__ == "__main__":
    main()
