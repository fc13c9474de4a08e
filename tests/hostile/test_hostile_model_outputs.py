"""Models whose output cannot be logits: the load-time probe refuses them with one line.

Before, these crashed deep in the sweep with a traceback (or, for integer outputs, were
silently cast to float). Each model is built here: a torch.export program (plus one
TorchScript and two ONNX graphs, since the probe is shared by every backend), run through
`evaluate` in-process, and once through the real program.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from helpers import export_pt2, save_npz
from hostile_support import assert_user_error, run_inspector
from onnx import TensorProto, helper

from inspector.cli.main import main

PREFIX = "robustness-inspector: error:"
SHAPE = (1, 4, 4)
FAST = ["--attack", "fgsm", "--eps", "0,0.1", "--device", "cpu"]


class Head(torch.nn.Module):
    """Ten 'logits' from the pixels, then `shape_it` decides what comes out."""

    def __init__(self, shape_it) -> None:
        super().__init__()
        self.shape_it = shape_it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shape_it(x.flatten(1)[:, :10])


CASES = {
    "ignores the batch": (lambda z: z[:1], ["[1, 10]", "batch of 2", "[2, num_classes]"]),
    "drops the batch dimension": (lambda z: z[0], ["[10]", "batch of 1", "[1, num_classes]"]),
    "rank 3": (lambda z: z.unsqueeze(1), ["[1, 1, 10]", "[1, num_classes]"]),
    "integers": (lambda z: (z * 10).long(), ["int64", "floating-point logits"]),
    "infinite": (lambda z: z + float("inf"), ["NaN or Inf", "finite"]),
    "not a number": (lambda z: z * float("nan"), ["NaN or Inf"]),
    "a tuple": (lambda z: (z, z), ["tuple", "one tensor of logits"]),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, size=(12, *SHAPE)).astype(np.float32)
    return str(save_npz(tmp_path_factory.mktemp("data") / "d.npz", x, np.arange(12) % 10))


def evaluate_error(capsys, tmp_path: Path, model: Path, data: str, *words: str) -> str:
    """`evaluate` exits 2 with one stderr line naming the model and `words`; writes nothing."""
    out = tmp_path / "out"
    out.mkdir()
    args = ["evaluate", "--model", str(model), "--data", data, *FAST]
    code = main([*args, "--out", str(out / "r.json"), "--csv", str(out / "t.csv")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith(PREFIX), err
    assert "Traceback" not in err and model.name in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert list(out.iterdir()) == []
    return lines[0]


@pytest.mark.parametrize("case", list(CASES))
def test_pt2_outputs_that_are_not_logits(capsys, tmp_path, data, case):
    shape_it, words = CASES[case]
    model = export_pt2(Head(shape_it), tmp_path / "bad.pt2", SHAPE)
    evaluate_error(capsys, tmp_path, model, data, *words)


class Labels(torch.nn.Module):
    """A "classifier" that returns its predicted labels, as int64."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :10].argmax(dim=1, keepdim=True)


@pytest.mark.filterwarnings("ignore::FutureWarning:torch.jit")  # building the test file
def test_torchscript_integer_output(capsys, tmp_path, data):
    path = tmp_path / "ints.ts"
    torch.jit.script(Labels()).save(str(path))
    evaluate_error(capsys, tmp_path, path, data, "int64", "floating-point logits")


def onnx_head(path: Path, nodes, output) -> Path:
    """Flatten, then `nodes` producing `output`, on a dynamic-batch 1×4×4 input."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *SHAPE])
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["f"]), *nodes], "g", [x], [output]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, path)
    return path


def test_onnx_integer_output(capsys, tmp_path, data):
    cast = helper.make_node("Cast", ["f"], ["y"], to=TensorProto.INT64)
    y = helper.make_tensor_value_info("y", TensorProto.INT64, ["N", 16])
    path = onnx_head(tmp_path / "ints.onnx", [cast], y)
    evaluate_error(capsys, tmp_path, path, data, "int64", "floating-point logits")


def test_onnx_output_without_batch(capsys, tmp_path, data):
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [0])
    nodes = [
        helper.make_node("Constant", [], ["axes"], value=axes),
        helper.make_node("ReduceSum", ["f", "axes"], ["y"], keepdims=0),
    ]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [16])
    path = onnx_head(tmp_path / "summed.onnx", nodes, y)
    evaluate_error(capsys, tmp_path, path, data, "[16]", "batch of 1")


def test_end_to_end_batch_ignoring_model(tmp_path, data):
    model = export_pt2(Head(lambda z: z[:1]), tmp_path / "first_row.pt2", SHAPE)
    args = ["evaluate", "--model", str(model), "--data", data, *FAST]
    outcome = run_inspector([*args, "--out", str(tmp_path / "r.json")], cwd=tmp_path)
    assert_user_error(outcome, "first_row.pt2", "[1, 10]", "batch of 2")
    assert not (tmp_path / "r.json").exists()
