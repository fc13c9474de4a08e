"""Shared test set-up: headless Qt, and tests/ importable for small helpers."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (recent files, geometry) must not leak between test runs or into the user's config
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="inspector-test-config-")
sys.path.insert(0, str(Path(__file__).parent))
