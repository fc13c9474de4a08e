"""Shared test set-up: headless Qt, and tests/ importable for small helpers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (recent files, geometry) must not leak between test runs or into the user's config
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="inspector-test-config-")
# autosaves (issue 5) likewise go to a throw-away state folder
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="inspector-test-state-")
sys.path.insert(0, str(Path(__file__).parent))

# One torch thread: the suite's models are tiny, and on a shared 2-core machine torch's
# intra-op threads spin against other processes (measured: attacks 10-20x slower with 2).
import torch

torch.set_num_threads(1)
