"""ONNX tensors and element types as torch values, read from the checked in-memory proto."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_graphs import MAX_TENSOR_VALUES

# onnx.TensorProto.DataType → torch dtype (the types image classifiers use)
DTYPES = {
    1: torch.float32,
    2: torch.uint8,
    3: torch.int8,
    5: torch.int16,
    6: torch.int32,
    7: torch.int64,
    9: torch.bool,
    10: torch.float16,
    11: torch.float64,
    16: torch.bfloat16,
}


def dtype_of(code: int, what: str) -> torch.dtype:
    if code not in DTYPES:
        raise InspectorError(
            f"{what}: ONNX element type {code} is not supported on the gradient path"
        )
    return DTYPES[code]


def tensor_from_proto(proto, what: str) -> torch.Tensor:
    """A TensorProto as a CPU tensor; external data must already have been read into it."""
    from onnx import numpy_helper

    if proto.data_location == 1:  # EXTERNAL: never let onnx resolve a path itself
        raise InspectorError(f"{what}: tensor {proto.name!r} still refers to external data")
    dtype_of(proto.data_type, what)
    array = np.array(numpy_helper.to_array(proto))  # a copy: torch needs writable memory
    return torch.from_numpy(array)


def attribute_values(node, what: str) -> dict[str, Any]:
    """A node's attributes as Python values (text decoded, tensors as torch tensors)."""
    from onnx import helper

    values: dict[str, Any] = {}
    for attribute in node.attribute:
        if attribute.type in (4, 9):  # TENSOR, TENSORS
            items = [attribute.t] if attribute.type == 4 else list(attribute.tensors)
            converted = [tensor_from_proto(t, what) for t in items]
            values[attribute.name] = converted[0] if attribute.type == 4 else converted
            continue
        if attribute.type in (5, 10, 11, 12, 13, 14):  # GRAPH(S), SPARSE_TENSOR(S), TYPE_PROTO(S)
            raise InspectorError(
                f"{what}: attribute {attribute.name!r} holds a subgraph or sparse tensor, "
                "which the gradient path does not run"
            )
        value = helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8", "replace") for v in value]
        values[attribute.name] = value
    return values


def ints(value: torch.Tensor | None) -> list[int] | None:
    """A shape-like tensor (axes, pads, sizes) as Python ints."""
    if value is None:
        return None
    return [int(v) for v in value.reshape(-1).tolist()]


def aligned(*tensors: torch.Tensor | None) -> list[torch.Tensor | None]:
    """Move CPU tensors (shape arithmetic, folded constants) to the device of the others."""
    device = next((t.device for t in tensors if t is not None and t.device.type != "cpu"), None)
    if device is None:
        return list(tensors)
    return [t.to(device) if t is not None and t.device != device else t for t in tensors]


def bounded(node, shape: list[int] | tuple[int, ...]) -> list[int]:
    """Refuse, before allocating, an op output (ConstantOfShape, Expand, Tile, Range) of
    more than MAX_TENSOR_VALUES values or with a negative size: a hostile graph's bomb."""
    sizes = [int(s) for s in shape]
    values = 1
    for size in sizes:
        if size < 0:
            raise InspectorError(
                f"operator {node.op_type!r} (node {node.name!r}) asks for a negative size "
                f"{sizes}; the model is damaged"
            )
        values *= size
    if values > MAX_TENSOR_VALUES:
        raise InspectorError(
            f"operator {node.op_type!r} (node {node.name!r}) would make a tensor of "
            f"{values:,} values, more than the {MAX_TENSOR_VALUES:,} allowed; running the "
            "model would exhaust memory"
        )
    return sizes
