"""Run an installed or frozen robustness-inspector on the demo, outside the checkout, and
check what it wrote: the results (3 demo models, the asked ε grid, sane rates), the demo's
ONNX model under PGD (onnxruntime and the ONNX gradient path are there) and a screenshot
of the window that is a real PNG and not blank.

Used by the wheel test (tests/test_wheel_install.py) and by `make package-test`:
    python packaging/smoke.py PROGRAM [ARG ...]
(e.g. PROGRAM = dist/robustness-inspector/robustness-inspector)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEMO_NAMES = ["digits_standard", "digits_pgd", "digits_trades"]
RUN_FLAGS = ["--limit", "20", "--eps", "0,0.1"]
TIMEOUT_S = 300
ONNX_DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo" / "digits_standard.onnx"


def clean_env() -> dict[str, str]:
    """No PYTHONPATH (the checkout must not leak in), offscreen Qt, one thread."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    return env


def run(program: list[str], args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*program, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=TIMEOUT_S, check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{args[0]} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done


def check_results(path: Path) -> dict:
    """The results file of `evaluate --demo` with RUN_FLAGS; its per-model curves."""
    results = json.loads(path.read_text(encoding="utf-8"))
    models = results["models"]
    assert [m["name"] for m in models] == DEMO_NAMES, [m["name"] for m in models]
    curves = {}
    for model in models:
        assert [p["eps"] for p in model["curve"]] == [0.0, 0.1]
        clean, robust = model["curve"][0]["robust_accuracy"], model["curve"][1]["robust_accuracy"]
        assert clean == model["clean_accuracy"] >= 0.9, model["clean_accuracy"]
        assert 0.0 <= robust <= clean
        curves[model["name"]] = robust
    assert curves["digits_standard"] < curves["digits_pgd"], curves  # the demo's tradeoff
    return curves


def check_onnx(program: list[str], workdir: Path) -> float:
    """The demo's ONNX model (copied beside the run, with its sidecar) under PGD: the robust
    accuracy at ε=0.1, which the gradients must have lowered."""
    for suffix in ("", ".json"):
        shutil.copy(f"{ONNX_DEMO}{suffix}", workdir / f"{ONNX_DEMO.name}{suffix}")
    args = ["evaluate", "--model", ONNX_DEMO.name, "--data", "digits", *RUN_FLAGS]
    run(program, [*args, "--attack", "pgd", "--no-checks", "--out", "onnx.json"], workdir)
    (model,) = json.loads((workdir / "onnx.json").read_text(encoding="utf-8"))["models"]
    assert model["model"]["backend"] == "onnx" and model["model"]["providers"], model["model"]
    robust = model["curve"][1]["robust_accuracy"]
    assert robust < model["clean_accuracy"], model["curve"]
    return robust


def check_screenshot(path: Path) -> tuple[int, int]:
    """A PNG the window's size, with many distinct colours (a blank grab has one or two)."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG"
        size = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert size[0] >= 800 and size[1] >= 600, size
    assert colours is None or len(colours) > 50, f"{len(colours)} colours: blank?"
    return size


def smoke(program: list[str], workdir: Path) -> dict:
    """Both runs in `workdir` (outside the checkout); what was checked."""
    run(program, ["evaluate", "--demo", *RUN_FLAGS, "--out", "results.json"], workdir)
    curves = check_results(workdir / "results.json")
    onnx = check_onnx(program, workdir)
    shot = workdir / "window.png"
    run(program, ["gui", "--demo", "--run", *RUN_FLAGS, "--screenshot", str(shot)], workdir)
    size = check_screenshot(shot)
    return {"robust_at_0.1": curves, "onnx_robust_at_0.1": onnx, "screenshot": size}


if __name__ == "__main__":
    command = sys.argv[1:]
    if Path(command[0]).exists():  # the runs happen in a temporary folder
        command[0] = str(Path(command[0]).resolve())
    with tempfile.TemporaryDirectory(prefix="ri-smoke-") as folder:
        print(smoke(command, Path(folder)))
