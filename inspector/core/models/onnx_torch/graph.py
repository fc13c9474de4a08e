"""The interpreter: an ONNX graph run node by node in torch, so gradients flow through it.

Built from the checked in-memory ModelProto only (never a path). Float initializers become
buffers that follow the module to its device; integer ones (shapes, axes) stay on the CPU.
Only the nodes the chosen output depends on are kept, and nodes whose inputs are all
constants are evaluated once here (the shape arithmetic of a static graph disappears).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_torch.registry import (
    NEWEST_OPSET,
    OLDEST_OPSET,
    Node,
    OpFunction,
    lookup,
)
from inspector.core.models.onnx_torch.tensors import attribute_values, tensor_from_proto


@dataclass(frozen=True)
class Step:
    """One node to run: its function, its context, and the value names in and out."""

    fn: OpFunction
    node: Node
    inputs: tuple[str, ...]  # "" for an omitted optional input
    outputs: tuple[str, ...]
    folds: bool = True  # may run once at build time when all its inputs are constants


def onnx_opset(model, domain: str = "") -> int:
    """The opset the model declares for a domain ("" is ai.onnx)."""
    names = ("", "ai.onnx") if domain in ("", "ai.onnx") else (domain,)
    for entry in model.opset_import:
        if entry.domain in names:
            return int(entry.version)
    return 1


class OnnxGraph(nn.Module):
    """A differentiable forward of one ONNX graph from its image input to one output."""

    def __init__(self, model, input_name: str, output_name: str) -> None:
        super().__init__()
        self.input_name, self.output_name = input_name, output_name
        opsets = {d: onnx_opset(model, d) for d in ("", "ai.onnx.ml")}
        constants = _initializers(model)
        needed = _needed_nodes(model.graph, output_name, input_name)
        self.steps: list[Step] = []
        for proto in needed:
            step = _step(proto, opsets)
            if _can_fold(step, constants):
                _fold(step, constants)
            else:
                self.steps.append(step)
        self.cpu_constants: dict[str, torch.Tensor] = {}
        self._names: dict[str, str] = {}
        for index, (name, value) in enumerate(constants.items()):
            if value.is_floating_point():
                self._names[name] = f"c{index}"
                self.register_buffer(f"c{index}", value, persistent=False)
            else:
                self.cpu_constants[name] = value

        self.tap: nn.Module | None = None
        self._tap_after = -1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = dict(self.cpu_constants)
        for name, buffer in self._names.items():
            values[name] = getattr(self, buffer)
        values[self.input_name] = x
        for index, step in enumerate(self.steps):
            args = [values[name] if name else None for name in step.inputs]
            out = step.fn(step.node, *args)
            if index == self._tap_after and self.tap is not None:
                out = self.tap(out)
            _store(values, step, out)
        return values[self.output_name]

    def tap_after_last_conv(self) -> tuple[nn.Module, nn.Module, str] | None:
        """A copy sharing every tensor whose last 2-D Conv output passes an nn.Identity
        (for Grad-CAM's hooks), the identity, and the node's label; None without a Conv."""
        convs = [i for i, s in enumerate(self.steps) if s.node.op_type == "Conv"]
        convs = [i for i in convs if len(self.steps[i].node.attr("kernel_shape", [0, 0])) == 2]
        if not convs:
            return None
        clone = copy.copy(self)
        clone._modules = dict(self._modules)  # never touch the original's children
        clone.tap = nn.Identity()
        clone._tap_after = convs[-1]
        step = self.steps[convs[-1]]
        return clone, clone.tap, f"onnx graph/conv node {step.node.name or step.outputs[0]}"


def _initializers(model) -> dict[str, torch.Tensor]:
    return {
        init.name: tensor_from_proto(init, f"initializer {init.name!r}")
        for init in model.graph.initializer
    }


def _needed_nodes(graph, output_name: str, input_name: str) -> list:
    """The nodes `output_name` depends on, in graph order (ONNX graphs are sorted)."""
    producers = {name: node for node in graph.node for name in node.output}
    wanted, pending, seen = set(), [output_name], set()
    while pending:
        name = pending.pop()
        if name in seen or name == input_name or name not in producers:
            continue
        seen.add(name)
        node = producers[name]
        if id(node) not in wanted:
            wanted.add(id(node))
            pending.extend(n for n in node.input if n)
    return [node for node in graph.node if id(node) in wanted]


def _step(proto, opsets: dict[str, int]) -> Step:
    label = f"node {proto.name!r}" if proto.name else f"a {proto.op_type} node"
    default = proto.domain in ("", "ai.onnx")
    opset = opsets[""] if default else opsets.get(proto.domain, 1)
    key = proto.op_type if default else f"{proto.domain}:{proto.op_type}"
    entry = lookup(key, opset) if default or proto.domain == "ai.onnx.ml" else None
    if entry is None:
        raise unsupported(proto, opset, "has no gradient path")
    attrs = attribute_values(proto, label)
    attrs["_outputs"] = len(proto.output)
    node = Node(proto.op_type, proto.name, opset, attrs)
    return Step(entry.fn, node, tuple(proto.input), tuple(proto.output), entry.folds)


def unsupported(proto, opset: int, why: str) -> InspectorError:
    """The one-line refusal: op, opset, node, and what still works."""
    name = f", node {proto.name!r}" if proto.name else ""
    if proto.domain not in ("", "ai.onnx"):
        name += f", domain {proto.domain!r}"
    span = f"opsets {OLDEST_OPSET}-{NEWEST_OPSET}"
    return InspectorError(
        f"operator {proto.op_type!r} (opset {opset}{name}) {why} (gradients cover the "
        f"standard image-classifier operators of {span}), so gradient attacks are "
        "unavailable; Square runs through onnxruntime, or load a torch format"
    )


def _can_fold(step: Step, constants: dict[str, torch.Tensor]) -> bool:
    return step.folds and all(not n or n in constants for n in step.inputs)


def _fold(step: Step, constants: dict[str, torch.Tensor]) -> None:
    args = [constants[name] if name else None for name in step.inputs]
    with torch.no_grad():
        out = step.fn(step.node, *args)
    _store(constants, step, out)


def _store(values: dict, step: Step, out) -> None:
    if isinstance(out, tuple):
        for name, value in zip(step.outputs, out, strict=False):
            if name:
                values[name] = value
    else:
        values[step.outputs[0]] = out
