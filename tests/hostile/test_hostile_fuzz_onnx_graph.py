"""Fuzz the ONNX gradient path (models/onnx_torch) with damaged copies of a small graph.

The graph has what the interpreter walks in real exports: Conv with pads, the dynamic-batch
Shape → Gather → Concat → Reshape pattern, Constant nodes, GlobalAveragePool, Gemm, Softmax
under a second output. Truncated or bit-flipped, load_model either loads it or raises the
one-line InspectorError; when it loads with gradients, the interpreter agrees with
onnxruntime (the loader's verdict) and gives a finite input gradient.
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
from fuzz_support import damage, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from inspector.core.errors import InspectorError
from inspector.core.models import load_model

RNG = np.random.default_rng(0)


def graph_model() -> onnx.ModelProto:
    def init(name: str, value) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value), name)

    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Shape", ["g"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Constant", [], ["minus1"], value=init("m", np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["g", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fb"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    inits = [
        init("w", RNG.standard_normal((4, 1, 3, 3)).astype(np.float32)),
        init("b", RNG.standard_normal(4).astype(np.float32)),
        init("zero", np.array(0, np.int64)),
        init("axes", np.array([0], np.int64)),
        init("fc", RNG.standard_normal((3, 4)).astype(np.float32)),
        init("fb", np.zeros(3, np.float32)),
    ]
    graph = helper.make_graph(
        nodes,
        "fuzz",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 6, 6])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3]),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)


def test_the_valid_graph_has_a_faithful_gradient_path(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(graph_model(), path)
    loaded = load_model(path, device="cpu")
    assert loaded.differentiable and loaded.conversion.faithful
    assert "interpreted in torch" in " ".join(loaded.info.notes)


def test_damaged_graphs_load_or_are_a_user_error(tmp_path):
    path = tmp_path / "m.onnx"
    valid = graph_model().SerializeToString()
    x = np.random.default_rng(1).random((3, 1, 6, 6), dtype=np.float32)

    @fuzz_settings(max_examples=600)
    @given(st.data())
    def check(data):
        path.write_bytes(data.draw(damage(valid)))
        try:
            loaded = load_model(path, device="cpu", overrides={"input_shape": [1, 6, 6]})
        except InspectorError as exc:
            assert "\n" not in str(exc)
            return
        if loaded.gradient_unavailable_reason is not None:
            assert "\n" not in loaded.gradient_unavailable_reason
        if not loaded.differentiable:
            return
        gap = loaded.check_conversion(x)
        assert gap <= 1e-3 or not loaded.differentiable
        xt = torch.from_numpy(x).requires_grad_(True)
        (grad,) = torch.autograd.grad(loaded.module(xt).sum(), xt, allow_unused=True)
        assert grad is None or grad.shape == xt.shape

    check()
