"""Reductions, softmax and arg-max: axes as an attribute (older opsets) or as an input."""

from __future__ import annotations

import torch

from inspector.core.models.onnx_torch.registry import Node, op
from inspector.core.models.onnx_torch.tensors import ints


def _axes(node: Node, x: torch.Tensor, axes: torch.Tensor | None) -> tuple[int, ...] | None:
    """The reduced axes; None means all of them (or none, with noop_with_empty_axes)."""
    listed = ints(axes) if axes is not None else node.attr("axes", None)
    if not listed:
        return None
    return tuple(a % max(x.dim(), 1) for a in listed)


def _reduction(reduce_all, reduce_axes):
    def run(node: Node, x: torch.Tensor, axes: torch.Tensor | None = None) -> torch.Tensor:
        keep = bool(node.attr("keepdims", 1))
        dims = _axes(node, x, axes)
        if dims is None:
            if node.attr("noop_with_empty_axes", 0):
                return x
            dims = tuple(range(x.dim()))
        if not dims:
            return x
        return reduce_axes(x, dims, keep)

    return run


def _max(x, dims, keep):
    return x.amax(dim=dims, keepdim=keep)


def _min(x, dims, keep):
    return x.amin(dim=dims, keepdim=keep)


def _prod(x, dims, keep):
    for dim in sorted(dims, reverse=True):
        x = x.prod(dim=dim, keepdim=keep)
    return x


op("ReduceMean")(_reduction(None, lambda x, d, k: x.mean(dim=d, keepdim=k)))
op("ReduceSum")(_reduction(None, lambda x, d, k: x.sum(dim=d, keepdim=k)))
op("ReduceMax")(_reduction(None, _max))
op("ReduceMin")(_reduction(None, _min))
op("ReduceProd")(_reduction(None, _prod))
op("ReduceL1")(_reduction(None, lambda x, d, k: x.abs().sum(dim=d, keepdim=k)))
op("ReduceL2")(_reduction(None, lambda x, d, k: (x * x).sum(dim=d, keepdim=k).sqrt()))
op("ReduceSumSquare")(_reduction(None, lambda x, d, k: (x * x).sum(dim=d, keepdim=k)))
op("ReduceLogSumExp")(_reduction(None, lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k)))


def _softmax(fn):
    """Softmax-13+ works along `axis` (default -1); before 13 over the flattened axis.. end."""

    def run(node: Node, x: torch.Tensor) -> torch.Tensor:
        if node.opset >= 13:
            return fn(x, dim=node.attr("axis", -1))
        axis = node.attr("axis", 1) % x.dim()
        flat = x.reshape(*x.shape[:axis], -1)
        return fn(flat, dim=-1).reshape(x.shape)

    return run


op("Softmax")(_softmax(torch.softmax))
op("LogSoftmax")(_softmax(torch.log_softmax))


def _arg(fn):
    def run(node: Node, x: torch.Tensor) -> torch.Tensor:
        axis = node.attr("axis", 0) % x.dim()
        keep = bool(node.attr("keepdims", 1))
        if node.attr("select_last_index", 0):
            flipped = fn(x.flip(axis), dim=axis, keepdim=keep)
            return x.shape[axis] - 1 - flipped
        return fn(x, dim=axis, keepdim=keep)

    return run


op("ArgMax")(_arg(torch.argmax))
op("ArgMin")(_arg(torch.argmin))


@op("CumSum")
def cumsum(node: Node, x: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    dim = int(axis) % x.dim()
    y = x.flip(dim) if node.attr("reverse", 0) else x
    out = torch.cumsum(y, dim)
    if node.attr("exclusive", 0):
        out = out - y
    return out.flip(dim) if node.attr("reverse", 0) else out
