"""Every graph, node and tensor of an ONNX model, subgraphs and functions included.

Weights can hide anywhere a TensorProto can sit: initializers of an `If`/`Loop`/`Scan`
branch, Constant nodes inside them, sparse tensors, model-local functions, training graphs.
The hash, the external-data checks and the operator check must all see the same complete
set, so they all walk the model through this module (iteratively: no recursion limit).
"""

from __future__ import annotations

from collections.abc import Iterator

from inspector.core.errors import InspectorError

# Operator domains onnxruntime implements itself; anything else needs a custom-op library.
STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
MAX_TENSOR_VALUES = 1 << 30  # one intermediate tensor: 4 GiB of float32


def all_graphs(model) -> Iterator:  # -> Iterator[onnx.GraphProto]
    """The main graph, the training graphs, and every subgraph nested in their attributes."""
    pending = [model.graph]
    for info in model.training_info:
        pending.extend([info.initialization, info.algorithm])
    for function in model.functions:
        pending.extend(_attribute_graphs(function.node))
    while pending:
        graph = pending.pop()
        yield graph
        pending.extend(_attribute_graphs(graph.node))


def _attribute_graphs(nodes) -> list:
    """The GRAPH and GRAPHS attributes of `nodes` (the branches and bodies of If/Loop/Scan)."""
    graphs = []
    for node in nodes:
        for attribute in node.attribute:
            if attribute.HasField("g"):
                graphs.append(attribute.g)
            graphs.extend(attribute.graphs)
    return graphs


def all_nodes(model) -> Iterator:  # -> Iterator[onnx.NodeProto]
    """Every node of every graph and of every model-local function."""
    for graph in all_graphs(model):
        yield from graph.node
    for function in model.functions:
        yield from function.node


def all_tensors(model) -> Iterator:  # -> Iterator[onnx.TensorProto]
    """Every TensorProto: initializers, sparse initializers, and tensors in node attributes."""
    for graph in all_graphs(model):
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield from (sparse.values, sparse.indices)
    for node in all_nodes(model):
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            sparse_tensors = list(attribute.sparse_tensors)
            if attribute.HasField("sparse_tensor"):
                sparse_tensors.append(attribute.sparse_tensor)
            for sparse in sparse_tensors:
                yield from (sparse.values, sparse.indices)


def refuse_custom_operators(path, model) -> None:
    """Refuse any node outside the standard domains, before onnxruntime sees the file.

    onnxruntime runs custom operators only from libraries registered with the session, which
    we never do; refusing here names the operator instead of a provider error, and keeps
    vendor domains (e.g. com.microsoft contrib ops) out of an audit's reference forward.
    """
    local = {(function.domain, function.name) for function in model.functions}
    for node in all_nodes(model):
        if node.domain in STANDARD_DOMAINS or (node.domain, node.op_type) in local:
            continue
        label = f" (node {quoted(node.name)})" if node.name else ""
        raise InspectorError(
            f"{path}: operator {quoted(node.op_type)} from domain {quoted(node.domain)}{label} "
            "is not a standard ONNX operator; only the domains '', 'ai.onnx' and 'ai.onnx.ml' "
            "can be loaded: export the model with standard operators"
        )


def refuse_huge_tensors(path, model) -> None:
    """Refuse a graph whose shapes, as far as they are known before running, need a tensor
    of more than MAX_TENSOR_VALUES values (e.g. ConstantOfShape of a constant [1e6, 1e6]).

    onnxruntime would try to allocate and fill it on the first probe and exhaust memory.
    Shape inference runs on the model as parsed (external weights not yet read); where it
    cannot work a shape out (dynamic sizes, an inference failure), nothing is refused here.
    """
    from onnx import shape_inference

    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        return  # check_model has already judged validity; onnxruntime will report the rest
    for graph in all_graphs(inferred):
        for info in [*graph.value_info, *graph.output]:
            dims = info.type.tensor_type.shape.dim
            sizes = [d.dim_value for d in dims if d.HasField("dim_value")]
            if len(sizes) != len(dims) or not sizes:
                continue
            values = 1
            for size in sizes:
                values *= max(size, 0)
            if values > MAX_TENSOR_VALUES:
                raise InspectorError(
                    f"{path}: tensor {quoted(info.name)} would hold {values:,} values (shape "
                    f"{sizes}), more than the {MAX_TENSOR_VALUES:,} allowed for one tensor; "
                    "running the model would exhaust memory"
                )


def quoted(text: str, limit: int = 80) -> str:
    """A name from the file, quoted and escaped (no newline can break the one-line message)."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "...'"
