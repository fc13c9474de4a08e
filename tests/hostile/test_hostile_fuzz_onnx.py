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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from inspector.core.errors import InspectorError
from inspector.core.models import load_model


def small_model() -> onnx.ModelProto:
    """Flatten, Gemm (external weight, inline bias), Relu, with metadata: about 400 bytes."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 2, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    weight = numpy_helper.from_array(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4), "w")
    bias = numpy_helper.from_array(np.array([0.1, -0.2, 0.3], dtype=np.float32), "b")
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("Gemm", ["f", "w", "b"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "small", [x], [y], [weight, bias])
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
    )
    assert load_model(path, device="cpu").info.class_names == ("a", "b", "c")
    return path, path.read_bytes()


@st.composite
def damage(draw, data: bytes) -> bytes:
    """The bytes cut short, or with 1-4 bits flipped."""
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data) - 1))]
    damaged = bytearray(data)
    for bit in draw(st.lists(st.integers(0, len(data) * 8 - 1), min_size=1, max_size=4)):
        damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def test_damaged_onnx_loads_or_is_a_user_error(folder):
    path, valid = folder

    @settings(
        derandomize=True,
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(st.data())
    def check(data):
        path.write_bytes(data.draw(damage(valid)))
        try:
            load_model(path, device="cpu")
        except InspectorError as exc:
            assert "\n" not in str(exc)

    check()
