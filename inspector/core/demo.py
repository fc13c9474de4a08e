"""The built-in demo: the digits models shipped under resources/demo and their defaults.

The models are made by resources/demo/build_demo_models.py (deterministic, CPU, < 1 min)
and installed with the program as package data (see package_data.py).
"""

from __future__ import annotations

from pathlib import Path

from inspector.core.errors import InspectorError
from inspector.core.package_data import resource_dir
from inspector.core.threat import ThreatModel

DEMO_DIR = resource_dir("demo")
DEMO_DATA = "digits"
DEMO_MODELS = ("digits_standard.pt2", "digits_pgd.pt2", "digits_trades.pt2")
DEMO_THREAT = ThreatModel(  # an even grid, as the window's set-up panel builds them
    norm="linf",
    eps=tuple(round(0.025 * i, 4) for i in range(13)),
    attack="pgd",
    steps=10,
    restarts=1,
    seed=0,
)


def demo_model_paths() -> list[Path]:
    """The demo's model files; a clear error if the installation or checkout lacks them."""
    paths = [DEMO_DIR / name for name in DEMO_MODELS]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise InspectorError(
            f"demo models missing from {DEMO_DIR} ({', '.join(missing)}); reinstall the "
            "program, or in a checkout rebuild them: python resources/demo/build_demo_models.py"
        )
    return paths
