"""The command line's fixed cost: `evaluate --help`, and a whole `evaluate` run versus bare torch.

Prints, in one run (medians over interleaved repeats, each a fresh process; wall clock and
CPU time):
- `python -c "import torch"`;
- `python -m inspector evaluate --help`;
- a whole `evaluate` run (PGD-10, a CIFAR-sized CNN saved as .pt2, 512 synthetic 3×32×32
  images in an .npz, `--no-checks`) over a bare torch script that loads the same two files
  and does the same passes: one clean forward pass, then per batch of 128 ten
  forward+backward passes (input gradients, frozen weights) and a last forward pass.
  Process start and loading count on both sides.

The labels are the model's own clean predictions and the one attacked ε is tiny (0.001,
well inside every example's distance to the boundary), so every example runs all ten
steps: both sides do the same work, and the ratio is the command line's own overhead
(imports, file checks, bookkeeping, writing the results). `--root` runs another
checkout's code (e.g. the "before" figure).
Run:
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cli_startup.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch
from attack_speed import cifar_cnn

EPS = "0,0.001"
EXAMPLES = 512
BATCH = 128

BARE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    import torch.nn.functional as F

    model = torch.export.load(sys.argv[1]).module()
    for parameter in model.parameters():  # input gradients only, as an attack needs
        parameter.requires_grad_(False)
    data = np.load(sys.argv[2])
    x = torch.from_numpy(data["x"].astype(np.float32) / 255.0)
    y = torch.from_numpy(data["y"].astype(np.int64))
    eps_grid = [float(e) for e in sys.argv[3].split(",") if float(e) > 0]
    with torch.inference_mode():
        clean = torch.cat([model(x[i : i + 128]) for i in range(0, len(x), 128)])
    for eps in eps_grid:
        for i in range(0, len(x), 128):
            xb, yb = x[i : i + 128], y[i : i + 128]
            delta = torch.zeros_like(xb)
            for _ in range(10):
                xa = (xb + delta).requires_grad_(True)
                loss = F.cross_entropy(model(xa), yb, reduction="sum")
                (grad,) = torch.autograd.grad(loss, xa)
                delta = (delta + 0.25 * eps * grad.sign()).clamp(-eps, eps)
                delta = (xb + delta).clamp(0, 1) - xb
            with torch.no_grad():
                model(xb + delta)
    """
)


def make_files(folder: Path) -> tuple[Path, Path]:
    """The CNN as a .pt2 program (dynamic batch) and 512 images labelled by its predictions."""
    torch.manual_seed(0)
    module = cifar_cnn().eval()
    batch = torch.export.Dim("batch", min=1)
    example = torch.zeros((2, 3, 32, 32))
    program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
    model = folder / "cifar_cnn.pt2"
    torch.export.save(program, str(model))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(EXAMPLES, 3, 32, 32), dtype=np.uint8)
    with torch.no_grad():
        y = module(torch.from_numpy(x.astype(np.float32) / 255.0)).argmax(1).numpy()
    data = folder / "images.npz"
    np.savez(data, x=x, y=y.astype(np.int64))
    return model, data


def timed(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one fresh process; a failure stops the benchmark.

    CPU time (user + system, from the OS's accounting of the child) is the steadier figure
    on a shared machine: other processes' load stretches the wall clock, not it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args()
    threads = os.environ.get("OMP_NUM_THREADS", "1")
    env = dict(os.environ, PYTHONPATH=args.root, OMP_NUM_THREADS=threads)
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, data = make_files(folder)
        (folder / "bare.py").write_text(BARE)
        commands = {
            "import torch": [py, "-c", "import torch"],
            "evaluate --help": [py, "-m", "inspector", "evaluate", "--help"],
            "bare torch passes": [py, str(folder / "bare.py"), str(model), str(data), EPS],
            "evaluate": [
                py, "-m", "inspector", "evaluate", "--model", str(model), "--data", str(data),
                "--attack", "pgd", "--steps", "10", "--norm", "linf", "--eps", EPS,
                "--no-checks", "--batch-size", str(BATCH), "--device", "cpu",
                "--out", str(folder / "results.json"),
            ],
        }  # fmt: skip
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):  # interleaved, so that a load spike hits both sides
            for name, command in commands.items():
                seconds, used = timed(command, env, args.root)
                wall[name].append(seconds)
                cpu[name].append(used)
    print(f"code: {args.root}; {args.repeats} repeats, medians (s)")
    for label, times in (("wall clock", wall), ("CPU (user+sys)", cpu)):
        print(f" {label}")
        for name, values in times.items():
            each = ", ".join(f"{v:.2f}" for v in values)
            print(f"  {name:<18} {statistics.median(values):6.2f}   ({each})")
        ratios = [e / b for e, b in zip(times["evaluate"], times["bare torch passes"], strict=True)]
        print(f"  evaluate / bare torch: {statistics.median(ratios):.2f} (median of per-repeat)")


if __name__ == "__main__":
    main()
