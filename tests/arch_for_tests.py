"""A tiny importable network for the state_dict tests: --arch arch_for_tests:make_tiny_cnn."""

from __future__ import annotations

import torch
from torch import nn


class TinyCNN(nn.Module):
    """1x8x8 input, 10 classes: small enough that every export path runs in about a second."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        x = nn.functional.max_pool2d(x, 2)
        return self.fc(x.flatten(1))


def make_tiny_cnn() -> TinyCNN:
    torch.manual_seed(0)
    return TinyCNN().eval()
