"""How an ONNX file's input and output map onto images in and logits out.

Real files come as NCHW images, NHWC images, flat vectors (an MLP on C·H·W values), and
with several outputs (scikit-learn: a label, then probabilities, often as a ZipMap). The
inspector always feeds NCHW in [0, 1] and wants logits: this module decides the input
layout and the score output once, and both forwards (onnxruntime, torch) apply the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_graphs import quoted

PROBABILITY_FLOOR = 1e-30  # log(0) would be -inf; a class at 0 gets log(1e-30) ≈ -69
_PROBABILITY_OPS = {"Softmax"}
_FLOAT_TYPES = {1, 10, 11}  # float, float16, double


@dataclass(frozen=True)
class Layout:
    """The graph input's layout: "nchw", "nhwc" or "flat" (N, C·H·W)."""

    kind: str

    def numpy(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "nhwc":
            return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        if self.kind == "flat":
            return x.reshape(x.shape[0], -1)
        return x

    def torch(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "nhwc":
            return x.permute(0, 2, 3, 1)
        if self.kind == "flat":
            return x.reshape(x.shape[0], -1)
        return x


def input_layout(path: Path, name: str, dims: list) -> tuple[Layout, tuple | None, str | None]:
    """Layout, the C, H, W the graph states (None where unknown) and a note for the user."""
    if len(dims) == 2:
        note = f"flat input {quoted(name)} of {dims[1] or '?'} values: images are flattened"
        return Layout("flat"), None, note
    if len(dims) != 4:
        shape = ["?" if d is None else d for d in dims]
        raise InspectorError(
            f"{path}: input {quoted(name)} has rank {len(dims)} (shape {shape}); an image "
            "input (N, C, H, W), (N, H, W, C) or a flat (N, C·H·W) one is expected"
        )
    if dims[3] in (1, 3, 4) and dims[1] not in (1, 3, 4, None):
        note = f"input {quoted(name)} is NHWC {dims}: images are transposed to it"
        return Layout("nhwc"), (dims[3], dims[1], dims[2]), note
    return Layout("nchw"), tuple(dims[1:]), None


@dataclass(frozen=True)
class ScoreOutput:
    """The output read as scores; `probabilities` when it is a softmax (we attack its log)."""

    name: str
    probabilities: bool

    def numpy(self, y: np.ndarray) -> np.ndarray:
        if not self.probabilities:
            return y
        return np.log(np.maximum(y.astype(np.float32, copy=False), PROBABILITY_FLOOR))

    def torch(self, y: torch.Tensor) -> torch.Tensor:
        return torch.log(y.clamp_min(PROBABILITY_FLOOR)) if self.probabilities else y


def expose_zipmap_scores(model) -> list[str]:
    """Make each ZipMap's input tensor (the probabilities) a graph output; return their names.

    A ZipMap turns the score tensor into a list of dicts, which cannot be attacked; the
    tensor before it holds the same numbers.
    """
    from onnx import TensorProto, helper

    outputs = {o.name for o in model.graph.output}
    exposed = []
    for node in model.graph.node:
        if node.op_type == "ZipMap" and node.output[0] in outputs and node.input[0] not in outputs:
            info = helper.make_tensor_value_info(node.input[0], TensorProto.FLOAT, None)
            model.graph.output.append(info)
            exposed.append(node.input[0])
    return exposed


def score_output(
    path: Path, model, exposed: list[str], wanted: str | None = None
) -> ScoreOutput:
    """The output named `wanted`, else the only output, else the first float output of rank 2
    (or unknown rank); a ZipMap's scores come first."""
    by_name = {o.name: o for o in model.graph.output}
    order = [*exposed, *(o.name for o in model.graph.output if o.name not in exposed)]
    if wanted is None and len(order) == 1:  # no choice: the probe judges what it returns
        return ScoreOutput(order[0], _is_probability(model, order[0]))
    if wanted is not None:
        if wanted not in by_name or not _is_scores(by_name[wanted]):
            names = ", ".join(quoted(o.name) for o in model.graph.output[:8])
            raise InspectorError(
                f"{path}: output {quoted(wanted)} (from the model's \"output\" metadata) is "
                f"not a float (N, classes) output of this model; its outputs: {names}"
            )
        order = [wanted]
    for name in order:
        if _is_scores(by_name[name]):
            return ScoreOutput(name, name in exposed or _is_probability(model, name))
    names = ", ".join(f"{quoted(o.name)}: {_kind(o)}" for o in model.graph.output[:5])
    raise InspectorError(
        f"{path}: none of its outputs ({names}) is a float tensor (N, classes); a "
        "classifier returning scores is expected"
    )


def _kind(value_info) -> str:
    """An output's type in a word: int64, float32 of rank 4, a sequence, ..."""
    from onnx import helper

    if not value_info.type.HasField("tensor_type"):
        return value_info.type.WhichOneof("value") or "untyped"
    tensor_type = value_info.type.tensor_type
    try:
        name = str(helper.tensor_dtype_to_np_dtype(tensor_type.elem_type))
    except Exception:
        name = f"element type {tensor_type.elem_type}"
    if tensor_type.HasField("shape") and tensor_type.elem_type in _FLOAT_TYPES:
        name += f" of rank {len(tensor_type.shape.dim)}"
    return name


def _is_scores(value_info) -> bool:
    """A float tensor of rank 2, or of unknown rank."""
    if not value_info.type.HasField("tensor_type"):
        return False
    tensor_type = value_info.type.tensor_type
    rank = len(tensor_type.shape.dim) if tensor_type.HasField("shape") else None
    return tensor_type.elem_type in _FLOAT_TYPES and rank in (2, None)


def _is_probability(model, name: str) -> bool:
    """Whether `name` comes out of a Softmax (through Identity/Cast/Reshape at most)."""
    producers = {out: node for node in model.graph.node for out in node.output}
    node = producers.get(name)
    while node is not None and node.op_type in ("Identity", "Cast", "Reshape", "Flatten"):
        node = producers.get(node.input[0])
    return node is not None and node.op_type in _PROBABILITY_OPS


class Adapted(nn.Module):
    """The interpreted graph between NCHW images and logits: layout in, log-scores out."""

    def __init__(self, graph: nn.Module, layout: Layout, output: ScoreOutput) -> None:
        super().__init__()
        self.graph, self.layout, self.output = graph, layout, output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output.torch(self.graph(self.layout.torch(x)))
