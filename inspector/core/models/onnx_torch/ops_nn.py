"""Layers: convolutions, pooling, normalisations, resizing."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_torch.registry import Node, op
from inspector.core.models.onnx_torch.tensors import aligned, bounded, ints

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def refuse(node: Node, what: str) -> InspectorError:
    return InspectorError(
        f"operator {node.op_type!r} (opset {node.opset}, node {node.name!r}): {what} is not "
        "supported on the gradient path"
    )


def _pads(node: Node, x: torch.Tensor, kernel: list[int], strides, dilations) -> list[int]:
    """ONNX pads [b1, b2, ..., e1, e2, ...], auto_pad resolved against the input shape."""
    rank = len(kernel)
    mode = node.attr("auto_pad", "NOTSET")
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations, strict=False):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begins.append(small if mode == "SAME_UPPER" else large)
            ends.append(large if mode == "SAME_UPPER" else small)
        return begins + ends
    if mode == "VALID":
        return [0] * (2 * rank)
    pads = list(node.attr("pads", [0] * (2 * rank)))
    if len(pads) != 2 * rank:
        raise refuse(node, f"pads {pads[:8]} for a {rank}-d kernel")
    padded = [size + pads[i] + pads[i + rank] for i, size in enumerate(x.shape[2:])]
    bounded(node, [*x.shape[:2], *padded])  # a hostile pad must not allocate gigabytes
    return pads


def _symmetric(pads: list[int]) -> bool:
    half = len(pads) // 2
    return pads[:half] == pads[half:]


def _torch_pad(pads: list[int]) -> list[int]:
    """ONNX [b1, b2, e1, e2] → F.pad's [b2, e2, b1, e1] (last dimension first)."""
    half = len(pads) // 2
    out: list[int] = []
    for axis in reversed(range(half)):
        out += [pads[axis], pads[axis + half]]
    return out


def _geometry(node: Node, kernel: list[int]) -> tuple[list[int], list[int]]:
    rank = len(kernel)
    return list(node.attr("strides", [1] * rank)), list(node.attr("dilations", [1] * rank))


@op("Conv")
def conv(node: Node, x: torch.Tensor, w: torch.Tensor, b=None) -> torch.Tensor:
    x, w, b = aligned(x, w, b)
    kernel = list(node.attr("kernel_shape", w.shape[2:]))
    if len(kernel) not in _CONV:
        raise refuse(node, f"a {len(kernel)}-d convolution")
    strides, dilations = _geometry(node, kernel)
    pads = _pads(node, x, kernel, strides, dilations)
    padding = pads[: len(kernel)]
    if not _symmetric(pads):
        x, padding = F.pad(x, _torch_pad(pads)), [0] * len(kernel)
    return _CONV[len(kernel)](x, w, b, strides, padding, dilations, node.attr("group", 1))


@op("ConvTranspose")
def conv_transpose(node: Node, x: torch.Tensor, w: torch.Tensor, b=None) -> torch.Tensor:
    x, w, b = aligned(x, w, b)
    kernel = list(node.attr("kernel_shape", w.shape[2:]))
    rank = len(kernel)
    if rank not in _CONV_T or node.attr("output_shape") is not None:
        raise refuse(node, "output_shape or a convolution of this rank")
    if node.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise refuse(node, "auto_pad SAME")
    strides, dilations = _geometry(node, kernel)
    pads = list(node.attr("pads", [0] * (2 * rank)))
    grown = [
        (d - 1) * s + (k - 1) * dl + 1
        for d, s, k, dl in zip(x.shape[2:], strides, kernel, dilations, strict=False)
    ]
    bounded(node, [x.shape[0], w.shape[1] * node.attr("group", 1), *grown])
    extra = list(node.attr("output_padding", [0] * rank))
    group = node.attr("group", 1)
    if _symmetric(pads):
        return _CONV_T[rank](x, w, b, strides, pads[:rank], extra, group, dilations)
    out = _CONV_T[rank](x, w, b, strides, 0, extra, group, dilations)
    index = [slice(None), slice(None)]
    index += [slice(pads[i], out.shape[2 + i] - pads[i + rank]) for i in range(rank)]
    return out[tuple(index)]


def _pool_setup(node: Node, x: torch.Tensor):
    kernel = list(node.attr("kernel_shape"))
    if len(kernel) not in _MAX_POOL:
        raise refuse(node, f"{len(kernel)}-d pooling")
    strides, dilations = _geometry(node, kernel)
    pads = _pads(node, x, kernel, strides, dilations)
    return kernel, strides, dilations, pads


@op("MaxPool", folds=False)
def max_pool(node: Node, x: torch.Tensor):
    kernel, strides, dilations, pads = _pool_setup(node, x)
    if node.attr("storage_order", 0):
        raise refuse(node, "storage_order 1")
    half = pads[: len(kernel)]
    if not _symmetric(pads) or any(p > k // 2 for p, k in zip(half, kernel, strict=False)):
        x, half = F.pad(x, _torch_pad(pads), value=float("-inf")), [0] * len(kernel)
    ceil = bool(node.attr("ceil_mode", 0))
    out = _MAX_POOL[len(kernel)](x, kernel, strides, half, dilations, ceil_mode=ceil)
    return out, None


@op("AveragePool")
def average_pool(node: Node, x: torch.Tensor) -> torch.Tensor:
    kernel, strides, dilations, pads = _pool_setup(node, x)
    if any(d != 1 for d in dilations):
        raise refuse(node, "dilated average pooling")
    include = bool(node.attr("count_include_pad", 0))
    ceil = bool(node.attr("ceil_mode", 0))
    pool = _AVG_POOL[len(kernel)]
    half = pads[: len(kernel)]
    if _symmetric(pads) and all(p <= k // 2 for p, k in zip(half, kernel, strict=False)):
        return pool(x, kernel, strides, half, ceil_mode=ceil, count_include_pad=include)
    padded = F.pad(x, _torch_pad(pads))
    total = pool(padded, kernel, strides, 0, ceil_mode=ceil, count_include_pad=True)
    if include:
        return total
    ones = F.pad(torch.ones_like(x[:1, :1]), _torch_pad(pads))
    return total / pool(ones, kernel, strides, 0, ceil_mode=ceil, count_include_pad=True)


@op("GlobalAveragePool")
def global_average_pool(node: Node, x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)


@op("GlobalMaxPool")
def global_max_pool(node: Node, x: torch.Tensor) -> torch.Tensor:
    return x.amax(dim=tuple(range(2, x.dim())), keepdim=True)


@op("BatchNormalization", folds=False)
def batch_norm(node: Node, x, scale, bias, mean, var, *rest):
    """Inference form: the running statistics (training_mode=1 is refused)."""
    if node.attr("training_mode", 0):
        raise refuse(node, "training_mode 1")
    x, scale, bias, mean, var = aligned(x, scale, bias, mean, var)
    eps = node.attr("epsilon", 1e-5)
    return F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)


@op("InstanceNormalization")
def instance_norm(node: Node, x, scale, bias) -> torch.Tensor:
    x, scale, bias = aligned(x, scale, bias)
    return F.instance_norm(x, weight=scale, bias=bias, eps=node.attr("epsilon", 1e-5))


@op("LayerNormalization", first=17, folds=False)
def layer_norm(node: Node, x, scale, bias=None):
    x, scale, bias = aligned(x, scale, bias)
    axis = node.attr("axis", -1) % x.dim()
    eps = node.attr("epsilon", 1e-5)
    shape = tuple(x.shape[axis:])
    if tuple(scale.shape) == shape and (bias is None or tuple(bias.shape) == shape):
        return F.layer_norm(x, shape, scale, bias, eps), None, None
    dims = tuple(range(axis, x.dim()))
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    out = (x - mean) / torch.sqrt(var + eps) * scale
    return (out if bias is None else out + bias), None, None


@op("GroupNormalization", first=18)
def group_norm(node: Node, x, scale, bias) -> torch.Tensor:
    """GroupNormalization-18 has one scale per group, -21 one per channel."""
    x, scale, bias = aligned(x, scale, bias)
    groups = node.attr("num_groups")
    channels = x.shape[1]
    if scale.numel() != channels:
        scale = scale.repeat_interleave(channels // groups)
        bias = bias.repeat_interleave(channels // groups)
    return F.group_norm(x, groups, scale, bias, node.attr("epsilon", 1e-5))


@op("LRN")
def lrn(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.local_response_norm(
        x,
        node.attr("size"),
        node.attr("alpha", 1e-4),
        node.attr("beta", 0.75),
        node.attr("bias", 1.0),
    )


_LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


@op("Resize")
def resize(node: Node, x: torch.Tensor, roi=None, scales=None, sizes=None) -> torch.Tensor:
    """nearest (asymmetric, floor) and linear (half_pixel, pytorch_half_pixel, align_corners)."""
    mode = node.attr("mode", "nearest")
    transform = node.attr("coordinate_transformation_mode", "half_pixel")
    size = ints(sizes) if sizes is not None and sizes.numel() else None
    factors = None if size else [float(s) for s in scales.reshape(-1).tolist()]
    if (factors is not None and factors[:2] != [1.0, 1.0]) or (
        size and size[:2] != list(x.shape[:2])
    ):
        raise refuse(node, "resizing the batch or channel axes")
    out = size[2:] if size else [int(d * f) for d, f in zip(x.shape[2:], factors[2:], strict=False)]
    bounded(node, [*x.shape[:2], *out])
    kwargs = {"size": size[2:]} if size else {"scale_factor": factors[2:]}
    if mode == "nearest":
        rounding = node.attr("nearest_mode", "round_prefer_floor")
        if transform != "asymmetric" or rounding != "floor":
            raise refuse(node, f"nearest resizing with {transform}/{rounding}")
        return F.interpolate(x, mode="nearest", **kwargs)
    if mode == "linear" and x.dim() in _LINEAR:
        if transform not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            raise refuse(node, f"linear resizing with {transform}")
        align = transform == "align_corners"
        return F.interpolate(x, mode=_LINEAR[x.dim()], align_corners=align, **kwargs)
    raise refuse(node, f"{mode} resizing")


@op("Upsample", first=7, last=9)
def upsample(node: Node, x: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    if node.attr("mode", "nearest") != "nearest":
        raise refuse(node, "linear Upsample")
    factors = [float(s) for s in scales.reshape(-1).tolist()]
    return F.interpolate(x, scale_factor=factors[2:], mode="nearest")
