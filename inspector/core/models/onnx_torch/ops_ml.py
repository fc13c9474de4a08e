"""The few ai.onnx.ml operators that sit on the score path of scikit-learn exports."""

from __future__ import annotations

import torch

from inspector.core.models.onnx_torch.registry import Node, op
from inspector.core.models.onnx_torch.tensors import aligned

ML = "ai.onnx.ml:"  # registry keys of this domain carry its name (its opsets are 1-5)


@op(f"{ML}Scaler", first=1, last=5)
def scaler(node: Node, x: torch.Tensor) -> torch.Tensor:
    """StandardScaler: (x - offset) * scale, per feature (or one value for all)."""
    offset = torch.tensor(node.attr("offset", [0.0]), dtype=x.dtype)
    scale = torch.tensor(node.attr("scale", [1.0]), dtype=x.dtype)
    x, offset, scale = aligned(x, offset, scale)
    return (x - offset) * scale
