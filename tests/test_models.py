"""Model loading: every backend, trust rules, metadata precedence, normalisation, devices."""

from __future__ import annotations

import builtins
import hashlib
import json
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from inspector.cli.hints import cli_message
from inspector.core.devices import onnx_providers_for, resolve_device
from inspector.core.errors import InspectorError
from inspector.core.models import ModelMetadata, load_model, max_logit_difference

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))
from arch_for_tests import make_tiny_cnn  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning:torch.jit",  # building TorchScript test files
    "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning",
    "ignore:The feature will be removed:DeprecationWarning",
)
ARCH = "arch_for_tests:make_tiny_cnn"
SHAPE = (1, 8, 8)


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return make_tiny_cnn()


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((5, *SHAPE), dtype=np.float32)


def cli(caught: pytest.ExceptionInfo[InspectorError]) -> str:
    """The error as the command line prints it: the core's hint worded as flags."""
    return cli_message(caught.value)


def bare_logits(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def input_gradient(loaded, x: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(x.copy()).requires_grad_(True)
    loaded.module(tensor)[:, 3].sum().backward()
    return tensor.grad


def export_pt2(net, path: Path, dynamic: bool) -> Path:
    example = (torch.rand(2, *SHAPE),)
    shapes = {"x": {0: torch.export.Dim("batch")}} if dynamic else None
    torch.export.save(torch.export.export(net, example, dynamic_shapes=shapes), path)
    return path


def export_onnx(net, path: Path, dynamo: bool) -> Path:
    example = (torch.rand(2, *SHAPE),)
    if dynamo:
        dims = {"x": {0: torch.export.Dim("batch")}}
        torch.onnx.export(net, example, path, opset_version=17, dynamo=True, dynamic_shapes=dims)
    else:
        torch.onnx.export(
            net,
            example,
            path,
            opset_version=17,
            dynamo=False,
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
        )
    return path


@pytest.fixture(scope="module")
def onnx_path(net, tmp_path_factory) -> Path:
    return export_onnx(net, tmp_path_factory.mktemp("onnx") / "net.onnx", dynamo=True)


# --- torch.export ------------------------------------------------------------------


def test_pt2_dynamic_batch_round_trips_with_gradients(net, images, tmp_path):
    path = export_pt2(net, tmp_path / "net.pt2", dynamic=True)
    loaded = load_model(path, device="cpu")
    assert loaded.info.backend == "torch.export"
    assert loaded.info.input_shape == SHAPE
    assert loaded.info.class_names == tuple(str(i) for i in range(10))
    assert loaded.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.info.name == "net" and loaded.info.device == "cpu"
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-5)
    assert input_gradient(loaded, images).abs().sum() > 0
    assert not any(p.requires_grad for p in loaded.module.parameters())
    loaded.module.eval()  # exported graphs refuse .eval(); the wrapper must not


def test_pt2_fixed_batch_runs_other_batch_sizes(net, images, tmp_path):
    loaded = load_model(export_pt2(net, tmp_path / "fixed.pt2", dynamic=False))
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-5)
    assert input_gradient(loaded, images[:3]).abs().sum() > 0
    assert any("fixed batch of 2" in note for note in loaded.info.notes)


# --- TorchScript, state_dict, pickle ------------------------------------------------


@pytest.mark.parametrize("suffix", [".pt", ".ts"])
def test_torchscript(net, images, tmp_path, suffix):
    path = tmp_path / f"scripted{suffix}"
    torch.jit.trace(net, torch.rand(2, *SHAPE)).save(str(path))
    loaded = load_model(path, fallback_input_shape=SHAPE)
    assert loaded.info.backend == "torchscript"
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-5)
    assert input_gradient(loaded, images).abs().sum() > 0


def test_state_dict_needs_arch_and_trust(net, images, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(net.state_dict(), path)
    with pytest.raises(InspectorError) as caught:  # the flags: as the command line says it
        load_model(path, fallback_input_shape=SHAPE)
    assert re.search(re.escape("--arch package.module:factory --trust-code"), cli(caught))
    with pytest.raises(InspectorError) as caught:
        load_model(path, arch=ARCH, fallback_input_shape=SHAPE)
    assert re.search("--trust-code", cli(caught))
    with pytest.raises(InspectorError, match="input_shape"):
        load_model(path, arch=ARCH, trust_code=True)
    loaded = load_model(path, arch=ARCH, trust_code=True, fallback_input_shape=SHAPE)
    assert loaded.info.backend == "state_dict"
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-6)


def test_state_dict_checkpoint_wrapper_and_prefix(net, images, tmp_path):
    path = tmp_path / "ckpt.pt"
    state = {f"module.{k}": v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "epoch": 3}, path)
    loaded = load_model(path, arch=ARCH, trust_code=True, fallback_input_shape=SHAPE)
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-6)


def test_state_dict_bad_arch(net, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(net.state_dict(), path)
    with pytest.raises(InspectorError, match="PYTHONPATH"):
        load_model(path, arch="no_such_pkg.x:f", trust_code=True, fallback_input_shape=SHAPE)
    torch.save({"other.weight": torch.zeros(3)}, path)
    with pytest.raises(InspectorError, match="missing key"):
        load_model(path, arch=ARCH, trust_code=True, fallback_input_shape=SHAPE)


def test_pickled_module_needs_trust(net, images, tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(net, path)
    with pytest.raises(InspectorError) as caught:
        load_model(path, fallback_input_shape=SHAPE)
    assert re.search(r"pickled Python object.*--trust-code", cli(caught))
    loaded = load_model(path, trust_code=True, fallback_input_shape=SHAPE)
    assert loaded.info.backend == "pickle"
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-6)


class Malicious:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_malicious_pickle_runs_nothing_without_trust(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    if writer == "torch.save":
        torch.save({"model": Malicious(marker)}, path)
    else:
        path.write_bytes(pickle.dumps(Malicious(marker), protocol=5))
    with pytest.raises(InspectorError, match="pickled Python object"):
        load_model(path, fallback_input_shape=SHAPE)
    assert not marker.exists()


# --- ONNX ---------------------------------------------------------------------------


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript-exporter"])
def test_onnx_loads_and_converts(net, images, tmp_path, dynamo):
    path = export_onnx(net, tmp_path / "net.onnx", dynamo=dynamo)
    loaded = load_model(path, device="cpu")
    assert loaded.info.backend == "onnx"
    if dynamo:  # weights in net.onnx.data: the hash must cover them
        assert any("net.onnx.data" in note for note in loaded.info.notes)
    assert "CPUExecutionProvider" in loaded.info.providers
    assert "CUDAExecutionProvider" not in loaded.info.providers
    assert loaded.info.input_shape == SHAPE and loaded.info.num_classes == 10
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-5)
    assert loaded.differentiable, loaded.gradient_unavailable_reason
    assert max_logit_difference(loaded, images) < 1e-4
    assert input_gradient(loaded, images).abs().sum() > 0


def test_onnx_sessions_use_torchs_thread_count_and_do_not_spin():
    from inspector.core.models.onnx_loader import session_options

    before = torch.get_num_threads()
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            options = session_options()
            assert options.intra_op_num_threads == threads
            assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    finally:
        torch.set_num_threads(before)


def test_onnx_fixed_batch(net, images, tmp_path):
    path = tmp_path / "fixed.onnx"
    torch.onnx.export(net, (torch.rand(2, *SHAPE),), path, opset_version=17, dynamo=False)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.reference_logits(images), bare_logits(net, images), atol=1e-5)
    assert max_logit_difference(loaded, images) < 1e-4
    assert input_gradient(loaded, images).abs().sum() > 0


def test_onnx_rank3_input_refused(tmp_path):
    """Rank 2 is a flat MLP input and rank 4 an image (tests/test_onnx_shapes.py); not 3."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8, 8])],
    )
    path = tmp_path / "flat.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    with pytest.raises(InspectorError, match=r"rank 3.*\(N, C, H, W\)"):
        load_model(path)


def test_onnx_conversion_failure_keeps_reference(onnx_path, images, monkeypatch):
    from inspector.core.models import onnx_loader

    def refuse(*_args):
        raise NotImplementedError("op Foo is not implemented\nsecond line")

    monkeypatch.setattr(onnx_loader, "OnnxGraph", refuse)
    loaded = load_model(onnx_path)
    assert loaded.module is None and not loaded.differentiable
    assert "Foo" in loaded.gradient_unavailable_reason
    assert "\n" not in loaded.gradient_unavailable_reason
    assert loaded.reference_logits(images).shape == (5, 10)


# --- broken files -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".pt2", ".onnx", ".pt", ".pth", ".ts"])
def test_corrupt_files_are_inspector_errors(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(InspectorError, match=r"junk.*supported: \.pt2"):
        load_model(path, trust_code=True, fallback_input_shape=SHAPE)


def test_missing_file_and_unknown_extension(tmp_path):
    with pytest.raises(InspectorError, match="model file not found"):
        load_model(tmp_path / "nope.pt2")
    path = tmp_path / "model.h5"
    path.write_bytes(b"x")
    with pytest.raises(InspectorError, match=r"unknown extension.*\.onnx"):
        load_model(path)


# --- metadata -----------------------------------------------------------------------


def onnx_with_props(source: Path, target: Path) -> Path:
    model = onnx.load(str(source))
    props = {"class_names": json.dumps([f"onnx{i}" for i in range(10)]), "mean": "[0.5]"}
    helper.set_model_props(model, props)
    onnx.save(model, str(target))
    return target


def test_metadata_precedence(onnx_path, tmp_path):
    path = onnx_with_props(onnx_path, tmp_path / "meta.onnx")
    loaded = load_model(path)
    assert loaded.info.class_names[0] == "onnx0" and loaded.info.mean == (0.5,)
    assert "class_names: ONNX metadata_props" in loaded.info.notes

    (tmp_path / "meta.json").write_text(json.dumps({"class_names": [f"c{i}" for i in range(10)]}))
    loaded = load_model(path)
    assert loaded.info.class_names[0] == "c0" and loaded.info.mean == (0.5,)
    assert "class_names: sidecar meta.json" in loaded.info.notes

    (tmp_path / "meta.onnx.json").write_text(json.dumps({"name": "Side", "std": [0.25]}))
    loaded = load_model(path)  # net.onnx.json wins over net.json
    assert loaded.info.name == "Side" and loaded.info.std == (0.25,)
    assert loaded.info.class_names[0] == "onnx0"

    names = [f"o{i}" for i in range(10)]
    loaded = load_model(path, overrides={"class_names": names, "mean": None}, name="N")
    assert loaded.info.class_names[0] == "o0" and loaded.info.name == "N"
    loaded = load_model(path, overrides=ModelMetadata(class_names=tuple(names)))
    assert loaded.info.class_names == tuple(names)


def test_bad_metadata_is_refused(onnx_path, tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(onnx.load(str(onnx_path)), str(path))
    sidecar = tmp_path / "m.json"
    sidecar.write_text("{not json")
    with pytest.raises(InspectorError, match=r"m\.json.*not valid JSON"):
        load_model(path)
    sidecar.write_text(json.dumps({"input_shape": [1, 8]}))
    with pytest.raises(InspectorError, match=r"m\.json.*input_shape"):
        load_model(path)
    sidecar.write_text(json.dumps({"class_names": ["a", "b"]}))
    with pytest.raises(InspectorError, match="2 names but the model outputs 10"):
        load_model(path)
    sidecar.unlink()
    with pytest.raises(InspectorError, match="mean from overrides has 3 values"):
        load_model(path, overrides={"mean": [0.1, 0.2, 0.3]})
    with pytest.raises(InspectorError, match="fails on an input of shape"):
        load_model(path, overrides={"input_shape": [3, 8, 8]})


def test_normalisation_is_inside_the_model(net, onnx_path, images, tmp_path):
    mean, std = 0.4, 0.2
    expected = bare_logits(net, (images - mean) / std)
    overrides = {"mean": [mean], "std": [std]}
    weights = tmp_path / "w.pt"
    torch.save(net.state_dict(), weights)
    torch_model = load_model(
        weights, arch=ARCH, trust_code=True, overrides=overrides, fallback_input_shape=SHAPE
    )
    onnx_model = load_model(onnx_path, overrides=overrides)
    for loaded in (torch_model, onnx_model):
        assert loaded.info.mean == (mean,) and loaded.info.std == (std,)
        np.testing.assert_allclose(loaded.reference_logits(images), expected, atol=1e-4)
        with torch.no_grad():
            got = loaded.module(torch.from_numpy(images)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4)


# --- devices ------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_device_refused_without_gpu():
    assert resolve_device("auto") == torch.device("cpu")
    for name in ("cuda", "cuda:0"):
        with pytest.raises(InspectorError) as caught:
            resolve_device(name)
        assert re.search("--device cpu", cli(caught))


def test_device_names_and_providers(monkeypatch):
    import onnxruntime

    assert resolve_device("CPU") == torch.device("cpu")
    with pytest.raises(InspectorError, match="auto, cpu, cuda"):
        resolve_device("gpu")
    assert onnx_providers_for("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr(
        onnxruntime,
        "get_available_providers",
        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    )
    assert onnx_providers_for(torch.device("cuda", 0)) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert onnx_providers_for("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert onnx_providers_for("cuda") == ["CPUExecutionProvider"]
