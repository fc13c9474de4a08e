"""Each operator of the ONNX gradient path (models/onnx_torch) against onnxruntime.

One tiny single-node graph per case, built here with onnx.helper: the graph input `x` and
further inputs as initializers; the interpreter's output must equal onnxruntime's, and the
input gradient must exist where the op is differentiable. Plus the refusals: an operator
or opset without a function names op, opset and node.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_torch import OnnxGraph, supported_ops

RNG = np.random.default_rng(0)
X4 = RNG.standard_normal((2, 4, 6, 6)).astype(np.float32)
X2 = RNG.standard_normal((3, 8)).astype(np.float32)
POS = np.abs(X4) + 0.1
I64 = np.int64


def a(*values, dtype=I64) -> np.ndarray:
    return np.array(values, dtype=dtype)


def w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# (id, op, x, extra inputs (None = omitted), attributes, opset)
CASES = [
    ("conv", "Conv", X4, [w(5, 4, 3, 3), w(5)], {"pads": [1, 1, 1, 1]}, 17),
    ("conv-groups-dil", "Conv", X4, [w(4, 2, 3, 3)], {"group": 2, "dilations": [2, 2]}, 13),
    ("conv-asym", "Conv", X4, [w(3, 4, 2, 2)], {"pads": [0, 1, 1, 0], "strides": [2, 1]}, 20),
    ("conv-same", "Conv", X4, [w(3, 4, 3, 3)], {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, 11),
    (
        "conv-t",
        "ConvTranspose",
        X4,
        [w(4, 3, 3, 3), w(3)],
        {"strides": [2, 2], "pads": [1, 1, 1, 1]},
        17,
    ),
    ("gemm", "Gemm", X2, [w(5, 8), w(5)], {"transB": 1, "alpha": 0.5, "beta": 2.0}, 13),
    ("matmul", "MatMul", X4, [w(6, 3)], {}, 13),
    ("add", "Add", X4, [w(4, 1, 1)], {}, 14),
    ("sub", "Sub", X4, [w(6)], {}, 14),
    ("mul", "Mul", X4, [w(1, 4, 1, 1)], {}, 14),
    ("div", "Div", X4, [np.abs(w(6)) + 1], {}, 14),
    ("pow", "Pow", POS, [np.array(1.5, np.float32)], {}, 15),
    ("sqrt", "Sqrt", POS, [], {}, 13),
    ("neg", "Neg", X4, [], {}, 13),
    ("abs", "Abs", X4, [], {}, 13),
    ("exp", "Exp", X4, [], {}, 13),
    ("log", "Log", POS, [], {}, 13),
    ("erf", "Erf", X4, [], {}, 13),
    ("relu", "Relu", X4, [], {}, 14),
    ("leaky", "LeakyRelu", X4, [], {"alpha": 0.2}, 16),
    ("prelu", "PRelu", X4, [w(4, 1, 1)], {}, 16),
    ("elu", "Elu", X4, [], {"alpha": 0.7}, 6 + 7),
    ("selu", "Selu", X4, [], {}, 13),
    ("sigmoid", "Sigmoid", X4, [], {}, 13),
    ("hardsigmoid", "HardSigmoid", X4, [], {"alpha": 0.3}, 13),
    ("hardswish", "HardSwish", X4, [], {}, 14),
    ("tanh", "Tanh", X4, [], {}, 13),
    ("softplus", "Softplus", X4, [], {}, 13),
    ("gelu", "Gelu", X4, [], {}, 20),
    ("gelu-tanh", "Gelu", X4, [], {"approximate": "tanh"}, 20),
    ("clip", "Clip", X4, [np.array(-0.5, np.float32), np.array(0.5, np.float32)], {}, 13),
    ("clip-low", "Clip", X4, [np.array(0.0, np.float32)], {}, 13),
    ("softmax", "Softmax", X4, [], {"axis": 1}, 13),
    ("softmax-11", "Softmax", X4, [], {"axis": 1}, 11),
    ("logsoftmax", "LogSoftmax", X2, [], {}, 13),
    ("batchnorm", "BatchNormalization", X4, [w(4), w(4), w(4), np.abs(w(4)) + 0.5], {}, 15),
    ("layernorm", "LayerNormalization", X4, [w(6), w(6)], {"axis": -1}, 17),
    ("layernorm-2", "LayerNormalization", X4, [w(6, 6), w(6, 6)], {"axis": 2}, 17),
    ("instnorm", "InstanceNormalization", X4, [w(4), w(4)], {}, 13),
    ("groupnorm-18", "GroupNormalization", X4, [w(2), w(2)], {"num_groups": 2}, 18),
    ("groupnorm-21", "GroupNormalization", X4, [w(4), w(4)], {"num_groups": 2}, 21),
    (
        "maxpool",
        "MaxPool",
        X4,
        [],
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
        12,
    ),
    (
        "maxpool-ceil",
        "MaxPool",
        X4,
        [],
        {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
        22,
    ),
    ("avgpool", "AveragePool", X4, [], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, 19),
    (
        "avgpool-incl",
        "AveragePool",
        X4,
        [],
        {"kernel_shape": [3, 3], "pads": [1, 0, 1, 0], "count_include_pad": 1},
        19,
    ),
    ("avgpool-asym", "AveragePool", X4, [], {"kernel_shape": [2, 2], "pads": [0, 0, 1, 1]}, 11),
    ("gap", "GlobalAveragePool", X4, [], {}, 13),
    ("gmp", "GlobalMaxPool", X4, [], {}, 13),
    ("reducemean-18", "ReduceMean", X4, [a(2, 3)], {"keepdims": 1}, 18),
    ("reducemean-13", "ReduceMean", X4, [], {"axes": [-1], "keepdims": 0}, 13),
    ("reducesum-13", "ReduceSum", X4, [a(1)], {}, 13),
    ("reducesum-11", "ReduceSum", X4, [], {"axes": [1]}, 11),
    ("reducemax", "ReduceMax", X4, [a(1, 3)], {"keepdims": 0}, 18),
    ("reducemin", "ReduceMin", X4, [], {"axes": [2]}, 13),
    ("reduce-all", "ReduceMean", X4, [], {}, 18),
    ("flatten", "Flatten", X4, [], {"axis": 2}, 13),
    ("reshape", "Reshape", X4, [a(0, -1, 3)], {}, 14),
    ("reshape-allowzero", "Reshape", X4, [a(2, 24, 6)], {"allowzero": 1}, 14),
    ("transpose", "Transpose", X4, [], {"perm": [0, 2, 3, 1]}, 13),
    ("squeeze-13", "Squeeze", X4[:, :1], [a(1)], {}, 13),
    ("squeeze-11", "Squeeze", X4[:, :1], [], {"axes": [1]}, 11),
    ("unsqueeze-13", "Unsqueeze", X4, [a(0, -1)], {}, 13),
    ("unsqueeze-11", "Unsqueeze", X4, [], {"axes": [1]}, 11),
    ("concat", "Concat", X4, [w(2, 1, 6, 6)], {"axis": 1}, 13),
    ("slice", "Slice", X4, [a(1, -4), a(3, 100), a(1, 2), a(1, 2)], {}, 13),
    ("slice-neg", "Slice", X4, [a(-1), a(-100), a(3), a(-2)], {}, 13),
    ("gather", "Gather", X4, [a(3, -1, 0)], {"axis": 1}, 13),
    ("gather-scalar", "Gather", X4, [np.array(2, I64)], {"axis": 3}, 13),
    ("expand", "Expand", X4[:, :1], [a(2, 4, 1, 1)], {}, 13),
    ("tile", "Tile", X2, [a(2, 1)], {}, 13),
    ("pad-const", "Pad", X4, [a(0, 0, 1, 2, 0, 0, 2, 1), np.array(0.5, np.float32)], {}, 13),
    ("pad-reflect", "Pad", X4, [a(0, 0, 1, 1, 0, 0, 1, 1)], {"mode": "reflect"}, 18),
    ("pad-edge", "Pad", X4, [a(0, 0, 2, 0, 0, 0, 0, 1)], {"mode": "edge"}, 13),
    ("pad-axes", "Pad", X4, [a(1, 2, 0, 1), None, a(2, 3)], {}, 18),
    (
        "resize-nearest",
        "Resize",
        X4,
        [None, a(1, 1, 2, 2, dtype=np.float32)],
        {
            "mode": "nearest",
            "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "floor",
        },
        13,
    ),
    ("resize-linear", "Resize", X4, [None, None, a(2, 4, 9, 12)], {"mode": "linear"}, 19),
    (
        "resize-align",
        "Resize",
        X4,
        [None, a(1, 1, 2, 2, dtype=np.float32)],
        {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
        13,
    ),
    ("einsum", "Einsum", X4, [w(6, 5)], {"equation": "nchw,wk->nchk"}, 13),
    ("identity", "Identity", X4, [], {}, 16),
    ("dropout", "Dropout", X4, [], {}, 13),
    ("max", "Max", X4, [w(6), w(4, 1, 1)], {}, 13),
    ("sum", "Sum", X4, [w(6)], {}, 13),
]


def graph_of(op: str, x: np.ndarray, extra: list, attrs: dict, opset: int) -> onnx.ModelProto:
    names, inits = ["x"], []
    for i, value in enumerate(extra):
        if value is None:
            names.append("")
            continue
        names.append(f"in{i}")
        inits.append(numpy_helper.from_array(np.asarray(value), f"in{i}"))
    node = helper.make_node(op, names, ["y"], name=f"the_{op}", **attrs)
    graph = helper.make_graph(
        [node],
        op,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def run_both(
    model: onnx.ModelProto, x: np.ndarray
) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    expected = session.run(["y"], {"x": x})[0]
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    got = OnnxGraph(model, "x", "y")(xt)
    return expected, got, xt


@pytest.mark.parametrize(
    ("op", "x", "extra", "attrs", "opset"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_op_matches_onnxruntime(op, x, extra, attrs, opset):
    model = graph_of(op, x, extra, attrs, opset)
    expected, got, xt = run_both(model, x)
    assert tuple(got.shape) == expected.shape
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    if got.is_floating_point() and op not in ("Shape",):
        (grad,) = torch.autograd.grad(got.sum(), xt, allow_unused=True)
        assert grad is not None and torch.isfinite(grad).all()


def test_shape_arithmetic_and_constants_match_onnxruntime():
    """Shape → Gather → Concat → Reshape, ConstantOfShape, Range, Cast, Equal, ArgMax: the
    dynamic-batch pattern of the exporters, on a batch size the graph never saw."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node(
            "ConstantOfShape",
            ["cs"],
            ["ones"],
            value=numpy_helper.from_array(a(1.0, dtype=np.float32)),
        ),
        helper.make_node("Range", ["r0", "r1", "r2"], ["ramp"]),
        helper.make_node("Cast", ["ramp"], ["rampf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["flat", "rampf"], ["scaled"]),
        helper.make_node("Add", ["scaled", "ones"], ["y0"]),
        helper.make_node("ArgMax", ["y0"], ["am"], axis=1, keepdims=1),
        helper.make_node("Cast", ["am"], ["amf"], to=TensorProto.FLOAT),
        helper.make_node("Equal", ["amf", "amf"], ["eq"]),
        helper.make_node("Where", ["eq", "y0", "y0"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0, I64), "zero"),
        numpy_helper.from_array(a(0), "zero1"),
        numpy_helper.from_array(a(-1), "minus1"),
        numpy_helper.from_array(a(144), "cs"),
        numpy_helper.from_array(np.array(0, I64), "r0"),
        numpy_helper.from_array(np.array(144, I64), "r1"),
        numpy_helper.from_array(np.array(1, I64), "r2"),
    ]
    graph = helper.make_graph(
        nodes,
        "shapes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 144])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    expected, got, _ = run_both(model, X4[:1])
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-6)
    steps = OnnxGraph(model, "x", "y").steps
    assert "ConstantOfShape" not in {s.node.op_type for s in steps}  # folded at build time


def test_unknown_operator_names_op_opset_and_node():
    model = graph_of("Hardmax", X2, [], {}, 13)
    with pytest.raises(InspectorError) as caught:
        OnnxGraph(model, "x", "y")
    message = str(caught.value)
    assert "'Hardmax' (opset 13, node 'the_Hardmax') has no gradient path" in message
    assert "Square runs through onnxruntime" in message and "\n" not in message


def test_operator_outside_its_opsets_is_refused():
    """Gelu exists from opset 20: a graph declaring 17 that uses it is refused, not guessed."""
    model = graph_of("Gelu", X2, [], {}, 17)
    with pytest.raises(InspectorError, match=r"'Gelu' \(opset 17, node 'the_Gelu'\)"):
        OnnxGraph(model, "x", "y")
    model = graph_of("Relu", X2, [], {}, 23)
    with pytest.raises(InspectorError, match=r"'Relu' \(opset 23.*opsets 11-22"):
        OnnxGraph(model, "x", "y")


def test_a_folded_bomb_is_refused_before_allocating():
    """ConstantOfShape of a constant [1e6, 1e6] would be 4 TB if folded blindly."""
    model = graph_of("ConstantOfShape", X2, [], {}, 13)
    node = helper.make_node("ConstantOfShape", ["big"], ["y"], name="bomb")
    graph = helper.make_graph(
        [node],
        "bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a(1_000_000, 1_000_000), "big")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(InspectorError, match=r"'ConstantOfShape' \(node 'bomb'\).*exhaust memory"):
        OnnxGraph(model, "x", "y")


def test_every_listed_image_classifier_op_is_covered():
    """The ops issue 11 lists (README, "Models"), with the opsets 13-22 at least."""
    wanted = [
        "Conv",
        "ConvTranspose",
        "Gemm",
        "MatMul",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Pow",
        "Sqrt",
        "Neg",
        "Abs",
        "Exp",
        "Log",
        "Erf",
        "Relu",
        "LeakyRelu",
        "PRelu",
        "Elu",
        "Selu",
        "Sigmoid",
        "HardSigmoid",
        "HardSwish",
        "Tanh",
        "Softplus",
        "Gelu",
        "Clip",
        "Softmax",
        "LogSoftmax",
        "BatchNormalization",
        "LayerNormalization",
        "InstanceNormalization",
        "GroupNormalization",
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "ReduceMean",
        "ReduceSum",
        "ReduceMax",
        "ReduceMin",
        "Flatten",
        "Reshape",
        "Transpose",
        "Squeeze",
        "Unsqueeze",
        "Concat",
        "Split",
        "Slice",
        "Gather",
        "Shape",
        "Constant",
        "ConstantOfShape",
        "Expand",
        "Where",
        "Equal",
        "Less",
        "Greater",
        "Cast",
        "Identity",
        "Dropout",
        "Pad",
        "Resize",
        "Einsum",
        "Tile",
        "Range",
        "ArgMax",
    ]
    ops = supported_ops()
    missing = [op for op in wanted if op not in ops]
    assert not missing
    late = {"Gelu": 20, "GroupNormalization": 18, "LayerNormalization": 17, "HardSwish": 14}
    for op in wanted:
        assert ops[op][0] <= late.get(op, 13) and ops[op][1] == 22, op
