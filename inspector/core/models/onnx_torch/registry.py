"""Operator → torch function, with the opset versions each function was written for.

Each op module registers its functions with `@op(...)`; the graph builder looks a node up by
its op type and the model's opset and refuses anything not listed, naming op, opset and
node, so a model never runs through a function that was not written for its version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OLDEST_OPSET = 11
NEWEST_OPSET = 22


@dataclass(frozen=True)
class Node:
    """What an op function sees of its node: attributes, the opset in force, the names."""

    op_type: str
    name: str
    opset: int
    attrs: dict[str, Any] = field(default_factory=dict)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


OpFunction = Callable[..., Any]  # fn(node, *inputs) -> Tensor | tuple[Tensor, ...]


@dataclass(frozen=True)
class OpEntry:
    fn: OpFunction
    first: int  # oldest opset the function implements
    last: int  # newest opset the function implements
    folds: bool  # may run at conversion time on constant inputs


REGISTRY: dict[str, OpEntry] = {}


def op(*names: str, first: int = OLDEST_OPSET, last: int = NEWEST_OPSET, folds: bool = True):
    """Register `fn` for op types `names`, valid for opsets first..last inclusive."""

    def register(fn: OpFunction) -> OpFunction:
        for name in names:
            REGISTRY[name] = OpEntry(fn, first, last, folds)
        return fn

    return register


def lookup(op_type: str, opset: int) -> OpEntry | None:
    """The function for `op_type` at `opset`, or None when we have none for that version."""
    _load_op_modules()
    entry = REGISTRY.get(op_type)
    if entry is None or not entry.first <= opset <= entry.last:
        return None
    return entry


def supported_ops() -> dict[str, tuple[int, int]]:
    """op type → (first, last) opset: what the README and error messages state."""
    _load_op_modules()
    return {name: (e.first, e.last) for name, e in sorted(REGISTRY.items())}


def _load_op_modules() -> None:
    from inspector.core.models.onnx_torch import (  # noqa: F401  (registers the ops)
        ops_math,
        ops_ml,
        ops_nn,
        ops_reduce,
        ops_shape,
    )
