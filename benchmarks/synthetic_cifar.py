"""A CIFAR-sized network on a synthetic task, trained in seconds inside the benchmark.

No download: ten classes of 3×32×32 images, each class a smooth random colour pattern
(a 4×4 grid upsampled) under smooth and pixel noise, so that a small CNN learns it in a few
epochs but still has boundaries an L∞ or L2 attack can reach at CIFAR-like ε. Seeded: the
same data and weights on every run of one torch version.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

CLASSES = 10


def _smooth(generator: torch.Generator, n: int, scale: float) -> torch.Tensor:
    coarse = torch.randn(n, 3, 4, 4, generator=generator) * scale
    return F.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False)


def make_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n images in [0, 1] and their labels; the class patterns depend only on the torch seed 0."""
    patterns = _smooth(torch.Generator().manual_seed(0), CLASSES, 1.0)
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    x = (
        0.5
        + 0.12 * patterns[y]
        + _smooth(g, n, 0.15)
        + 0.05 * torch.randn(n, 3, 32, 32, generator=g)
    )
    return x.clamp(0, 1), y


def make_net() -> nn.Module:
    """Three conv blocks and a linear head (~0.1 M parameters), CIFAR's input shape."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(256, CLASSES),
    )  # fmt: skip


def trained_net(epochs: int = 3, examples: int = 4000, device: str = "cpu") -> nn.Module:
    """The network after `epochs` of Adam on `examples` synthetic images (eval mode)."""
    torch.manual_seed(0)
    net = make_net().to(device)
    x, y = make_data(examples, seed=1)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for epoch in range(epochs):
        order = torch.randperm(examples, generator=torch.Generator().manual_seed(epoch))
        for batch in order.split(128):
            opt.zero_grad()
            F.cross_entropy(net(x[batch]), y[batch]).backward()
            opt.step()
    return net.eval()
