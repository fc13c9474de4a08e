"""Hostile torch model files: .pt2 pickles and graphs, TorchScript graphs, sources, pickles.

Each hostile file is first shown to be live (torch's own loader, unprotected, runs its
payload or reads the victim file) where that is cheap, then refused by load_model or the
CLI with one line naming what was refused, with the marker absent and the victim untouched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import export_pt2, linear_problem, save_npz
from hostile_support import (
    assert_user_error,
    inject,
    poisoned_torch_save,
    rewrite_zip,
    run_inspector,
    sample_inputs_payload,
)
from torchvision_nets import ARCHS as SHARED_ARCHS
from torchvision_nets import shared_exports

from inspector.cli.hints import cli_message
from inspector.core.errors import InspectorError
from inspector.core.models.loading import load_model
from inspector.core.models.safety.graph_ops import check_ops, script_op_names
from inspector.core.models.safety.pickle_scan import scan_pickles
from inspector.core.models.torch_loaders import load_exported

pytestmark = pytest.mark.filterwarnings(
    "ignore::FutureWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)
SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def linear_pt2(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pt2")
    module, _, _ = linear_problem(seed=1, n=8, classes=3)
    return export_pt2(module, folder / "linear.pt2", SHAPE)


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> Path:
    _, x, y = linear_problem(seed=1, n=8, classes=3)
    return save_npz(tmp_path_factory.mktemp("data") / "data.npz", x, y)


def weights_payload(src: Path, dst: Path, marker: Path) -> Path:
    """Mark weight_0 as pickled in the config and store it as a poisoned torch.save zip."""
    with zipfile.ZipFile(src) as archive:
        config_name = next(n for n in archive.namelist() if n.endswith("weights_config.json"))
        config = json.loads(archive.read(config_name))
    fqn, entry = next(iter(config["config"].items()))
    entry["use_pickle"] = True
    buffer = Path(str(marker) + ".weight.pt")
    weight = torch.export.load(str(src)).state_dict[fqn].detach().clone()
    torch.save(torch.nn.Parameter(weight, requires_grad=False), buffer)
    poisoned = poisoned_torch_save(buffer.read_bytes(), marker)

    def edit(name: str, data: bytes) -> bytes:
        if name == config_name:
            return json.dumps(config).encode()
        if name.endswith(f"data/weights/{entry['path_name']}"):
            return poisoned
        return data

    return rewrite_zip(src, dst, edit)


# --- .pt2: pickles ------------------------------------------------------------------


def _ran_then_refused(marker: Path, hostile: Path, match: str) -> None:
    """The payload ran unprotected (its marker is there); load_model refuses the file, with
    `match` in the message, and runs nothing."""
    assert marker.exists()
    marker.unlink()
    with pytest.raises(InspectorError, match=match):
        load_model(hostile)
    assert not marker.exists()


@pytest.mark.parametrize("member", ["sample_inputs", "weights"])
def test_pt2_pickle_payload_is_live_then_refused(linear_pt2, tmp_path, member):
    marker = tmp_path / "ran"
    build = sample_inputs_payload if member == "sample_inputs" else weights_payload
    hostile = build(linear_pt2, tmp_path / "hostile.pt2", marker)
    # unprotected torch runs the payload and loads fine; its fallback warning has a format
    # bug (too few arguments) that pytest's log capture turns into an error, so mute it
    logging.disable(logging.CRITICAL)
    try:
        torch.export.load(str(hostile))
    finally:
        logging.disable(logging.NOTSET)
    system = f"{os.system.__module__}.system"
    _ran_then_refused(marker, hostile, rf"refused.*data/{member}/.*{system}")


def test_pt2_forced_weights_only_refuses_without_the_scan(linear_pt2, tmp_path, monkeypatch):
    """Defence in depth: with the static scan switched off, the forced flag still holds."""
    marker = tmp_path / "ran"
    hostile = sample_inputs_payload(linear_pt2, tmp_path / "hostile.pt2", marker)
    monkeypatch.setattr("inspector.core.models.torch_loaders.inspect_pt2", lambda path: None)
    with pytest.raises(InspectorError, match="cannot load model"):
        load_exported(hostile, torch.device("cpu"))
    assert not marker.exists()
    assert torch.load is torch.serialization.load  # restored after the failure


def test_pt2_sample_inputs_payload_refused_by_the_cli(linear_pt2, npz, tmp_path):
    marker = tmp_path / "ran"
    hostile = sample_inputs_payload(linear_pt2, tmp_path / "hostile.pt2", marker)
    out = tmp_path / "out.json"
    args = ["evaluate", "--model", str(hostile), "--data", str(npz), "--eps", "0"]
    outcome = run_inspector([*args, "--attack", "pgd", "--out", str(out)], cwd=tmp_path)
    assert_user_error(outcome, "refused", "sample_inputs", "system")
    assert not marker.exists() and not out.exists()


def test_pt2_opaque_constant_refused(linear_pt2, tmp_path):
    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("constants_config.json"):
            entry = {"path_name": "opaque_obj_0", "is_param": False, "use_pickle": True}
            return json.dumps({"config": {"c": entry}}).encode()
        return data

    hostile = rewrite_zip(linear_pt2, tmp_path / "opaque.pt2", edit)
    with pytest.raises(InspectorError, match=r"refused.*opaque_obj_0"):
        load_model(hostile)


def test_pt2_shape_expression_that_is_code_refused(linear_pt2, tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('os').system('touch {marker}')"

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("models/model.json"):
            text = data.decode()
            assert '"expr_str": "' in text
            return text.replace('"expr_str": "', f'"expr_str": "{code} + ', 1).encode()
        return data

    hostile = rewrite_zip(linear_pt2, tmp_path / "sympy.pt2", edit)
    with contextlib.suppress(Exception):  # unprotected: sympify evaluates the string
        torch.export.load(str(hostile))
    _ran_then_refused(marker, hostile, r"refused.*shape expression")


def test_pt2_guards_code_is_live_then_refused(linear_pt2, tmp_path):
    marker = tmp_path / "ran"

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("models/model.json"):
            document = json.loads(data)
            document["guards_code"] = [f"__import__('os').system('touch {marker}') == 0"]
            return json.dumps(document).encode()
        return data

    hostile = rewrite_zip(linear_pt2, tmp_path / "guards.pt2", edit)
    with contextlib.suppress(Exception):  # unprotected: unlifting execs the guards
        torch.export.load(str(hostile)).module()(torch.rand(2, *SHAPE))
    _ran_then_refused(marker, hostile, r"refused.*guard")


def test_pt2_native_code_member_refused(linear_pt2, tmp_path):
    hostile = tmp_path / "aoti.pt2"
    rewrite_zip(linear_pt2, hostile, lambda n, d: d)
    with zipfile.ZipFile(hostile, "a") as archive:
        archive.writestr("linear/data/aotinductor/model/model.so", b"\x7fELF")
    with pytest.raises(InspectorError, match=r"refused.*aotinductor.*native code"):
        load_model(hostile)


# --- .pt2: graph ops ----------------------------------------------------------------


class WithFull(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :4] + torch.full((4,), 1.0)


def from_file_pt2(tmp_path: Path, victim: Path) -> Path:
    """Export a model with aten.full, then point that node at aten.from_file(victim)."""
    plain = tmp_path / "full.pt2"
    torch.export.save(torch.export.export(WithFull(), (torch.rand(2, *SHAPE),)), str(plain))

    def edit(name: str, data: bytes) -> bytes:
        if not name.endswith("models/model.json"):
            return data
        document = json.loads(data)
        for node in document["graph_module"]["graph"]["nodes"]:
            if node["target"] == "torch.ops.aten.full.default":
                node["target"] = "torch.ops.aten.from_file.default"
                node["inputs"] = [
                    {"name": "filename", "arg": {"as_string": str(victim)}, "kind": 1},
                    {"name": "shared", "arg": {"as_bool": True}, "kind": 1},
                    {"name": "size", "arg": {"as_int": 4}, "kind": 1},
                    {"name": "dtype", "arg": {"as_scalar_type": 7}, "kind": 2},
                ]
        return json.dumps(document).encode()

    return rewrite_zip(plain, tmp_path / "from_file.pt2", edit)


def test_pt2_from_file_op_is_live_then_refused(tmp_path):
    victim = tmp_path / "victim.bin"
    victim.write_bytes(np.full(4, 7.0, np.float32).tobytes())
    hostile = from_file_pt2(tmp_path, victim)
    program = torch.export.load(str(hostile))
    read = program.module()(torch.zeros(2, *SHAPE))
    assert read.tolist() == [[7.0] * 4] * 2  # unprotected: the graph reads the victim file
    with pytest.raises(InspectorError) as caught:
        load_model(hostile)
    assert re.search(r"refused.*aten::from_file.*--trust-code", cli_message(caught.value))


def test_pt2_custom_op_refused_even_when_registered(tmp_path):
    marker = tmp_path / "ran"
    with torch.library._scoped_library("torchsafe_test", "FRAGMENT") as lib:
        lib.define("touch(Tensor x) -> Tensor")

        def touch(x):
            marker.touch()
            return x.clone()

        lib.impl("touch", touch, "CompositeExplicitAutograd")
        lib._register_fake("touch", lambda x: torch.empty_like(x))

        class Custom(torch.nn.Module):
            def forward(self, x):
                return torch.ops.torchsafe_test.touch(x).flatten(1)

        path = tmp_path / "custom.pt2"
        torch.export.save(torch.export.export(Custom(), (torch.rand(2, *SHAPE),)), str(path))
        marker.unlink(missing_ok=True)
        with pytest.raises(InspectorError, match=r"refused.*torchsafe_test::touch"):
            load_model(path)
        assert not marker.exists()


# --- TorchScript --------------------------------------------------------------------


class ReadsVictim(torch.nn.Module):
    """forward maps a victim file and writes into it: the issue's from_file model."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim
        self.linear = torch.nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mapped = torch.from_file(self.victim, True, 4, dtype=torch.float32)
        mapped.add_(1.0)
        return self.linear(x.flatten(1)) + mapped[:3]


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "victim.bin"
    path.write_bytes(bytes(range(16)))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    return path


def untouched(path: Path) -> bool:
    return path.read_bytes() == bytes(range(16)) and path.stat().st_mtime_ns == 1_000_000_000


def from_file_script(tmp_path: Path, victim: Path) -> Path:
    path = tmp_path / "reads_victim.ts"
    torch.jit.script(ReadsVictim(str(victim))).save(str(path))
    Path(str(path) + ".json").write_text(json.dumps({"input_shape": list(SHAPE)}))
    return path


def test_torchscript_from_file_refused_before_any_forward(tmp_path, victim):
    path = from_file_script(tmp_path, victim)
    with pytest.raises(InspectorError) as caught:
        load_model(path)
    assert re.search(r"refused.*from_file.*--trust-code", cli_message(caught.value))
    assert untouched(victim)


def test_torchscript_graph_check_catches_from_file_on_its_own(tmp_path, victim):
    """The graph walk alone (without the source scan) names aten::from_file."""
    module = torch.jit.load(str(from_file_script(tmp_path, victim)))
    with pytest.raises(InspectorError, match="aten::from_file"):
        check_ops(tmp_path / "m.ts", script_op_names(module))
    assert untouched(victim)


def test_torchscript_from_file_refused_by_the_cli(tmp_path, victim, npz):
    path = from_file_script(tmp_path, victim)
    out = tmp_path / "out.json"
    args = ["evaluate", "--model", str(path), "--data", str(npz), "--eps", "0"]
    outcome = run_inspector([*args, "--attack", "pgd", "--out", str(out)], cwd=tmp_path)
    assert_user_error(outcome, "refused", "from_file", "--trust-code")
    assert untouched(victim) and not out.exists()


def test_torchscript_from_file_loads_with_trust(tmp_path, victim):
    loaded = load_model(from_file_script(tmp_path, victim), trust_code=True)
    assert loaded.info.backend == "torchscript"
    assert victim.read_bytes() != bytes(range(16))  # the flag means something: it ran


class SetsState(torch.nn.Module):
    """__setstate__ writes into a victim file while torch.jit.load unpickles the module."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim
        self.weight = torch.zeros(16, 3)

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool, torch.Tensor]:
        return (self.victim, self.training, self.weight)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool, torch.Tensor]) -> None:
        mapped = torch.from_file(state[0], True, 4, dtype=torch.float32)
        mapped.fill_(0.0)
        self.victim = state[0]
        self.training = state[1]
        self.weight = state[2] + 0.0 * mapped.sum()  # used, so the write is kept

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight


def test_torchscript_setstate_is_live_then_refused_at_load(tmp_path, victim):
    path = tmp_path / "setstate.pt"
    scripted = torch.jit.script(SetsState(str(victim)))
    scripted.save(str(path))
    assert untouched(victim)
    torch.jit.load(str(path))  # unprotected: loading alone rewrites the victim
    assert not untouched(victim)
    victim.write_bytes(bytes(range(16)))
    os.utime(victim, ns=(1_000_000_000, 1_000_000_000))
    with pytest.raises(InspectorError, match=r"refused.*__setstate__"):
        load_model(path, fallback_input_shape=SHAPE)
    assert untouched(victim)


def test_torchscript_constants_pickle_payload_refused(tmp_path):
    marker = tmp_path / "ran"
    plain = tmp_path / "plain.ts"
    torch.jit.trace(torch.nn.Linear(16, 3), torch.rand(2, 16)).save(str(plain))

    def edit(name: str, data: bytes) -> bytes:
        return inject(data, marker) if name.endswith("constants.pkl") else data

    hostile = rewrite_zip(plain, tmp_path / "constants.ts", edit)
    with pytest.raises(InspectorError, match=r"refused.*constants\.pkl.*system"):
        load_model(hostile, fallback_input_shape=SHAPE)
    assert not marker.exists()


# --- torch.save ---------------------------------------------------------------------


def test_memoised_global_is_named_correctly(tmp_path):
    """A global assembled from memoised strings (BINGET before STACK_GLOBAL) is still named."""
    module = os.system.__module__.encode()
    evil = (
        b"\x80\x04\x8c" + bytes([len(module)]) + module + b"\x94\x8c\x06system\x94"
        b"\x8c\x05torch\x8c\x06Tensor\x86\x940h\x00h\x01\x93\x8c\x04true\x85R."
    )
    path = tmp_path / "memo.pth"
    path.write_bytes(evil)
    with pytest.raises(InspectorError, match=rf"pickled Python object.*{module.decode()}\.system"):
        load_model(path, fallback_input_shape=SHAPE)


def test_legacy_torch_save_payload_in_the_data_pickle(tmp_path):
    """Legacy (non-zip) torch.save: the payload sits in the 4th pickle, not the first."""
    marker = tmp_path / "ran"
    path = tmp_path / "legacy.pth"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    scans = scan_pickles(data, 3)
    start = scans[-1].end
    path.write_bytes(data[:start] + inject(data[start:], marker))
    with pytest.raises(InspectorError, match=r"pickled Python object.*system"):
        load_model(path, fallback_input_shape=SHAPE)
    assert not marker.exists()


# --- the allowlists do not refuse real classifiers ---------------------------------

# the architectures built here; resnet18, mobilenet_v3_small, efficientnet_b0 and vit are the
# ONNX matrix's networks (BatchNorm calibrated, logits of O(10)), shared through
# torchvision_nets.py
ARCHITECTURES = {
    "squeezenet": lambda m: m.squeezenet1_1(weights=None, num_classes=10),
    "densenet121": lambda m: m.densenet121(weights=None, num_classes=10),
    "convnext_tiny": lambda m: m.convnext_tiny(weights=None, num_classes=10),
    "regnet": lambda m: m.regnet_y_400mf(weights=None, num_classes=10),
    "shufflenet": lambda m: m.shufflenet_v2_x0_5(weights=None, num_classes=10),
}
NAMES = ("squeezenet", *SHARED_ARCHS, *list(ARCHITECTURES)[1:])
# measured here: under 1 s each; the rest (up to 10 s each) are marked slow
FAST_CASES = {
    ("resnet18", "traced"),
    ("resnet18", "scripted"),
    ("resnet18", "exported"),
    ("squeezenet", "scripted"),
    ("squeezenet", "decomposed"),
    ("vit", "traced"),
    ("vit", "scripted"),
    ("vit", "exported"),
}
FORMATS = ("traced", "scripted", "exported", "decomposed")
# the costliest cells (10-22 s each here) whose graph ops the kept cells all cover (checked
# by listing exported_op_names of every cell): left out to keep the suite in bounds
LEFT_OUT = {
    ("densenet121", "decomposed"),
    ("efficientnet_b0", "decomposed"),
    ("regnet", "decomposed"),
}


def save_as(network: torch.nn.Module, form: str, folder: Path) -> Path:
    example = torch.rand(2, 3, 32, 32)
    if form in ("traced", "scripted"):
        path = folder / f"{form}.ts"
        compiled = (
            torch.jit.trace(network, example, check_trace=False)
            if form == "traced"
            else torch.jit.script(network)
        )
        compiled.save(str(path))
        return path
    program = torch.export.export(network, (example,))
    if form == "decomposed":
        program = program.run_decompositions()
    path = folder / f"{form}.pt2"
    torch.export.save(program, str(path))
    return path


def architecture_cases():
    for name in NAMES:
        for form in FORMATS:
            if (name, form) in LEFT_OUT:
                continue
            marks = [] if (name, form) in FAST_CASES else [pytest.mark.slow]
            yield pytest.param(name, form, marks=marks, id=f"{name}-{form}")


SHARED_FORMS = {"traced": "torchscript", "exported": "pt2"}  # the ONNX matrix's names


@functools.cache
def _built(name: str) -> torch.nn.Module:
    """An architecture the ONNX matrix lacks, built once per run for all its forms."""
    import torchvision.models

    torch.manual_seed(0)
    return ARCHITECTURES[name](torchvision.models).eval()


def built_and_saved(name: str, form: str, factory, folder: Path) -> tuple[torch.nn.Module, Path]:
    """The network and its file: the ONNX matrix's (torchvision_nets.py, built and exported
    once per run) where it has them, else built here and saved in `folder`."""
    if name in SHARED_ARCHS:
        shared = shared_exports(factory)
        network = shared.net(name)
        if form in SHARED_FORMS:
            return network, shared.file(name, SHARED_FORMS[form])
    else:
        network = _built(name)
    return network, save_as(network, form, folder)


@pytest.mark.parametrize(("name", "form"), architecture_cases())
def test_reference_architectures_load_untrusted(tmp_path_factory, tmp_path, name, form):
    pytest.importorskip("torchvision.models")
    network, path = built_and_saved(name, form, tmp_path_factory, tmp_path)
    loaded = load_model(path, fallback_input_shape=(3, 32, 32))
    images = np.random.default_rng(0).uniform(size=(2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = network(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(loaded.reference_logits(images), expected, atol=1e-4)


def test_allowed_ops_literal_is_sorted():
    import inspector.core.models.safety.graph_ops as graph_ops

    source = Path(graph_ops.__file__).read_text()
    names = [
        line.strip().strip('",') for line in source.splitlines() if line.startswith(" " * 8 + '"')
    ]
    assert names == sorted(names) and set(names) == graph_ops.ALLOWED_OPS


def test_pt2_attribute_path_that_is_code_is_live_then_refused(tmp_path):
    """Parameter paths end up in the Python source fx generates for the unlifted module."""
    marker = tmp_path / "ran"
    network = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()
    plain = tmp_path / "plain.pt2"
    torch.export.save(torch.export.export(network, (torch.rand(2, *SHAPE),)), str(plain))
    code = (
        f'w") if getattr(__import__("os"), "system")("touch {marker}") == 0 else getattr(self, "w'
    )
    quoted = json.dumps(code).encode()

    def edit(name: str, data: bytes) -> bytes:
        if name.endswith(("models/model.json", "weights_config.json")):
            return data.replace(b'"1.weight"', quoted)
        return data

    hostile = rewrite_zip(plain, tmp_path / "path.pt2", edit)
    with pytest.raises(AttributeError):  # unprotected: the generated forward runs the code
        torch.export.load(str(hostile)).module()(torch.rand(2, *SHAPE))
    _ran_then_refused(marker, hostile, r"refused.*attribute path.*is code")


def test_pt2_empty_record_cannot_conjure_a_huge_tensor(linear_pt2, tmp_path):
    """torch.export.load allocates zeros of the declared shape for an empty weight record."""
    with zipfile.ZipFile(linear_pt2) as archive:
        config_name = next(n for n in archive.namelist() if n.endswith("weights_config.json"))
        config = json.loads(archive.read(config_name))
    entry = next(iter(config["config"].values()))
    entry["tensor_meta"]["sizes"] = [{"as_int": 1 << 20}, {"as_int": 1 << 20}]  # 4 TiB
    member = f"data/weights/{entry['path_name']}"

    def edit(name: str, data: bytes) -> bytes:
        if name == config_name:
            return json.dumps(config).encode()
        return b"" if name.endswith(member) else data

    hostile = rewrite_zip(linear_pt2, tmp_path / "conjure.pt2", edit)
    with pytest.raises(InspectorError, match=r"declares tensor weight_\d+ of shape .* no data"):
        load_model(hostile)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_torch_save_storage_larger_than_the_file_refused(tmp_path, zipped):
    """A storage id declaring 2**40 elements would be allocated before its data is read."""
    path = tmp_path / "huge.pth"
    torch.save({"w": torch.zeros(568)}, path, _use_new_zipfile_serialization=zipped)
    small = b"M" + (568).to_bytes(2, "little")  # BININT2 568: the storage id's count comes first
    big = b"\x8a\x06" + (1 << 40).to_bytes(6, "little")  # LONG1 2**40

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(small, big, 1) if name.endswith("data.pkl") else data

    if zipped:
        path = rewrite_zip(path, tmp_path / "huge_zip.pth", edit)
    else:
        path.write_bytes(path.read_bytes().replace(small, big, 1))
    with pytest.raises(InspectorError, match=r"declares a storage of 1099511627776 elements"):
        load_model(path, fallback_input_shape=SHAPE)


def test_endless_pickle_is_refused_in_bounded_time(tmp_path, monkeypatch):
    """Megabytes of one-byte opcodes would take minutes to walk: the scan stops at a budget.

    The real budget (2M opcodes, about 2.6 s here) is lowered so the test stays fast.
    """
    monkeypatch.setattr("inspector.core.models.safety.pickle_scan.MAX_OPCODES", 50_000)
    path = tmp_path / "endless.pth"
    path.write_bytes(b"\x80\x02" + b"]0" * 30_000 + b"N.")
    with pytest.raises(InspectorError, match=r"not a torch\.save file"):
        load_model(path, fallback_input_shape=SHAPE)


class FillsMemory(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :3] + torch.zeros(1 << 20, 1 << 20).sum()


def test_pt2_graph_building_a_huge_tensor_refused_before_forward(tmp_path):
    """Export records shapes: a 4 TiB intermediate is refused before the first forward."""
    path = tmp_path / "fills.pt2"
    torch.export.save(torch.export.export(FillsMemory(), (torch.rand(2, *SHAPE),)), str(path))
    with pytest.raises(InspectorError, match=r"refused.*tensor of shape \[1048576, 1048576\]"):
        load_model(path)
