"""Per-channel normalisation folded into the model.

Attacks and datasets work on images in [0, 1]; a model trained on (x - mean) / std gets
the normalisation inside its wrapper, so ε is always measured in pixel units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn


class Normalized(nn.Module):
    """Apply (x - mean) / std per channel, then the wrapped classifier.

    mean/std None means identity. They are buffers, so `.to(device)` moves them along.
    """

    def __init__(
        self,
        inner: nn.Module,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.register_buffer("mean", _channel_tensor(mean), persistent=False)
        self.register_buffer("std", _channel_tensor(std), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mean is not None:
            x = x - self.mean.to(x.dtype)
        if self.std is not None:
            x = x / self.std.to(x.dtype)
        return self.inner(x)


def normalize_array(
    x: np.ndarray, mean: Sequence[float] | None, std: Sequence[float] | None
) -> np.ndarray:
    """The numpy twin of `Normalized` for backends that are not torch (onnxruntime)."""
    out = np.asarray(x, dtype=np.float32)
    if mean is not None:
        out = out - np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    if std is not None:
        out = out / np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return out


def _channel_tensor(values: Sequence[float] | None) -> torch.Tensor | None:
    if values is None:
        return None
    return torch.tensor([float(v) for v in values], dtype=torch.float32).reshape(1, -1, 1, 1)
