"""Build the demo models shipped with Robustness Inspector (CPU only, deterministic, < 1 min).

Why: the inspector needs small models that *show* the robustness-accuracy tradeoff of the
primer (/work/shared/ROBUSTNESS.md) offline and in seconds, in every format it loads.

What it trains and writes next to this script (or into --out DIR):

* On the built-in `digits` set (8x8 grey digits, inputs in [0, 1]), three CNNs of one
  architecture: `digits_standard` (plain cross-entropy), `digits_pgd` (Madry PGD adversarial
  training, L-inf eps 0.15 in pixel units) and `digits_trades` (TRADES, beta 6, same eps).
  The networks are trained on (x - mean) / std through the project's `Normalized` wrapper,
  but exported bare: mean/std live in the sidecar JSON, so the loader (which wraps the
  model with the sidecar's mean/std) reproduces the trained model exactly and eps stays in
  pixel units. The robust models give up some clean accuracy for much higher robust accuracy.
  Why eps 0.15 and not 0.1: on this tiny, easy set, PGD training at 0.1 acts as a
  regulariser and matched or beat the standard model's clean accuracy (0.983 vs 0.981),
  hiding the tradeoff; at 0.15 the clean cost is visible and robust accuracy at 0.1 still
  gains over 0.3.
* On the built-in `tsipras` set (Tsipras et al. 2018), two linear models:
  `tsipras_standard` (logistic regression: near-perfect clean accuracy by averaging the weak
  features, mostly broken at eps 0.05 and entirely past ~0.0756) and `tsipras_robust`
  (trained on the exact worst-case L-inf loss of a linear model at eps 0.06: it leans on
  the robust feature z1 alone, its clean accuracy drops to about p = 0.9, and it stays
  robust up to eps 0.1).
  Why eps 0.06 and not 0.08: with p = 0.9 the exact robust cross-entropy of the z1-only
  classifier w is 0.9 * softplus(-(0.1 - eps) w) + 0.1 * softplus((0.1 + eps) w), whose slope
  at w = 0 is zero at eps = 0.08 exactly: the optimum there collapses to a constant
  classifier (clean accuracy ~0.54). At 0.06 the optimum is w ~ 11.6 (z1 only), while the
  weak features still get zero weight, as they do for any eps above eta / 10 ~ 0.038.

Every model is exported as a `torch.export` program (.pt2, dynamic batch); `digits_standard`
also as ONNX (opset 17) and `digits_pgd` also as TorchScript (.ts). Each file gets a sidecar
`<file>.json` with name, class_names, input_shape, mean/std (digits only), description and a
`training` record holding the test figures measured here (PGD-20, L-inf, 1 restart).

The folder also gets `MANIFEST.sha256` (the `sha256sum` format) over every file written,
so that the shipped files can be checked byte for byte on any machine. Retraining is
deterministic on one machine (same seed, one thread, deterministic kernels) but not across
CPU types: tiny float-kernel differences grow during training, so a rebuild elsewhere is
judged by its accuracy, never by its weights or logits.

Run: .venv/bin/python resources/demo/build_demo_models.py [--out DIR] [--only NAME ...]
     .venv/bin/python resources/demo/build_demo_models.py --manifest-only  (hash what is there)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inspector.core.attacks import PGD
from inspector.core.attacks.geometry import ascent_direction, clip_to_box, project, random_start
from inspector.core.data import open_dataset
from inspector.core.linear import AffineModel, certified_robust
from inspector.core.models.normalize import Normalized

HERE = Path(__file__).resolve().parent
SEED = 0
THREADS = 1  # fixed, since float reduction order depends on it; 2 is no faster at this size
NORM = "linf"
DIGITS_EPS = 0.15  # see the module docstring: at 0.1 the clean-accuracy cost vanishes
DIGITS_EVAL_EPS = (0.05, 0.1, 0.15, 0.2)
TSIPRAS_EPS = 0.06  # see the module docstring: at 0.08 the robust optimum is constant
TSIPRAS_EVAL_EPS = (0.05, 0.08, 0.09, 0.12)
EVAL_STEPS = 20
TRAIN_STEPS = 7
TRADES_BETA = 6.0
TSIPRAS_STEPS = 500  # full-batch steps, i.e. epochs
TSIPRAS_CENTRE = 0.5  # pixel value of z = 0
TSIPRAS_TRAIN_SPEC = "tsipras:split=train,n=4000"
DIGITS_CLASSES = [str(i) for i in range(10)]
TSIPRAS_CLASSES = ["-1", "+1"]
INPUT_SHAPE = [1, 8, 8]
MANIFEST = "MANIFEST.sha256"
MODEL_SUFFIXES = (".pt2", ".onnx", ".ts")

Loss = Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class Recipe:
    """How one model is trained (kept in the sidecar so the figures can be traced)."""

    name: str
    objective: str
    description: str
    epochs: int
    lr: float
    eps: float = 0.0
    beta: float | None = None
    batch_size: int = 64


@dataclass
class Trained:
    """A trained bare network plus everything its sidecar needs."""

    recipe: Recipe
    net: nn.Module
    seconds: float
    metrics: dict[str, Any]


def configure_determinism() -> None:
    """Same seed, same thread count, deterministic kernels: same weights on every run."""
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)


def load_split(spec: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as float32 NCHW images in [0, 1] and int64 labels."""
    ds = open_dataset(spec)
    x = ds.load(np.arange(len(ds.labels)))
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.array(ds.labels))


def channel_stats(x: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of the train split, rounded so the sidecar reads cleanly."""
    mean = x.mean(dim=(0, 2, 3)).tolist()
    std = x.std(dim=(0, 2, 3)).tolist()
    return [round(m, 4) for m in mean], [round(s, 4) for s in std]


def digits_net() -> nn.Module:
    """A small CNN: conv, 2x2 pool, conv, two linear layers (38k weights).

    Pooling before the second conv (not after) makes it 4x cheaper, which is what keeps
    adversarial training (8 forward/backward passes per batch) within seconds on a CPU.
    """
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(512, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


# --- inner maximisations (own loops: random start, no early exit, unlike the audit PGD) ---


def pgd_linf(
    model: nn.Module,
    x: torch.Tensor,
    objective: Callable[[torch.Tensor], torch.Tensor],
    eps: float,
    start_eps: float,
    gen: torch.Generator,
) -> torch.Tensor:
    """Maximise `objective(logits)` over the eps-ball in the box, from a random start.

    The audit PGD (inspector.core.attacks.PGD) starts at the clean point and stops on the
    first flip; for training we want the loss maximiser for every example instead.
    """
    alpha = 2.5 * eps / TRAIN_STEPS
    delta = random_start(x, NORM, start_eps, gen)
    for _ in range(TRAIN_STEPS):
        delta.requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(model(x + delta)), delta)
        delta = project(delta.detach() + alpha * ascent_direction(grad, NORM), NORM, eps)
        delta = clip_to_box(x, delta)
    return (x + delta).detach()


def standard_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, _: torch.Generator):
    """Plain empirical risk."""
    return F.cross_entropy(model(x), y)


def make_pgd_loss(eps: float) -> Loss:
    """Madry et al.: min E[max_delta CE(f(x + delta), y)]."""

    def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
        def objective(logits: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(logits, y, reduction="sum")

        x_adv = pgd_linf(model, x, objective, eps, eps, gen)
        return F.cross_entropy(model(x_adv), y)

    return loss


def make_trades_loss(eps: float, beta: float) -> Loss:
    """Zhang et al.: CE(f(x), y) + beta * max_delta KL(f(x) || f(x + delta))."""

    def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, gen: torch.Generator):
        with torch.no_grad():
            p_clean = F.softmax(model(x), dim=1)

        def objective(logits: torch.Tensor) -> torch.Tensor:
            return F.kl_div(F.log_softmax(logits, dim=1), p_clean, reduction="sum")

        x_adv = pgd_linf(model, x, objective, eps, 0.001, gen)  # TRADES starts next to x
        logits = model(x)
        kl = F.kl_div(
            F.log_softmax(model(x_adv), dim=1), F.softmax(logits, dim=1), reduction="batchmean"
        )
        return F.cross_entropy(logits, y) + beta * kl

    return loss


def loss_for(recipe: Recipe) -> Loss:
    if recipe.objective == "pgd":
        return make_pgd_loss(recipe.eps)
    if recipe.objective == "trades":
        return make_trades_loss(recipe.eps, recipe.beta or TRADES_BETA)
    return standard_loss


# --- digits -------------------------------------------------------------------------------


def train_digits(
    recipe: Recipe, x: torch.Tensor, y: torch.Tensor, mean: list[float], std: list[float]
) -> tuple[nn.Module, float]:
    """Adam with a cosine learning-rate decay, seeded shuffles; returns (bare net, seconds)."""
    start = time.perf_counter()
    torch.manual_seed(SEED)
    net = digits_net()
    model = Normalized(net, mean, std)
    gen = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    batches = math.ceil(len(y) / recipe.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, recipe.epochs * batches)
    loss_fn = loss_for(recipe)
    for _ in range(recipe.epochs):
        order = torch.randperm(len(y), generator=gen)
        for idx in order.split(recipe.batch_size):
            loss = loss_fn(model, x[idx], y[idx], gen)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
    net.eval().requires_grad_(False)
    return net, time.perf_counter() - start


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).double().mean())


def robust_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = EVAL_STEPS
) -> float:
    """Accuracy under the project's PGD (restart 0 from the clean point, Madry step size)."""
    result = PGD(model, NORM, steps=steps, restarts=1).perturb(x, y, eps)
    return float((~result.found).double().mean())


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, grid: tuple[float, ...]):
    """Clean and PGD robust accuracy on the test split, as stored in the sidecar."""
    return {
        "test_clean_accuracy": round(accuracy(model, x, y), 4),
        "test_robust_accuracy": {str(e): round(robust_accuracy(model, x, y, e), 4) for e in grid},
    }


OBJECTIVES = {
    "cross_entropy": "cross-entropy on clean inputs",
    "pgd": "PGD adversarial training (Madry): min E[max_delta CE(f(x + delta), y)]",
    "trades": "TRADES: min E[CE(f(x), y) + beta * max_delta KL(f(x) || f(x + delta))]",
    "exact_linear_worst_case": (
        "exact L-inf worst-case cross-entropy of a linear model: logit j != y raised by "
        "eps * ||w_y - w_j||_1"
    ),
}


def digits_recipes() -> list[Recipe]:
    """Epochs/lr/batch chosen so training stays fast and the tradeoff is plain to see.

    The robust models use batches of 128: each batch costs 8-10 forward/backward passes,
    and fewer, larger batches halve the Python overhead at no loss in accuracy here.
    """
    common = "2-conv CNN trained with Adam (cosine lr) on the 1437 digits:train images"
    return [
        Recipe(
            "digits_standard", "cross_entropy", f"A {common} with plain cross-entropy.", 20, 3e-3
        ),
        Recipe(
            "digits_pgd",
            "pgd",
            f"A {common} with PGD adversarial training (Madry) at L-inf eps 0.15.",
            15,
            5e-3,
            eps=DIGITS_EPS,
            batch_size=128,
        ),
        Recipe(
            "digits_trades",
            "trades",
            f"A {common} with TRADES (beta 6) at L-inf eps 0.15.",
            15,
            5e-3,
            eps=DIGITS_EPS,
            beta=TRADES_BETA,
            batch_size=128,
        ),
    ]


def build_digits(only: set[str] | None = None) -> tuple[list[Trained], list[float], list[float]]:
    """Train and evaluate the digits models (all three, or those in `only`); mean/std come
    from the train split. Each model is seeded on its own, so one alone trains the same."""
    x_train, y_train = load_split("digits:train")
    x_test, y_test = load_split("digits")
    mean, std = channel_stats(x_train)
    out = []
    for recipe in digits_recipes():
        if only is not None and recipe.name not in only:
            continue
        net, seconds = train_digits(recipe, x_train, y_train, mean, std)
        metrics = evaluate(Normalized(net, mean, std), x_test, y_test, DIGITS_EVAL_EPS)
        out.append(Trained(recipe, net, seconds, metrics))
    return out, mean, std


# --- tsipras ------------------------------------------------------------------------------


def worst_case_shift(weight: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per example and class j, ||w_y - w_j||_1: what an L-inf adversary of radius 1 adds to
    logit j relative to logit y (zero for j = y). Exact for a linear model, box ignored.

    It depends only on (y, j), so one K x K table indexed by y is enough.
    """
    pairwise = (weight[:, None, :] - weight[None, :, :]).abs().sum(dim=2)
    return pairwise[y]


def train_linear(
    x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, lr: float
) -> tuple[nn.Module, float]:
    """Full-batch Adam with cosine decay on the exact worst-case loss (eps = 0: plain CE).

    Training runs on x - 0.5 (pixels of z = 0 sit at 0.5) and the shift is folded into the
    bias afterwards: uncentred, the bias must reach -0.5 * sum(w), which Adam's bounded
    steps would take thousands of iterations to get to. The cosine decay lets the robust
    model's weak-feature weights, pushed to zero by the eps * ||.||_1 term, settle there.
    """
    start = time.perf_counter()
    torch.manual_seed(SEED)
    net = nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), 2))
    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    layer = net[1]
    centred = x - TSIPRAS_CENTRE
    for _ in range(steps):
        logits = net(centred)
        if eps > 0:
            logits = logits + eps * worst_case_shift(layer.weight, y)
        loss = F.cross_entropy(logits, y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    with torch.no_grad():
        layer.bias -= TSIPRAS_CENTRE * layer.weight.sum(dim=1)
    net.eval().requires_grad_(False)
    return net, time.perf_counter() - start


def evaluate_linear(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """PGD figures plus the exact (certified) robust accuracy the dual-norm rule gives."""
    metrics = evaluate(net, x, y, TSIPRAS_EVAL_EPS)
    layer = net[1]
    affine = AffineModel(layer.weight.double().numpy(), layer.bias.double().numpy())
    xs, ys = x.double().numpy(), y.numpy()
    metrics["test_certified_accuracy"] = {
        str(e): round(float(certified_robust(affine, xs, ys, e, NORM).mean()), 4)
        for e in TSIPRAS_EVAL_EPS
    }
    return metrics


def build_tsipras(only: set[str] | None = None) -> list[Trained]:
    """Logistic regression vs exact adversarial training at eps 0.06 (> eta / 10)."""
    x_train, y_train = load_split(TSIPRAS_TRAIN_SPEC)
    x_test, y_test = load_split("tsipras")
    common = "Linear model (flatten + Linear(64, 2)) trained with full-batch Adam on 4000 tsipras"
    recipes = [
        Recipe(
            "tsipras_standard",
            "cross_entropy",
            f"{common} examples, plain logistic loss.",
            TSIPRAS_STEPS,
            0.05,
            batch_size=len(y_train),
        ),
        Recipe(
            "tsipras_robust",
            "exact_linear_worst_case",
            f"{common} examples on the exact L-inf worst-case loss at eps 0.06.",
            TSIPRAS_STEPS,
            0.05,
            eps=TSIPRAS_EPS,
            batch_size=len(y_train),
        ),
    ]
    out = []
    for recipe in recipes:
        if only is not None and recipe.name not in only:
            continue
        net, seconds = train_linear(x_train, y_train, recipe.eps, recipe.epochs, recipe.lr)
        out.append(Trained(recipe, net, seconds, evaluate_linear(net, x_test, y_test)))
    return out


# --- export -------------------------------------------------------------------------------


def check_batches(
    loaded: Callable[[torch.Tensor], torch.Tensor], net: nn.Module, what: str
) -> None:
    """The exported model must accept batch 1 and 128 and give the trained net's logits."""
    gen = torch.Generator().manual_seed(SEED)
    for batch in (1, 128):
        x = torch.rand((batch, *INPUT_SHAPE), generator=gen)
        with torch.no_grad():
            diff = (torch.as_tensor(loaded(x)) - net(x)).abs().max().item()
        if diff > 1e-5:
            raise RuntimeError(f"{what}: batch {batch} differs from the trained net by {diff:g}")


def export_pt2(net: nn.Module, path: Path) -> None:
    """torch.export program with a dynamic batch dimension (min 1)."""
    example = torch.zeros((2, *INPUT_SHAPE))
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, path)
    check_batches(torch.export.load(path).module(), net, path.name)


def export_torchscript(net: nn.Module, path: Path) -> None:
    """torch.jit.trace is deprecated but still common in the wild, so the demo covers it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(net, torch.zeros((2, *INPUT_SHAPE)))
        traced.save(str(path))
        check_batches(torch.jit.load(str(path)), net, path.name)


def _onnx_export(net: nn.Module, path: Path, dynamo: bool, **batch: Any) -> None:
    """One export at opset 17 with the demo's input and output names; `batch` makes the
    batch dimension dynamic the way the chosen exporter takes it."""
    example = torch.zeros((2, *INPUT_SHAPE))
    torch.onnx.export(
        net,
        (example,),
        str(path),
        dynamo=dynamo,
        opset_version=17,
        input_names=["input"],
        output_names=["logits"],
        **batch,
    )


def export_onnx(net: nn.Module, path: Path, metadata: dict[str, Any]) -> str:
    """ONNX opset 17, dynamic batch; the TorchScript-based exporter first, else dynamo.

    Returns which exporter produced the file. Class names and mean/std also go into
    metadata_props so the .onnx file describes itself without its sidecar.
    """
    import onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
            _onnx_export(net, path, dynamo=False, dynamic_axes=axes)
            exporter = "torch.onnx.export(dynamo=False) (TorchScript-based)"
        except Exception:  # any failure: fall back to the dynamo exporter
            shapes = ({0: torch.export.Dim("batch", min=1)},)
            _onnx_export(net, path, dynamo=True, dynamic_shapes=shapes)
            exporter = "torch.onnx.export(dynamo=True) (onnxscript)"
    model = onnx.load(str(path))
    for key in ("class_names", "input_shape", "mean", "std"):
        model.metadata_props.add(key=key, value=json.dumps(metadata[key]))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    verify_onnx(net, path, metadata)
    return exporter


def verify_onnx(net: nn.Module, path: Path, metadata: dict[str, Any]) -> None:
    """onnxruntime and onnx2torch must both reproduce the bare net to < 1e-4."""
    import onnx
    import onnx2torch
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run_ort(x: torch.Tensor) -> np.ndarray:
        return session.run(None, {input_name: x.numpy()})[0]

    check_batches(run_ort, net, f"{path.name} (onnxruntime)")
    converted = onnx2torch.convert(onnx.load(str(path))).eval()
    check_batches(converted, net, f"{path.name} (onnx2torch)")
    if metadata.get("input_shape") != INPUT_SHAPE:
        raise RuntimeError(f"{path.name}: unexpected input shape {metadata.get('input_shape')}")


# --- sidecars and report ------------------------------------------------------------------


def sidecar(
    model: Trained, class_names: list[str], mean: list[float] | None, std: list[float] | None
) -> dict[str, Any]:
    """The JSON written next to each model file (no timings: reruns give the same file)."""
    recipe = model.recipe
    training: dict[str, Any] = {
        "objective": OBJECTIVES[recipe.objective],
        "eps": recipe.eps,
        "norm": NORM,
        "epochs": recipe.epochs,
        "seed": SEED,
        "optimizer": f"Adam lr {recipe.lr}, cosine decay",
        "threads": THREADS,
    }
    training["batch_size"] = recipe.batch_size
    if recipe.eps and recipe.objective in ("pgd", "trades"):
        training["inner_attack"] = (
            f"PGD L-inf {TRAIN_STEPS} steps, step 2.5*eps/{TRAIN_STEPS}, random start"
        )
    if recipe.beta is not None:
        training["beta"] = recipe.beta
    training["evaluation"] = (
        f"test split, inspector PGD L-inf {EVAL_STEPS} steps, step 2.5*eps/{EVAL_STEPS}, "
        "1 restart (from the clean point)"
    )
    training.update(model.metrics)
    data: dict[str, Any] = {
        "name": recipe.name,
        "class_names": class_names,
        "input_shape": INPUT_SHAPE,
    }
    if mean is not None and std is not None:
        data["mean"], data["std"] = mean, std
    data["description"] = recipe.description
    data["training"] = training
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def print_table(models: list[Trained]) -> None:
    """Clean and robust accuracy per model, the figures the demo exists to show."""
    digits = [m for m in models if m.recipe.name.startswith("digits")]
    for group in (digits, [m for m in models if m not in digits]):
        if not group:
            continue
        grid = list(group[0].metrics["test_robust_accuracy"])
        head = f"{'model':<18}{'train s':>8}{'clean':>8}" + "".join(
            f"{'eps ' + e:>10}" for e in grid
        )
        print(head)
        for m in group:
            robust = m.metrics["test_robust_accuracy"]
            row = f"{m.recipe.name:<18}{m.seconds:>8.2f}{m.metrics['test_clean_accuracy']:>8.3f}"
            print(row + "".join(f"{robust[e]:>10.3f}" for e in grid))
        print()


def write_models(
    out: Path, digits: list[Trained], tsipras: list[Trained], mean: list[float], std: list[float]
) -> tuple[list[Path], str]:
    """Export every model (+ the ONNX and TorchScript extras) with a sidecar each."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    exporter = ""
    for model in digits + tsipras:
        is_digits = model in digits
        meta = sidecar(
            model,
            DIGITS_CLASSES if is_digits else TSIPRAS_CLASSES,
            mean if is_digits else None,
            std if is_digits else None,
        )
        name = model.recipe.name
        paths = [out / f"{name}.pt2"]
        export_pt2(model.net, paths[0])
        if name == "digits_standard":
            paths.append(out / f"{name}.onnx")
            exporter = export_onnx(model.net, paths[-1], meta)
        if name == "digits_pgd":
            paths.append(out / f"{name}.ts")
            export_torchscript(model.net, paths[-1])
        for path in paths:
            write_json(path.with_name(path.name + ".json"), meta)
            written += [path, path.with_name(path.name + ".json")]
    return written, exporter


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, files: list[Path] | None = None) -> Path:
    """`MANIFEST.sha256` over `files` (default: every model file in `folder` and its sidecar),
    sorted by name, in the format `sha256sum --check` reads."""
    if files is None:
        models = [p for p in folder.iterdir() if p.suffix in MODEL_SUFFIXES]
        files = [q for p in models for q in (p, p.with_name(p.name + ".json")) if q.is_file()]
    lines = [f"{sha256_of(p)}  {p.name}\n" for p in sorted(files, key=lambda p: p.name)]
    path = folder / MANIFEST
    path.write_text("".join(lines), encoding="utf-8")
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: here)")
    names = [r.name for r in digits_recipes()] + ["tsipras_standard", "tsipras_robust"]
    parser.add_argument(
        "--only", action="append", choices=names, help="build only this model (repeatable)"
    )
    parser.add_argument(
        "--manifest-only",
        action="store_true",
        help=f"train nothing: rewrite {MANIFEST} for the model files already in --out",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.manifest_only:
        print(f"wrote {write_manifest(args.out)}")
        return 0
    configure_determinism()
    only = set(args.only) if args.only else None
    start = time.perf_counter()
    digits, mean, std = build_digits(only)
    tsipras = build_tsipras(only) if only is None or any("tsipras" in n for n in only) else []
    train_eval = time.perf_counter() - start
    written, exporter = write_models(args.out, digits, tsipras, mean, std)
    written.append(write_manifest(args.out))  # over the whole folder, kept models included
    print(f"digits mean {mean} std {std} (train split); threads {THREADS}, seed {SEED}")
    print(f"clean and PGD-{EVAL_STEPS} robust accuracy (L-inf, pixel eps) on the test splits:\n")
    print_table(digits + tsipras)
    for model in tsipras:
        cert = model.metrics["test_certified_accuracy"]
        print(
            f"{model.recipe.name:<18} exact (certified) "
            + "  ".join(f"{e}: {v:.3f}" for e, v in cert.items())
        )
    if exporter:
        print(f"\nONNX exporter: {exporter}")
    for path in written:
        print(f"{path.stat().st_size / 1024:>8.1f} KiB  {path}")
    total = time.perf_counter() - start
    print(f"\ntraining + evaluation {train_eval:.1f} s, total {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
