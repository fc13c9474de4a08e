"""Elementwise operators: arithmetic, comparisons, activations, casts."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_torch.registry import Node, op
from inspector.core.models.onnx_torch.tensors import aligned, bounded, dtype_of


def _binary(fn):
    def run(node: Node, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = aligned(a, b)
        return fn(a, b)

    return run


op("Add")(_binary(torch.add))
op("Sub")(_binary(torch.sub))
op("Mul")(_binary(torch.mul))
op("Equal")(_binary(torch.eq))
op("Less")(_binary(torch.lt))
op("Greater")(_binary(torch.gt))
op("LessOrEqual")(_binary(torch.le))
op("GreaterOrEqual")(_binary(torch.ge))
op("And")(_binary(torch.logical_and))
op("Or")(_binary(torch.logical_or))
op("Xor")(_binary(torch.logical_xor))


@op("Div")
def div(node: Node, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = aligned(a, b)
    if a.is_floating_point() or b.is_floating_point():
        return a / b
    return torch.div(a, b, rounding_mode="trunc")  # ONNX integer division truncates


@op("Pow")
def power(node: Node, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = aligned(a, b)
    if b.numel() == 1 and b.is_floating_point() and float(b) == 2.0:
        return a * a  # the exact value, and a simpler gradient at 0
    return torch.pow(a, b.to(a.dtype) if a.is_floating_point() else b)


@op("Mod")
def mod(node: Node, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = aligned(a, b)
    return torch.fmod(a, b) if node.attr("fmod", 0) else torch.remainder(a, b)


def _variadic(fn):
    def run(node: Node, *xs: torch.Tensor) -> torch.Tensor:
        xs = tuple(aligned(*xs))
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out

    return run


op("Max")(_variadic(torch.maximum))
op("Min")(_variadic(torch.minimum))
op("Sum")(_variadic(torch.add))


@op("Mean")
def mean(node: Node, *xs: torch.Tensor) -> torch.Tensor:
    return _variadic(torch.add)(node, *xs) / len(xs)


def _unary(fn):
    def run(node: Node, x: torch.Tensor) -> torch.Tensor:
        return fn(x)

    return run


for _name, _fn in {
    "Sqrt": torch.sqrt,
    "Neg": torch.neg,
    "Abs": torch.abs,
    "Exp": torch.exp,
    "Log": torch.log,
    "Erf": torch.erf,
    "Reciprocal": torch.reciprocal,
    "Floor": torch.floor,
    "Ceil": torch.ceil,
    "Round": torch.round,
    "Sign": torch.sign,
    "Sin": torch.sin,
    "Cos": torch.cos,
    "Tanh": torch.tanh,
    "Sigmoid": torch.sigmoid,
    "Relu": torch.relu,
    "Softplus": F.softplus,
    "Softsign": F.softsign,
    "Not": torch.logical_not,
    "IsNaN": torch.isnan,
}.items():
    op(_name)(_unary(_fn))


@op("Identity")
def identity(node: Node, x: torch.Tensor) -> torch.Tensor:
    return x


@op("Dropout", folds=False)
def dropout(node: Node, x: torch.Tensor, *rest: torch.Tensor | None):
    """Inference: the identity (and an all-true mask where the graph asks for one)."""
    return x, torch.ones_like(x, dtype=torch.bool)


@op("LeakyRelu")
def leaky_relu(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, node.attr("alpha", 0.01))


@op("PRelu")
def prelu(node: Node, x: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
    x, slope = aligned(x, slope)
    return torch.where(x >= 0, x, x * slope)


@op("Elu")
def elu(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.elu(x, node.attr("alpha", 1.0))


@op("Celu")
def celu(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.celu(x, node.attr("alpha", 1.0))


@op("Selu")
def selu(node: Node, x: torch.Tensor) -> torch.Tensor:
    alpha = node.attr("alpha", 1.67326319217681884765625)
    gamma = node.attr("gamma", 1.05070102214813232421875)
    return gamma * torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


@op("HardSigmoid")
def hard_sigmoid(node: Node, x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(node.attr("alpha", 0.2) * x + node.attr("beta", 0.5), 0.0, 1.0)


@op("HardSwish", first=14)
def hard_swish(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.hardswish(x)


@op("Mish", first=18)
def mish(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.mish(x)


@op("Gelu", first=20)
def gelu(node: Node, x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate=node.attr("approximate", "none"))


@op("Clip")
def clip(node: Node, x: torch.Tensor, low=None, high=None) -> torch.Tensor:
    """Clip-6 bounds are attributes, Clip-11+ optional inputs."""
    low = node.attr("min", None) if low is None and node.opset < 11 else low
    high = node.attr("max", None) if high is None and node.opset < 11 else high
    if low is not None:
        x = torch.maximum(x, torch.as_tensor(low, dtype=x.dtype, device=x.device))
    if high is not None:
        x = torch.minimum(x, torch.as_tensor(high, dtype=x.dtype, device=x.device))
    return x


@op("Cast")
def cast(node: Node, x: torch.Tensor) -> torch.Tensor:
    return x.to(dtype_of(node.attr("to"), f"Cast node {node.name!r}"))


@op("CastLike")
def cast_like(node: Node, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return x.to(like.dtype)


@op("Where")
def where(node: Node, cond: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cond, a, b = aligned(cond, a, b)
    return torch.where(cond, a, b)


@op("Einsum")
def einsum(node: Node, *xs: torch.Tensor) -> torch.Tensor:
    return torch.einsum(node.attr("equation").replace(" ", ""), *aligned(*xs))


@op("MatMul")
def matmul(node: Node, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = aligned(a, b)
    return torch.matmul(a, b)


@op("Gemm")
def gemm(node: Node, a: torch.Tensor, b: torch.Tensor, c=None) -> torch.Tensor:
    a, b, c = aligned(a, b, c)
    a = a.t() if node.attr("transA", 0) else a
    b = b.t() if node.attr("transB", 0) else b
    alpha, beta = node.attr("alpha", 1.0), node.attr("beta", 1.0)
    if c is None:
        return alpha * (a @ b) if alpha != 1.0 else a @ b
    if alpha == 1.0 and beta == 1.0 and c.dim() <= 1:
        return F.linear(a, b.t(), c)
    return torch.addmm(c.expand(a.shape[0], b.shape[1]), a, b, beta=beta, alpha=alpha)


@op("Range")
def arange(node: Node, start: torch.Tensor, limit: torch.Tensor, delta: torch.Tensor):
    values = [v.item() for v in (start, limit, delta)]
    if values[2] == 0:
        raise InspectorError(f"operator 'Range' (node {node.name!r}) has a step of 0")
    count = bounded(node, [max(math.ceil((values[1] - values[0]) / values[2]), 0)])[0]
    return values[0] + torch.arange(count, dtype=start.dtype) * values[2]
