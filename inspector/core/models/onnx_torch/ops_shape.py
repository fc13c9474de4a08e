"""Shape and indexing operators. Shapes are small int64 tensors kept on the CPU."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from inspector.core.models.onnx_torch.ops_nn import refuse
from inspector.core.models.onnx_torch.registry import Node, op
from inspector.core.models.onnx_torch.tensors import aligned, bounded, ints


@op("Shape")
def shape(node: Node, x: torch.Tensor) -> torch.Tensor:
    dims = list(x.shape)[node.attr("start", 0) : node.attr("end", None)]
    return torch.tensor(dims, dtype=torch.int64)


@op("Size")
def size(node: Node, x: torch.Tensor) -> torch.Tensor:
    return torch.tensor(x.numel(), dtype=torch.int64)


@op("Constant")
def constant(node: Node) -> torch.Tensor:
    for key, dtype in (("value_float", torch.float32), ("value_int", torch.int64)):
        if key in node.attrs:
            return torch.tensor(node.attrs[key], dtype=dtype)
    for key, dtype in (("value_floats", torch.float32), ("value_ints", torch.int64)):
        if key in node.attrs:
            return torch.tensor(list(node.attrs[key]), dtype=dtype)
    if "value" not in node.attrs:
        raise refuse(node, "a Constant without a value, value_float(s) or value_int(s)")
    return node.attrs["value"]


@op("ConstantOfShape")
def constant_of_shape(node: Node, dims: torch.Tensor) -> torch.Tensor:
    value = node.attr("value", torch.zeros(1))
    return torch.full(bounded(node, ints(dims)), value.reshape(-1)[0].item(), dtype=value.dtype)


@op("Flatten")
def flatten(node: Node, x: torch.Tensor) -> torch.Tensor:
    axis = node.attr("axis", 1) % (x.dim() + 1) if x.dim() else 0
    return x.reshape(math.prod(x.shape[:axis]), -1)


@op("Reshape")
def reshape(node: Node, x: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
    target = ints(dims)
    if not node.attr("allowzero", 0):
        target = [x.shape[i] if d == 0 else d for i, d in enumerate(target)]
    return x.reshape(target)


@op("Transpose")
def transpose(node: Node, x: torch.Tensor) -> torch.Tensor:
    perm = node.attr("perm", list(reversed(range(x.dim()))))
    return x.permute(*perm)


@op("Squeeze")
def squeeze(node: Node, x: torch.Tensor, axes: torch.Tensor | None = None) -> torch.Tensor:
    listed = ints(axes) if axes is not None else node.attr("axes", None)
    if listed is None:
        return x.squeeze()
    dims = sorted((a % x.dim() for a in listed), reverse=True)
    for dim in dims:
        x = x.squeeze(dim)
    return x


@op("Unsqueeze")
def unsqueeze(node: Node, x: torch.Tensor, axes: torch.Tensor | None = None) -> torch.Tensor:
    listed = ints(axes) if axes is not None else list(node.attr("axes"))
    rank = x.dim() + len(listed)
    for dim in sorted(a % rank for a in listed):
        x = x.unsqueeze(dim)
    return x


@op("Concat")
def concat(node: Node, *xs: torch.Tensor) -> torch.Tensor:
    xs = tuple(aligned(*xs))
    dtype = xs[0].dtype
    return torch.cat([x.to(dtype) for x in xs], dim=node.attr("axis"))


@op("Split")
def split(node: Node, x: torch.Tensor, parts: torch.Tensor | None = None):
    axis = node.attr("axis", 0) % x.dim()
    sizes = ints(parts) if parts is not None else node.attr("split", None)
    if sizes is None:
        count = node.attr("num_outputs", None) or node.attr("_outputs")
        sizes = [-(-x.shape[axis] // count)] * count
        sizes[-1] = x.shape[axis] - sum(sizes[:-1])
    return tuple(torch.split(x, list(sizes), dim=axis))


@op("Slice")
def slice_(node: Node, x, starts=None, ends=None, axes=None, steps=None) -> torch.Tensor:
    """Slice-10+ bounds are inputs; Python's slice clamping is ONNX's, negative steps too."""
    begin, end = ints(starts), ints(ends)
    dims = ints(axes) if axes is not None else list(range(len(begin)))
    stride = ints(steps) if steps is not None else [1] * len(begin)
    for b, e, axis, s in zip(begin, end, dims, stride, strict=False):
        axis %= x.dim()
        window = slice(b, e, s).indices(x.shape[axis])
        if s > 0:
            x = x[(slice(None),) * axis + (slice(*window),)]
        else:
            index = torch.arange(*window, device=x.device)
            x = x.index_select(axis, index)
    return x


@op("Gather")
def gather(node: Node, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    axis = node.attr("axis", 0) % x.dim()
    indices = indices.to(x.device)
    flat = torch.where(indices < 0, indices + x.shape[axis], indices).reshape(-1)
    picked = x.index_select(axis, flat)
    return picked.reshape((*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :]))


@op("GatherElements")
def gather_elements(node: Node, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    axis = node.attr("axis", 0) % x.dim()
    indices = indices.to(x.device)
    return torch.gather(x, axis, torch.where(indices < 0, indices + x.shape[axis], indices))


@op("Expand")
def expand(node: Node, x: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
    target = torch.broadcast_shapes(tuple(x.shape), tuple(bounded(node, ints(dims))))
    return x.expand(bounded(node, target))


@op("Tile")
def tile(node: Node, x: torch.Tensor, repeats: torch.Tensor) -> torch.Tensor:
    times = ints(repeats)
    bounded(node, [a * b for a, b in zip(x.shape, times, strict=False)])
    return x.repeat(*times)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@op("Pad")
def pad(node: Node, x: torch.Tensor, pads=None, value=None, axes=None) -> torch.Tensor:
    mode = node.attr("mode", "constant")
    if mode not in _PAD_MODES:
        raise refuse(node, f"mode {mode!r}")
    listed = ints(pads) if pads is not None else list(node.attr("pads"))
    dims = ints(axes) if axes is not None else list(range(x.dim()))
    half = len(dims)
    full = [0] * (2 * x.dim())
    for i, axis in enumerate(dims):
        full[axis % x.dim()] = listed[i]
        full[axis % x.dim() + x.dim()] = listed[i + half]
    bounded(node, [max(0, d + full[a] + full[a + x.dim()]) for a, d in enumerate(x.shape)])
    spec: list[int] = []
    for axis in reversed(range(x.dim())):
        spec += [full[axis], full[axis + x.dim()]]
    while len(spec) > 2 and spec[-2:] == [0, 0] and mode != "constant":
        spec = spec[:-2]  # torch pads only trailing dimensions outside constant mode
    if mode == "constant":
        fill = float(value.reshape(-1)[0]) if value is not None and value.numel() else 0.0
        fill = node.attr("value", fill) if node.opset < 11 else fill
        return F.pad(x, spec, value=fill)
    return F.pad(x, spec, mode=_PAD_MODES[mode])


@op("Trilu")
def trilu(node: Node, x: torch.Tensor, k: torch.Tensor | None = None) -> torch.Tensor:
    offset = int(k) if k is not None else 0
    return torch.triu(x, offset) if node.attr("upper", 1) else torch.tril(x, offset)
