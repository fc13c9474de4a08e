"""Fuzz the ONNX loader: truncated and bit-flipped copies of a small valid model.

Whatever the damage, load_model either loads the file or raises InspectorError (the
one-line user error); any other exception is a crash the user would see as a traceback.
The model keeps one weight in an external file so that damaged locations, offsets and
lengths reach the external-data checks too.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from fuzz_support import damage, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from inspector.core.errors import InspectorError
from inspector.core.models import load_model


def small_model() -> onnx.ModelProto:
    """Flatten, Gemm, then an If whose branch adds a Constant, with metadata: ~600 bytes.

    Every tensor goes to the external file, the branch's Constant included, so damage to
    subgraphs and to external references both reach the loader's checks.
    """
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 2, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    weight = numpy_helper.from_array(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), "w")
    bias = numpy_helper.from_array(np.array([0.1, -0.2, 0.3], dtype=np.float32), "b")
    shift = numpy_helper.from_array(np.array([1.0, 2.0, 3.0], dtype=np.float32), "s")
    out = helper.make_tensor_value_info("t", TensorProto.FLOAT, ["N", 3])
    then = helper.make_graph(
        [
            helper.make_node("Constant", [], ["c"], value=shift),
            helper.make_node("Add", ["g", "c"], ["t"]),
        ],
        "then",
        [],
        [out],
    )
    other = helper.make_graph(
        [helper.make_node("Identity", ["g"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, ["N", 3])],
    )
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("Gemm", ["f", "w", "b"], ["g"], transB=1),
        helper.make_node("If", ["cond"], ["y"], then_branch=then, else_branch=other),
    ]
    cond = numpy_helper.from_array(np.array(True), "cond")
    graph = helper.make_graph(nodes, "small", [x], [y], [weight, bias, cond])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    helper.set_model_props(model, {"class_names": '["a", "b", "c"]', "mean": "[0.5]"})
    return model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The valid model as model.onnx + w.bin; each example overwrites model.onnx."""
    path = tmp_path_factory.mktemp("fuzz") / "model.onnx"
    model = small_model()
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        location="w.bin",
        size_threshold=0,
        all_tensors_to_one_file=True,
        convert_attribute=True,  # the branch's Constant too
    )
    node = onnx.load(str(path), load_external_data=False).graph.node[2]
    branch = next(a.g for a in node.attribute if a.name == "then_branch")
    assert branch.node[0].attribute[0].t.external_data  # so loading it proves the walk
    loaded = load_model(path, device="cpu")
    assert loaded.info.class_names == ("a", "b", "c")
    logits = loaded.reference_logits(np.full((1, 1, 2, 2), 0.5, dtype=np.float32))
    np.testing.assert_allclose(logits, [[1.1, 1.8, 3.3]], rtol=1e-5)  # the branch ran
    return path, path.read_bytes()


def test_damaged_onnx_loads_or_is_a_user_error(folder):
    path, valid = folder

    @fuzz_settings(max_examples=500)
    @given(st.data())
    def check(data):
        path.write_bytes(data.draw(damage(valid)))
        try:
            load_model(path, device="cpu")
        except InspectorError as exc:
            assert "\n" not in str(exc)

    check()
