"""Hostile ONNX files: external data that escapes the model's folder, huge sizes, weights
hidden in subgraphs (the hash must still see them), and operators from foreign domains.

Each file is built here in tmp_path with onnx.helper; a tiny Flatten+Gemm classifier on
1×2×2 images is enough. Checks run in-process through load_model, and the FIFO (the case
where a wrong check would hang) once end to end through the real program.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers import save_npz
from hostile_support import assert_user_error, run_inspector, snapshot
from onnx import TensorProto, helper, numpy_helper

from inspector.core.errors import InspectorError
from inspector.core.models import load_model
from inspector.core.models.onnx_files import GIB

WEIGHT = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
OPSET = [helper.make_opsetid("", 17)]
IR = 10  # what onnxruntime reads (helper.make_model's default can be newer)


def io(batch: str = "N"):
    """The NCHW image input and the [N, 3] logits output."""
    return (
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 1, 2, 2]),
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3]),
    )


def tiny_model(weight: np.ndarray = WEIGHT, nodes_after=(), domain: str = "") -> onnx.ModelProto:
    """Flatten + Gemm (+ extra nodes), the weight `w` an initializer."""
    x, y = io()
    last = "y" if not nodes_after else "g"
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("Gemm", ["f", "w"], [last], transB=1),
        *nodes_after,
    ]
    graph = helper.make_graph(nodes, "tiny", [x], [y], [numpy_helper.from_array(weight, "w")])
    opsets = [*OPSET, helper.make_opsetid(domain, 1)] if domain else OPSET
    return helper.make_model(graph, opset_imports=opsets, ir_version=IR)


def save_external(model: onnx.ModelProto, path: Path, location: str = "w.bin") -> Path:
    """Save with every tensor in one external file next to the model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=location,
        size_threshold=0,
    )
    return path


def rewrite_external(path: Path, **entries: str) -> None:
    """Change the first external tensor's external_data entries, in place, nothing else."""
    model = onnx.load(str(path), load_external_data=False)
    tensor = next(t for t in model.graph.initializer if t.external_data)
    del tensor.external_data[:]
    for key, value in entries.items():
        tensor.external_data.add(key=key.rstrip("_"), value=value)
    path.write_bytes(model.SerializeToString())


@pytest.fixture
def layout(tmp_path):
    """model/m.onnx with valid external weights model/w.bin, and an outside/ copy of them."""
    path = save_external(tiny_model(), tmp_path / "model" / "m.onnx")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(path.parent / "w.bin", outside / "w.bin")
    return path, outside


def test_valid_external_weights_load_and_are_hashed(layout):
    path, _ = layout
    loaded = load_model(path, device="cpu")
    x = np.random.default_rng(0).uniform(size=(5, 1, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(loaded.reference_logits(x), x.reshape(5, 4) @ WEIGHT.T, rtol=1e-6)
    assert any("w.bin" in note and "sha256" in note for note in loaded.info.notes)


def _absolute(path: Path, outside: Path) -> str:
    return str(outside / "w.bin")


def _parent(path: Path, outside: Path) -> str:
    return "../outside/w.bin"


def _file_symlink(path: Path, outside: Path) -> str:
    (path.parent / "w.bin").unlink()
    (path.parent / "w.bin").symlink_to(outside / "w.bin")
    return "w.bin"


def _dir_symlink(path: Path, outside: Path) -> str:
    (path.parent / "sub").symlink_to(outside, target_is_directory=True)
    return "sub/w.bin"


def _hard_link(path: Path, outside: Path) -> str:
    (path.parent / "w.bin").unlink()
    os.link(outside / "w.bin", path.parent / "w.bin")
    return "w.bin"


def _directory(path: Path, outside: Path) -> str:
    (path.parent / "adir").mkdir()
    return "adir"


ESCAPES = {
    "absolute path": (_absolute, "not a relative path"),
    "/etc/passwd": (lambda p, o: "/etc/passwd", "not a relative path"),
    "../ traversal": (_parent, "not a relative path"),
    "windows drive": (lambda p, o: "C:\\w.bin", "not a relative path"),
    "windows ..": (lambda p, o: "..\\outside\\w.bin", "not a relative path"),
    "onnxruntime memory address": (lambda p, o: "*/_ORT_MEM_ADDR_/*", "not a relative path"),
    "symlink to a file outside": (_file_symlink, "symbolic link"),
    "symlink to a directory outside": (_dir_symlink, "symbolic link"),
    "hard link to a file outside": (_hard_link, "hard links"),
    "a directory": (_directory, "not a regular file"),
    "missing file": (lambda p, o: "gone.bin", "missing"),
}


@pytest.mark.parametrize("case", list(ESCAPES))
def test_external_data_outside_the_folder_is_refused(layout, case):
    path, outside = layout
    make, words = ESCAPES[case]
    location = make(path, outside)
    rewrite_external(path, location=location, offset="0", length="48")
    before = snapshot(outside)
    with pytest.raises(InspectorError, match=words) as caught:
        load_model(path, device="cpu")
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert snapshot(outside) == before


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ({"location": "w.bin", "offset": "40", "length": "48"}, "bytes 40..88"),
        ({"location": "w.bin", "offset": "1e3"}, "not a byte count"),
        ({"location": "w.bin", "offset": "-4"}, "not a byte count"),
        ({"location": "w.bin", "location_": "/etc/passwd"}, "repeated"),
        ({"location": "w.bin", "basedir": "/etc"}, "unknown"),
        ({"offset": "0"}, "not a relative path"),
    ],
    ids=[
        "range past the end",
        "offset not digits",
        "negative",
        "repeated key",
        "unknown key",
        "no location",
    ],
)
def test_bad_external_entries_are_refused(layout, entries, words):
    path, _ = layout
    rewrite_external(path, **entries)
    with pytest.raises(InspectorError, match=words):
        load_model(path, device="cpu")


def test_huge_external_data_is_refused_before_reading(layout):
    path, _ = layout
    with open(path.parent / "w.bin", "r+b") as handle:
        handle.truncate(9 * GIB)  # sparse: no disk used, and never read
    rewrite_external(path, location="w.bin")
    start = time.monotonic()
    with pytest.raises(InspectorError, match=r"total 9\.0 GiB, more than the 8\.0 GiB"):
        load_model(path, device="cpu")
    assert time.monotonic() - start < 5


def test_onnx_file_over_protobufs_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.onnx"
    with open(path, "wb") as handle:
        handle.truncate(2 * GIB + 1)  # sparse
    start = time.monotonic()
    with pytest.raises(InspectorError, match=r"2\.0 GiB; an \.onnx file can hold at most 2 GiB"):
        load_model(path, device="cpu")
    assert time.monotonic() - start < 5


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
def test_fifo_as_external_data_is_refused_without_hanging(layout, tmp_path):
    path, _ = layout
    (path.parent / "w.bin").unlink()
    os.mkfifo(path.parent / "w.bin")  # opening it for reading would block forever
    rng = np.random.default_rng(0)
    data = save_npz(
        tmp_path / "d.npz", rng.uniform(size=(6, 1, 2, 2)).astype(np.float32), np.arange(6) % 3
    )
    outcome = run_inspector(
        [
            "evaluate",
            "--model",
            str(path),
            "--data",
            str(data),
            "--attack",
            "fgsm",
            "--eps",
            "0,0.1",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "r.json"),
        ],
        cwd=tmp_path,
        timeout=60,
    )
    assert_user_error(outcome, "w.bin", "not a regular file")
    assert not (tmp_path / "r.json").exists()


# --- the hash covers weights in subgraphs -------------------------------------------------


def if_model(weight: np.ndarray) -> onnx.ModelProto:
    """y = If(true) then Gemm(flat, w_then) else Gemm(flat, w_else): w_then lives in a branch."""
    x, y = io()

    def branch(name: str, w: np.ndarray) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, ["N", 3])
        node = helper.make_node("Gemm", ["f", f"{name}_w"], [f"{name}_y"], transB=1)
        return helper.make_graph([node], name, [], [out], [numpy_helper.from_array(w, f"{name}_w")])

    cond = numpy_helper.from_array(np.array(True), "cond")
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node(
            "If",
            ["cond"],
            ["y"],
            then_branch=branch("then", weight),
            else_branch=branch("else", WEIGHT),
        ),
    ]
    graph = helper.make_graph(nodes, "branchy", [x], [y], [cond])
    return helper.make_model(graph, opset_imports=OPSET, ir_version=IR)


def then_branch(model: onnx.ModelProto) -> onnx.GraphProto:
    return next(a.g for a in model.graph.node[1].attribute if a.name == "then_branch")


def test_hash_covers_external_weights_inside_an_if_branch(tmp_path):
    first = save_external(if_model(WEIGHT), tmp_path / "a" / "m.onnx")
    second = save_external(if_model(WEIGHT * 2), tmp_path / "b" / "m.onnx")
    assert first.read_bytes() == second.read_bytes()  # only the weight file differs
    assert (first.parent / "w.bin").read_bytes() != (second.parent / "w.bin").read_bytes()
    top = onnx.load(str(first), load_external_data=False)
    assert then_branch(top).initializer[0].external_data  # w_then is external
    a, b = load_model(first, device="cpu"), load_model(second, device="cpu")
    x = np.random.default_rng(1).uniform(size=(3, 1, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(b.reference_logits(x), 2 * a.reference_logits(x), rtol=1e-6)
    assert a.info.sha256 != b.info.sha256
    assert any("w.bin" in note for note in a.info.notes)


# --- operators ----------------------------------------------------------------------------


def test_custom_domain_operator_is_refused(tmp_path):
    path = tmp_path / "evil.onnx"
    node = helper.make_node("Pwn", ["g"], ["y"], domain="com.evil", name="payload")
    onnx.save(tiny_model(nodes_after=[node], domain="com.evil"), path)
    with pytest.raises(InspectorError, match=r"'Pwn' from domain 'com\.evil' \(node 'payload'\)"):
        load_model(path, device="cpu")


def test_vendor_domain_operator_inside_a_branch_is_refused(tmp_path):
    model = if_model(WEIGHT)
    then = then_branch(model)
    then.node.append(helper.make_node("Gelu", ["then_y"], ["then_z"], domain="com.microsoft"))
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    path = tmp_path / "vendor.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(InspectorError, match=r"'Gelu' from domain 'com\.microsoft'.*standard"):
        load_model(path, device="cpu")


def test_model_local_function_is_allowed(tmp_path):
    """A function defined in the file itself is standard ops underneath: it loads and runs."""
    body = [helper.make_node("Gemm", ["a", "b"], ["c"], transB=1)]
    function = helper.make_function("local", "Linear", ["a", "b"], ["c"], body, OPSET)
    x, y = io()
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("Linear", ["f", "w"], ["y"], domain="local"),
    ]
    graph = helper.make_graph(nodes, "fn", [x], [y], [numpy_helper.from_array(WEIGHT, "w")])
    model = helper.make_model(
        graph,
        opset_imports=[*OPSET, helper.make_opsetid("local", 1)],
        functions=[function],
        ir_version=IR,
    )
    path = tmp_path / "fn.onnx"
    onnx.save(model, path)
    loaded = load_model(path, device="cpu")
    x_in = np.ones((2, 1, 2, 2), dtype=np.float32)
    np.testing.assert_allclose(loaded.reference_logits(x_in), x_in.reshape(2, 4) @ WEIGHT.T)


# --- onnxruntime's own log stays quiet: the user sees one line ----------------------------


def _bad_bias(model: onnx.ModelProto) -> None:
    """A bias of 5 for 3 classes: the session opens, the first run fails."""
    model.graph.node[1].input.append("b")
    model.graph.initializer.append(numpy_helper.from_array(np.ones(5, np.float32), "b"))


def _short_weight(model: onnx.ModelProto) -> None:
    """12 values declared, 4 stored: onnxruntime refuses the session."""
    model.graph.initializer[0].raw_data = np.ones(4, np.float32).tobytes()


@pytest.mark.parametrize("damage", [_bad_bias, _short_weight])
def test_onnxruntime_failures_log_nothing(capfd, tmp_path, damage):
    """The InspectorError is the whole message: onnxruntime's C++ log adds no stderr line."""
    model = tiny_model()
    damage(model)
    path = tmp_path / "broken.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(InspectorError, match=r"broken\.onnx"):
        load_model(path, device="cpu")
    assert capfd.readouterr().err == ""  # fd level: onnxruntime writes from C++


# --- declared sizes that would allocate too much -----------------------------------------


@pytest.mark.parametrize(
    ("dims", "words"),
    [
        (["N", 3, 100_000, 100_000], "30,000,000,000 values per image"),
        ([10**6, 1, 2, 2], "fixed batch of 1000000"),
        (["N", 0, 2, 2], "size below 1"),
    ],
    ids=["huge image", "huge fixed batch", "zero channels"],
)
def test_declared_input_sizes_are_bounded(tmp_path, dims, words):
    """Refused from the graph's declaration, before any input of that shape is allocated."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [dims[0], 3])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[2, 3], keepdims=0)]
    nodes.append(helper.make_node("Slice", ["m", "s", "e", "a"], ["y"]))
    consts = [numpy_helper.from_array(np.array([v]), n) for n, v in (("s", 0), ("e", 3), ("a", 1))]
    graph = helper.make_graph(nodes, "big", [x], [y], consts)
    path = tmp_path / "big.onnx"
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR), path
    )
    with pytest.raises(InspectorError, match=words):
        load_model(path, device="cpu")


def test_constant_shape_that_would_exhaust_memory_is_refused(tmp_path):
    """ConstantOfShape [2**20, 2**20] (4 TiB of float32) feeding the logits: refused from
    the shapes alone, before onnxruntime allocates anything."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [2**20, 2**20])
    nodes = [
        helper.make_node("Constant", [], ["shape"], value=shape),
        helper.make_node("ConstantOfShape", ["shape"], ["big"]),
        helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
        helper.make_node("Add", ["g", "total"], ["y"]),
    ]
    path = tmp_path / "bomb.onnx"
    onnx.save(tiny_model(nodes_after=nodes), path)
    start = time.monotonic()
    with pytest.raises(InspectorError, match=r"'big' would hold 1,099,511,627,776 values"):
        load_model(path, device="cpu")
    assert time.monotonic() - start < 5
