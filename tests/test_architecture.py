"""The core stays Qt-free: importable and usable with no GUI toolkit loaded."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = [
    "inspector.core.evaluate",
    "inspector.core.results",
    "inspector.core.export",
    "inspector.core.sweep",
    "inspector.core.attacks",
    "inspector.core.data",
    "inspector.core.models",
    "inspector.cli.main",
]


def test_core_imports_no_qt():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE_MODULES)
        + "qt = ('PySide6', 'pyqtgraph', 'superqt')\n"
        + "bad = [m for m in sys.modules if m.split('.')[0] in qt]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
