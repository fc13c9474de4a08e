"""The command line's fixed cost: building the parser imports none of the heavy libraries.

`evaluate --help` used to import torch, scipy.stats (for smoothing), PIL and the whole core
before printing a line; each is now imported where it is used. Checked in a fresh
interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import inspector.launch
from inspector.cli.main import build_parser
build_parser().parse_args(["evaluate", "--demo"])
heavy = ("torch", "scipy", "sklearn", "captum", "onnx", "onnxruntime", "torchvision", "PIL",
         "PySide6", "pyqtgraph", "numpy")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def _python(*args: str) -> str:
    """Run a fresh interpreter on this checkout; its stdout (it must succeed)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_building_the_parser_imports_no_heavy_library():
    assert json.loads(_python("-c", PROBE).strip().splitlines()[-1]) == []


def test_evaluate_help_lists_the_smoothing_defaults_without_scipy():
    """The help still names the defaults that now live in the light smoothing_spec module."""
    text = " ".join(_python("-m", "inspector", "evaluate", "--help").split())
    assert "(default 1000)" in text and "(default 0.001)" in text
