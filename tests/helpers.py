"""Small models and datasets written to tmp_path for end-to-end tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from inspector.core.linear import AffineModel


def export_pt2(module: torch.nn.Module, path: Path, shape: tuple[int, int, int], **sidecar) -> Path:
    """Save `module` as a torch.export program with a dynamic batch, plus a sidecar JSON."""
    module = module.eval()
    example = torch.zeros((2, *shape))
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    if sidecar:
        Path(str(path) + ".json").write_text(json.dumps(sidecar))
    return path


def linear_problem(seed: int = 0, n: int = 300, classes: int = 3, shape=(1, 4, 4)):
    """A random affine classifier and inputs well inside [0, 1] (ε ≤ 0.2 never meets the box)."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    weight = (0.3 * rng.normal(size=(classes, d))).astype(np.float32)
    # centre the scores on the data so that many margins are small
    bias = (-0.5 * weight.sum(axis=1) + rng.normal(scale=0.05, size=classes)).astype(np.float32)
    x = rng.uniform(0.25, 0.75, size=(n, *shape)).astype(np.float32)
    logits = x.reshape(n, -1) @ weight.T + bias
    noisy = logits + rng.normal(scale=0.4, size=logits.shape)
    y = noisy.argmax(axis=1).astype(np.int64)
    layer = torch.nn.Linear(d, classes)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    return torch.nn.Sequential(torch.nn.Flatten(), layer), x, y


class LinearFiles(NamedTuple):
    """A `linear_problem` saved: the model as .pt2, the data as .npz, and the module."""

    model: Path
    data: Path
    module: torch.nn.Module


def linear_problem_files(
    folder: Path,
    seed: int,
    n: int,
    classes: int,
    model_name: str = "linear.pt2",
    data_name: str = "data.npz",
    **sidecar,
) -> LinearFiles:
    """The end-to-end tests' one builder: a random affine classifier on 1×4×4 and its data."""
    module, x, y = linear_problem(seed=seed, n=n, classes=classes)
    model = export_pt2(module, folder / model_name, (1, 4, 4), **sidecar)
    return LinearFiles(model, save_npz(folder / data_name, x, y), module)


def binary_affine_problem(seed: int, n: int = 400, shape=(1, 4, 4), noise: float = 0.3):
    """A random binary affine model (logit difference wᵀx + b) and inputs in [0.3, 0.7], with
    noisy labels (some clean errors): the exact-certificate tests' ground truth."""
    rng = np.random.default_rng(seed)
    d = int(np.prod(shape))
    w = rng.normal(size=d)
    b = -w.sum() * 0.5 + rng.normal() * 0.1
    x = rng.uniform(0.3, 0.7, size=(n, *shape))
    y = (x.reshape(n, -1) @ w + b + rng.normal(scale=noise, size=n) > 0).astype(np.int64)
    return AffineModel(np.stack([np.zeros(d), w]), np.array([0.0, b])), x, y


def linear(weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Module:
    """Flatten, then a float32 affine layer with these weights (gradients kept)."""
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return torch.nn.Sequential(torch.nn.Flatten(), layer)


def affine_module(weight: np.ndarray, bias: np.ndarray) -> torch.nn.Module:
    """Flatten, then the affine layer in float64, without gradients for its parameters."""
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
    layer.requires_grad_(False)
    return torch.nn.Sequential(torch.nn.Flatten(), layer)


class CancelAfter:
    """A `cancel` callable that asks to stop from its (n + 1)-th call on; `calls` counts them."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls > self.n


def save_npz(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, x=x, y=y)
    return path


def tiny_vit() -> torch.nn.Module:
    """A two-layer ViT on 32×32 images, 10 classes: attention in seconds, for loader tests."""
    from torchvision.models.vision_transformer import VisionTransformer

    return VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        mlp_dim=64,
        num_classes=10,
    )
