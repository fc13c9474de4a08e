"""The shapes real ONNX files come in (issue 11, item 3), and the conversion verdict.

scikit-learn models through skl2onnx (a label output, then probabilities or a ZipMap), a
flat (N, C·H·W) input, NHWC, a fixed batch of 1, several outputs; and the faithfulness
verdict as a property of the loaded model that the sweep feeds and saliency reads.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from inspector.cli.main import main
from inspector.core.data import open_dataset
from inspector.core.data.builtin import _digits_arrays
from inspector.core.errors import InspectorError
from inspector.core.models import load_model
from inspector.core.saliency import attribute
from inspector.core.sweep import sweep_model
from inspector.core.threat import ThreatModel

DIGITS = {"input_shape": [1, 8, 8]}


@pytest.fixture(scope="module")
def digits_split():
    x_test, y_test, x_train, y_train = _digits_arrays()  # digits:test is what is evaluated
    return x_train.reshape(len(x_train), -1), y_train, x_test, y_test


@pytest.fixture(scope="module")
def sklearn_files(digits_split, tmp_path_factory):
    """An MLP with and without ZipMap, and a StandardScaler+MLP pipeline, on digits."""
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, y_train, x_test, y_test = digits_split
    folder = tmp_path_factory.mktemp("sklearn")
    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=200, random_state=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=200, random_state=0))
    files = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence
        mlp.fit(x_train, y_train)
        pipe.fit(x_train, y_train)
        sample = x_train[:1].astype(np.float32)
        for name, model, options in (
            ("mlp_zipmap", mlp, None),
            ("mlp_probabilities", mlp, {id(mlp): {"zipmap": False}}),
            ("pipeline", pipe, None),
        ):
            path = folder / f"{name}.onnx"
            onnx.save(to_onnx(model, sample, options=options, target_opset=17), path)
            files[name] = (path, model.score(x_test.reshape(len(x_test), -1), y_test))
    return files


@pytest.mark.parametrize("name", ["mlp_zipmap", "mlp_probabilities", "pipeline"])
def test_sklearn_models_load_with_gradients_and_their_own_accuracy(sklearn_files, name):
    path, sklearn_accuracy = sklearn_files[name]
    x_test, y_test, _, _ = _digits_arrays()
    loaded = load_model(path, device="cpu", overrides=DIGITS)
    accuracy = (loaded.reference_logits(x_test).argmax(1) == y_test).mean()
    assert accuracy == sklearn_accuracy
    assert loaded.differentiable, loaded.gradient_unavailable_reason
    assert loaded.check_conversion(x_test) < 1e-5
    notes = " | ".join(loaded.info.notes)
    assert "flat input 'X' of 64 values: images are flattened" in notes
    assert "it holds probabilities: their logarithm is used as logits" in notes
    x = torch.from_numpy(x_test[:8].copy()).requires_grad_(True)
    loss = loaded.module(x).logsumexp(1).sum()
    (grad,) = torch.autograd.grad(loss, x)
    assert grad.shape == (8, 1, 8, 8) and grad.abs().sum() > 0


def test_sklearn_pipeline_is_evaluated_from_the_command_line(sklearn_files, capsys):
    """Every image class through the CLI: PGD runs on the ONNX gradient path, exit 0."""
    path, accuracy = sklearn_files["pipeline"]
    argv = ["evaluate", "--model", str(path), "--data", "digits", "--attack", "pgd"]
    argv += ["--eps", "0,0.05", "--input-shape", "1,8,8", "--device", "cpu", "--no-checks"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f" {accuracy:.3f} " in out  # the clean accuracy column: scikit-learn's own
    assert "gradient" not in out.lower() or "unavailable" not in out.lower()


def _export(net: nn.Module, path, example: torch.Tensor, dynamic: bool = True, **kwargs):
    axes = {"dynamic_axes": {"x": {0: "n"}}} if dynamic else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (example,),
            path,
            dynamo=False,
            opset_version=17,
            input_names=["x"],
            **axes,
            **kwargs,
        )
    return path


class NhwcNet(nn.Module):
    """A classifier written for (N, H, W, C) inputs, as Keras/TF exports are."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x.permute(0, 3, 1, 2))).flatten(1))


def test_nhwc_input_is_transposed_to(tmp_path):
    net = NhwcNet().eval()
    path = _export(net, tmp_path / "nhwc.onnx", torch.rand(2, 8, 8, 3))
    loaded = load_model(path, device="cpu")
    assert loaded.info.input_shape == (3, 8, 8)
    assert any("is NHWC" in note for note in loaded.info.notes)
    x = np.random.default_rng(0).random((5, 3, 8, 8), dtype=np.float32)
    expected = net(torch.from_numpy(x).permute(0, 2, 3, 1)).detach().numpy()
    np.testing.assert_allclose(loaded.reference_logits(x), expected, atol=1e-5)
    assert loaded.check_conversion(x) < 1e-5


class TwoOutputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 8 * 8, 4)

    def forward(self, x: torch.Tensor):
        features = torch.relu(self.conv(x))
        return features, self.fc(features.flatten(1))


def test_fixed_batch_of_one_and_several_outputs(tmp_path):
    """Batch fixed at 1 (run in a loop), a feature map before the logits (skipped: rank 4)."""
    net = TwoOutputs().eval()
    path = _export(
        net,
        tmp_path / "two.onnx",
        torch.rand(1, 1, 8, 8),
        dynamic=False,
        output_names=["features", "logits"],
    )
    loaded = load_model(path, device="cpu", overrides={"class_names": list("abcd")})
    notes = " | ".join(loaded.info.notes)
    assert "scores read from output 'logits'" in notes and "fixed batch 1" in notes
    x = np.random.default_rng(1).random((5, 1, 8, 8), dtype=np.float32)
    expected = net(torch.from_numpy(x))[1].detach().numpy()
    np.testing.assert_allclose(loaded.reference_logits(x), expected, atol=1e-5)
    xt = torch.from_numpy(x).requires_grad_(True)
    out = loaded.module(xt)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-5)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), xt)
    xe = torch.from_numpy(x).requires_grad_(True)
    (expected_grad,) = torch.autograd.grad(net(xe)[1][:, 0].sum(), xe)
    torch.testing.assert_close(grad, expected_grad)  # every image of the loop, exactly


def test_no_float_score_output_is_refused(tmp_path):
    graph = helper.make_graph(
        [
            helper.make_node("ArgMax", ["x"], ["label"], axis=1, keepdims=0),
            helper.make_node("ReduceMax", ["x"], ["top"], keepdims=0, axes=[1]),
        ],
        "labels",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("top", TensorProto.FLOAT, ["N"]),
        ],
    )
    path = tmp_path / "labels.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    words = r"outputs \('label': int64, 'top': float32 of rank 1\) is a"
    with pytest.raises(InspectorError, match=words):
        load_model(path, device="cpu", overrides=DIGITS)


# --- the conversion verdict ---------------------------------------------------------------


class DisagreesOnBrightImages(nn.Module):
    """Agrees with onnxruntime on the loader's probes (mean ≤ 0.5) but not on bright data."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x)
        bright = (x.flatten(1).mean(1) > 0.9).to(out.dtype)[:, None]
        return out + 5.0 * bright


def _tiny_onnx(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(72, 10)).eval()
    return _export(net, tmp_path / "tiny.onnx", torch.rand(2, 1, 8, 8))


def test_the_sweeps_verdict_is_the_models_and_saliency_reads_it(tmp_path):
    loaded = load_model(_tiny_onnx(tmp_path), device="cpu")
    assert loaded.conversion is not None and loaded.conversion.faithful
    loaded.module = DisagreesOnBrightImages(loaded.module)
    copy = dataclasses.replace(loaded)  # every copy shares the one verdict
    bright = np.ones((4, 1, 8, 8), np.float32)
    from inspector.core.data.common import ArrayDataset

    data = ArrayDataset(
        spec="bright",
        kind="npz",
        images=bright,
        labels=np.zeros(4, np.int64),
        class_names=None,
        sha256="0",
    )
    threat = ThreatModel(eps=(0.0, 0.05), attack="pgd", steps=2)
    with pytest.raises(InspectorError, match="disagrees with onnxruntime"):
        for _ in sweep_model(loaded, data, np.arange(4), threat):
            pass
    assert not copy.conversion.faithful and not copy.differentiable
    grey = np.full((2, 1, 8, 8), 0.5, np.float32)  # where the module would agree
    with pytest.raises(InspectorError, match=r"need gradients.*disagrees with onnxruntime"):
        attribute(copy, grey, np.zeros(2, np.int64), "gradient")
    assert copy.gradient_model().module is None


def test_saliency_records_its_own_measurement_in_the_verdict(tmp_path):
    loaded = load_model(_tiny_onnx(tmp_path), device="cpu")
    loaded.module = DisagreesOnBrightImages(loaded.module)
    with pytest.raises(InspectorError, match="disagrees with onnxruntime on these images"):
        attribute(loaded, np.ones((2, 1, 8, 8), np.float32), np.zeros(2, np.int64))
    assert not loaded.conversion.faithful and loaded.gradient_model().module is None
    dataset = open_dataset("digits")
    assert dataset.labels.shape[0] == 360  # the data path itself is untouched


def test_the_sidecar_names_the_score_output(tmp_path):
    """ "output" in the sidecar (or the overrides) picks the scores by name, checked."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3)).eval()

    class Both(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x):
            logits = self.net(x)
            return logits * 2.0, logits

    path = _export(
        Both(), tmp_path / "both.onnx", torch.rand(2, 1, 8, 8), output_names=["doubled", "plain"]
    )
    x = np.random.default_rng(2).random((4, 1, 8, 8), dtype=np.float32)
    plain = net(torch.from_numpy(x)).detach().numpy()
    first = load_model(path, device="cpu")
    np.testing.assert_allclose(first.reference_logits(x), 2 * plain, rtol=1e-5)
    (tmp_path / "both.onnx.json").write_text('{"output": "plain"}')
    chosen = load_model(path, device="cpu")
    np.testing.assert_allclose(chosen.reference_logits(x), plain, rtol=1e-5)
    np.testing.assert_allclose(chosen.module(torch.from_numpy(x)).numpy(), plain, rtol=1e-5)
    assert "scores read from output 'plain'" in " | ".join(chosen.info.notes)
    with pytest.raises(InspectorError, match=r"output 'nope' .* its outputs: 'doubled', 'plain'"):
        load_model(path, device="cpu", overrides={"output": "nope"})


def test_a_sidecar_scale_feeds_0_255_pixels(tmp_path):
    """"scale": 255 for a model trained on 0-255 pixels; ε and the data stay in [0, 1]."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 3)).eval()
    path = _export(net, tmp_path / "bytes.onnx", torch.rand(2, 1, 8, 8))
    (tmp_path / "bytes.onnx.json").write_text('{"scale": 255, "mean": [127.5]}')
    loaded = load_model(path, device="cpu")
    x = np.random.default_rng(3).random((4, 1, 8, 8), dtype=np.float32)
    expected = net(torch.from_numpy(x * 255 - 127.5)).detach().numpy()
    np.testing.assert_allclose(loaded.reference_logits(x), expected, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(
        loaded.module(torch.from_numpy(x)), torch.from_numpy(expected), rtol=1e-4, atol=1e-3
    )
    assert loaded.info.mean == (0.5,) and loaded.info.std == (1 / 255,)
    assert any("scale 255 from sidecar" in note for note in loaded.info.notes)
    (tmp_path / "bytes.onnx.json").write_text('{"scale": -1}')
    with pytest.raises(InspectorError, match="scale must be a positive number"):
        load_model(path, device="cpu")


def test_an_operator_without_gradients_leaves_square(tmp_path, capsys):
    """Sinh has no function here: loading says op, opset and node; PGD is refused in one
    line; Square runs through onnxruntime alone."""
    rng = np.random.default_rng(4)
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"]),
        helper.make_node("Gemm", ["f", "w"], ["g"], transB=1),
        helper.make_node("Sinh", ["g"], ["y"], name="odd"),
    ]
    weight = numpy_helper.from_array(rng.standard_normal((3, 16)).astype(np.float32), "w")
    graph = helper.make_graph(
        nodes,
        "sinh",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [weight],
    )
    path = tmp_path / "sinh.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    loaded = load_model(path, device="cpu")
    assert not loaded.differentiable
    assert "operator 'Sinh' (opset 17, node 'odd') has no gradient path" in (
        loaded.gradient_unavailable_reason
    )
    x = rng.random((12, 1, 4, 4), dtype=np.float32)
    from helpers import save_npz

    data = str(save_npz(tmp_path / "d.npz", x, loaded.reference_logits(x).argmax(1)))
    argv = ["evaluate", "--model", str(path), "--data", data, "--eps", "0,0.1", "--no-checks"]
    assert main([*argv, "--attack", "pgd", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pgd needs gradients" in err and "'Sinh'" in err
    assert main([*argv, "--attack", "square", "--queries", "50", "--device", "cpu"]) == 0
