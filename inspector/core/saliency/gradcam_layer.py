"""Find the last convolution of a loaded model and give Grad-CAM a layer to hook there.

Grad-CAM needs the activations of a convolutional layer and their gradients, which captum
reads with forward hooks on an `nn.Module`. Loaded models rarely expose one directly:
a `torch.export` program is a graph of aten calls (no `nn.Conv2d` left), an ONNX graph is
interpreted node by node (onnx_torch offers its own tap), TorchScript runs no Python
hooks at all. So the
model is never hooked in place (an attack may be running on it in another thread): a
copy that shares every parameter gets an `nn.Identity` "tap" right after its last
convolution, and captum hooks the tap.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import fx, nn

_CONV_FUNCTIONS = {
    torch.ops.aten.conv2d.default,
    torch.ops.aten.convolution.default,
    torch.nn.functional.conv2d,
}
TAP_NAME = "_saliency_tap"


@dataclass
class TappedModel:
    """A parameter-sharing copy of the model, and the identity layer after its last conv."""

    module: nn.Module
    tap: nn.Module
    layer: str  # where the tap sits, for the record (e.g. "inner.graph/conv2d_1")


def tap_last_conv(module: nn.Module) -> TappedModel | str:
    """The tapped copy, or a one-line reason why Grad-CAM cannot be had for this model."""
    found = _tap(module, "")
    if found is not None:
        return found
    if any(isinstance(m, torch.jit.ScriptModule) for m in module.modules()):
        return "TorchScript models run no Python hooks, so Grad-CAM cannot read a conv layer"
    return "the model has no 2-D convolution (Grad-CAM needs one)"


def _tap(module: nn.Module, path: str) -> TappedModel | None:
    """Depth first, last child first: the tap goes after the last convolution found."""
    if isinstance(module, torch.jit.ScriptModule):
        return None
    if isinstance(module, fx.GraphModule):
        return _tap_graph(module, path)
    tap_onnx = getattr(module, "tap_after_last_conv", None)
    if callable(tap_onnx):  # the ONNX graph interpreter (models/onnx_torch)
        found = tap_onnx()
        return None if found is None else TappedModel(found[0], found[1], found[2])
    if isinstance(module, nn.Conv2d):
        tap = nn.Identity()
        return TappedModel(nn.Sequential(module, tap), tap, path or "conv")
    for name, child in reversed(list(module.named_children())):
        found = _tap(child, f"{path}.{name}" if path else name)
        if found is not None:
            found.module = _replace_child(module, name, found.module)
            return found
    return None


def _replace_child(parent: nn.Module, name: str, child: nn.Module) -> nn.Module:
    """A shallow copy of `parent` with one child swapped; parameters and buffers are shared."""
    clone = copy.copy(parent)
    clone._modules = dict(parent._modules)  # copy.copy shares the dict: never touch the original
    setattr(clone, name, child)
    return clone


def _is_conv_node(graph_module: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_function":
        return node.target in _CONV_FUNCTIONS
    if node.op == "call_module":
        return isinstance(graph_module.get_submodule(str(node.target)), nn.Conv2d)
    return False


def _tap_graph(graph_module: fx.GraphModule, path: str) -> TappedModel | None:
    """A new GraphModule over a copied graph (same parameters) with the tap after the last conv."""
    graph = copy.deepcopy(graph_module.graph)
    convs = [n for n in graph.nodes if _is_conv_node(graph_module, n)]
    if not convs:
        return None
    last = convs[-1]
    tapped = fx.GraphModule(graph_module, graph)
    tap = nn.Identity()
    tapped.add_submodule(TAP_NAME, tap)
    with graph.inserting_after(last):
        node = graph.call_module(TAP_NAME, (last,))
    last.replace_all_uses_with(node, delete_user_cb=lambda user: user is not node)
    tapped.recompile()
    return TappedModel(tapped, tap, f"{path or 'graph'}/{last.name}")
