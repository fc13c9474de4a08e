"""The bundle venv's requirements: pyproject's dependencies with a CPU torch and the CPU
onnxruntime (onnxruntime-gpu would drag in CUDA), plus the `package` extra.

Run: python packaging/bundle_requirements.py [TORCH_REQUIREMENT] > build/bundle-requirements.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def bundle_requirements(torch: str = "torch") -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    lines = []
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower()
        if name == "torch":
            lines.append(torch)
        elif name == "onnxruntime-gpu":
            continue  # its CPU twin below, on every platform
        elif name == "onnxruntime":
            lines.append(requirement.split(";")[0].strip())
        else:
            lines.append(requirement)
    return [*lines, *project["optional-dependencies"]["package"]]


if __name__ == "__main__":
    print("\n".join(bundle_requirements(*sys.argv[1:2])))
