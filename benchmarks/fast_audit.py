"""The fast audit against torchattacks' AutoAttack, standard and AA-100 (issue 18).

Cases: the three demo digits models on 360 stratified digits and a CIFAR-sized CNN trained
here for 3 epochs on a synthetic 10-class task (synthetic_cifar.py, 100 test images), L∞
and L2, each at an ε in the middle of its curve. Per case, in one interleaved run: the fast
audit's time, robust accuracy and per-stage times (rows attacked), torchattacks' AutoAttack
"standard" (APGD-CE, APGD-T, FAB-T at 10 iterations, Square 5000), its time, the ratio, and
with `--aa100` the same attacks at 100 iterations. "ok" says whether the strength condition
holds: ours ≤ AutoAttack + 0.3 point against both. The fast audit draws as the sweep does
for the grid (0, ε) (per-example streams, seed 0). `--sweep` also runs `evaluate`'s path
(checks off) over each case's norm's grid (SWEEPS) and compares each ε with the references
of this run, or, with `--sweep-only`, with those stored in `--reference FILE` (default
tests/fastattack_reference.json, digits only). `--save-reference FILE` writes the
per-example verdicts of both AutoAttacks (for tests/test_fastattack_strength.py). Run under
`nice -n 10` on a shared machine:
    .venv/bin/python benchmarks/fast_audit.py --aa100 [--sweep] [--cases digits_pgd,cifar]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchattacks
from ensemble_vs_reference import reference_mask
from synthetic_cifar import make_data, trained_net

from inspector.core.attacks.fast import fast_audit
from inspector.core.attacks.streams import Streams
from inspector.core.data import open_dataset, stratified_subset
from inspector.core.demo import DEMO_DIR
from inspector.core.models import load_model

TOLERANCE = 0.003  # the 0.3 point
DIGITS = 360
CIFAR_IMAGES = 100
CASES = (
    ("digits_standard", "linf", 0.1),
    ("digits_pgd", "linf", 0.1),
    ("digits_pgd", "linf", 0.2),
    ("digits_trades", "linf", 0.1),
    ("digits_trades", "linf", 0.2),
    ("digits_standard", "l2", 0.5),
    ("digits_pgd", "l2", 0.75),
    ("digits_trades", "l2", 0.75),
    ("cifar", "linf", 6 / 255),
    ("cifar", "l2", 0.75),
)
SWEEPS = {
    ("digits", "linf"): (0.0, 0.05, 0.1, 0.15, 0.2),
    ("digits", "l2"): (0.0, 0.25, 0.5, 0.75, 1.0),
    ("cifar", "linf"): (0.0, 2 / 255, 4 / 255, 6 / 255, 8 / 255),
    ("cifar", "l2"): (0.0, 0.25, 0.5, 0.75, 1.0),
}
STORED = Path(__file__).resolve().parent.parent / "tests" / "fastattack_reference.json"


def digits(device: str, n: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    dataset = open_dataset("digits")
    indices = stratified_subset(dataset.labels, n, 0)
    x = torch.from_numpy(dataset.load(indices)).to(device)
    y = torch.from_numpy(dataset.labels[indices].astype(np.int64)).to(device)
    return indices, x, y


def ours(module, x, y, indices, norm: str, eps: float):
    """Seconds, per-example robust flags, per-stage seconds and rows of the fast audit."""
    audit = fast_audit(module, norm)
    streams = Streams.for_examples(0, indices, x.device, 1)  # the sweep's draw for grid (0, ε)
    start = time.perf_counter()
    result = audit.perturb(x, y, eps, generator=streams)
    if x.is_cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return seconds, (~result.found).cpu(), audit.last_seconds, audit.last_rows


def sweep_robust(model_path: str, dataset: str, n: int, norm: str, grid) -> dict[float, float]:
    """Robust accuracy per ε through `evaluate`'s path (the sweep), fast audit, checks off."""
    from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
    from inspector.core.threat import ThreatModel

    threat = ThreatModel(norm=norm, eps=grid, attack="fast", steps=100, seed=0)
    request = EvaluationRequest(
        (ModelRequest(model_path),), dataset, threat, limit=n, device="cpu", checks=False
    )
    started = time.perf_counter()
    sweep = run_to_end(request).models[0].sweep
    name = Path(model_path).stem
    print(f"  sweep {name} {norm}: {time.perf_counter() - started:.1f} s for {len(grid)} ε")
    return {r.eps: r.robust_accuracy for r in sweep.curve()}


def cifar_files(net: torch.nn.Module, images: int, folder: Path) -> tuple[str, str]:
    """The trained synthetic-CIFAR net as a .pt2 program and its test images as an .npz."""
    example = torch.zeros(2, 3, 32, 32)
    program = torch.export.export(
        net.cpu(), (example,), dynamic_shapes=({0: torch.export.Dim("batch", min=1)},)
    )
    model = folder / "cifar_synthetic.pt2"
    torch.export.save(program, str(model))
    x, y = make_data(images, seed=2)
    data = folder / "cifar_synthetic.npz"
    np.savez(data, x=x.numpy(), y=y.numpy())
    return str(model), str(data)


def _share(verdicts: str) -> float:
    """Robust accuracy from stored per-example verdicts ("1" = still right)."""
    return verdicts.count("1") / len(verdicts) if verdicts else float("nan")


def stored_references(path: Path) -> dict[tuple[str, str, float], tuple[float, float]]:
    """AutoAttack standard and AA-100 robust accuracy per stored case (a saved reference)."""
    if not path.is_file():
        return {}
    return {
        (name, case["norm"], case["eps"]): (_share(case["aa"]), _share(case.get("aa100", "")))
        for name, stored in json.loads(path.read_text()).items()
        for case in stored["cases"]
    }


def reference_at(references, name: str, norm: str, eps: float) -> tuple[float, float] | None:
    """The references of one model and norm at the grid ε (float keys, compared loosely)."""
    for (model, their_norm, their_eps), values in references.items():
        if (model, their_norm) == (name, norm) and abs(their_eps - eps) < 1e-9:
            return values
    return None


def report_sweeps(cases, nets, args, references) -> None:
    """Each case's model and norm swept over its grid; each ε compared with the references."""
    with tempfile.TemporaryDirectory() as tmp:
        pairs = sorted({(c[0], c[1]) for c in cases})
        if any(name == "cifar" for name, _ in pairs):  # exported once, swept per norm
            cifar_model, cifar_data = cifar_files(nets["cifar"], args.images, Path(tmp))
        for name, norm in pairs:
            if name == "cifar":
                model_path, dataset, n = cifar_model, cifar_data, args.images
            else:
                model_path, dataset, n = str(DEMO_DIR / f"{name}.pt2"), "digits", args.digits
            grid = SWEEPS[("cifar" if name == "cifar" else "digits", norm)]
            robust = sweep_robust(model_path, dataset, n, norm, grid)
            for eps, value in robust.items():
                ref = reference_at(references, name, norm, eps)
                if ref is None:
                    print(f"    ε={eps:.4g}: sweep {value:.4f}")
                    continue
                ok = value <= min(r for r in ref if r == r) + TOLERANCE
                print(
                    f"    ε={eps:.4g}: sweep {value:.4f} vs AA {ref[0]:.4f} / AA-100 {ref[1]:.4f}"
                    f"  {'ok' if ok else 'WEAKER'}",
                    flush=True,
                )


def network(name: str, device: str) -> torch.nn.Module:
    """A demo model's module, or the synthetic-CIFAR net trained here."""
    if name != "cifar":
        return load_model(str(DEMO_DIR / f"{name}.pt2"), device=device).module
    started = time.perf_counter()
    net = trained_net(device=device)
    print(f"  cifar: trained in {time.perf_counter() - started:.1f} s")
    return net


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aa100", action="store_true", help="also AutoAttack at 100 iterations")
    parser.add_argument("--sweep", action="store_true", help="also the fast audit in a sweep")
    parser.add_argument(
        "--sweep-only", action="store_true", help="only the sweeps, against --reference"
    )
    parser.add_argument("--reference", default=str(STORED), help="stored references (JSON)")
    parser.add_argument("--cases", default="", help="comma-separated model names to keep")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--digits", type=int, default=DIGITS, help="digits per case")
    parser.add_argument("--images", type=int, default=CIFAR_IMAGES, help="synthetic images")
    parser.add_argument("--save-reference", default="", help="JSON file for the test")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    keep = set(filter(None, args.cases.split(",")))
    cases = [c for c in CASES if not keep or c[0] in keep]
    print(
        f"torch {torch.__version__}, torchattacks {torchattacks.__version__}, {args.device}, "
        f"{args.threads} thread(s); digits: {args.digits}, cifar: {args.images} synthetic images"
    )
    indices, dx, dy = digits(args.device, args.digits)
    nets: dict[str, torch.nn.Module] = {}
    saved: dict[str, dict] = {}
    references: dict[tuple[str, str, float], tuple[float, float]] = {}
    for name, norm, eps in cases:
        if name not in nets:
            nets[name] = network(name, args.device)
        if args.sweep_only:
            continue
        module = nets[name]
        if name == "cifar":
            x, y = (t.to(args.device) for t in make_data(args.images, seed=2))
            where = np.arange(args.images)
        else:
            x, y, where = dx, dy, indices
        with torch.no_grad():
            clean = float((module(x).argmax(1) == y).float().mean())
        fast_s, fast_rob, stages, rows = ours(module, x, y, where, norm, eps)
        aa_s, aa_rob = reference_mask(module, x, y, eps, None, norm)
        line = (
            f"  {name:<16} {norm:<4} ε={eps:<7.4g} clean {clean:.4f}  fast {fast_s:6.1f} s "
            f"{fast_rob.float().mean():.4f}  AA {aa_s:6.1f} s {aa_rob.float().mean():.4f}  "
            f"ratio {fast_s / aa_s:.2f}"
        )
        ok = bool(fast_rob.float().mean() <= aa_rob.float().mean() + TOLERANCE)
        entry = {"norm": norm, "eps": eps, "aa": "".join("01"[int(v)] for v in aa_rob)}
        if args.aa100:
            aa100_s, aa100_rob = reference_mask(module, x, y, eps, 100, norm)
            line += f"  AA-100 {aa100_s:6.1f} s {aa100_rob.float().mean():.4f}"
            ok &= bool(fast_rob.float().mean() <= aa100_rob.float().mean() + TOLERANCE)
            entry["aa100"] = "".join("01"[int(v)] for v in aa100_rob)
        references[(name, norm, eps)] = (
            float(aa_rob.float().mean()),
            float(aa100_rob.float().mean()) if args.aa100 else float("nan"),
        )
        stage_text = ", ".join(f"{k} {stages.get(k, 0.0):.1f} s/{n} rows" for k, n in rows.items())
        print(f"{line}  {'ok' if ok else 'WEAKER'}\n      stages: {stage_text}", flush=True)
        if name != "cifar":
            saved.setdefault(name, {"indices": indices.tolist(), "cases": []})
            saved[name]["cases"].append(entry)
    if args.sweep or args.sweep_only:
        # stored verdicts hold for their own digits (360 stratified) only
        stored = stored_references(Path(args.reference)) if args.digits == DIGITS else {}
        report_sweeps(cases, nets, args, {**stored, **references})
    if args.save_reference:
        with open(args.save_reference, "w", encoding="utf-8") as f:
            json.dump(saved, f, indent=1)


if __name__ == "__main__":
    main()
