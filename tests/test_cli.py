"""The command line: one-line user errors with exit code 2, and what a good run writes.

Most cases call `main()` in-process (fast); one runs `python -m inspector` in a real
subprocess to show the whole program prints one stderr line and no traceback.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import pickle
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import export_pt2, linear_problem, save_npz

from inspector.cli.main import main

PREFIX = "robustness-inspector: error:"
FAST = ["--attack", "fgsm", "--eps", "0,8/255", "--device", "cpu"]
OLD_RESULTS = b'{"previous": "results", "must": "survive"}\n'


# --- files ------------------------------------------------------------------------------


class NanLogits(torch.nn.Module):
    """Affine logits plus log(x - 2): NaN for every image in [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(16, 3) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return flat @ self.weight + torch.log(flat[:, :3] - 2)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 3-class linear model on 1×4×4 (.pt2, pickled module, state_dict) and its data."""
    folder = tmp_path_factory.mktemp("cli")
    module, x, y = linear_problem(seed=5, n=120, classes=3)
    paths = {
        "pt2": export_pt2(module, folder / "linear.pt2", (1, 4, 4)),
        "data": save_npz(folder / "data.npz", x, y),
        "pickled": folder / "pickled.pt",
        "state_dict": folder / "weights.pt",
        "nan": export_pt2(NanLogits(), folder / "nan.pt2", (1, 4, 4)),
        "onnx_rank2": folder / "rank2.onnx",
    }
    torch.save(module, paths["pickled"])
    torch.save(module.state_dict(), paths["state_dict"])
    with warnings.catch_warnings():  # the legacy exporter's deprecation notices
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            torch.nn.Linear(16, 3).eval(),
            (torch.zeros(2, 16),),
            str(paths["onnx_rank2"]),
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
            dynamo=False,
            opset_version=17,
        )
    return {k: str(v) for k, v in paths.items()}


@pytest.fixture
def outs(tmp_path):
    """An output folder holding a previous results file; the CSV does not exist yet."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "results.json").write_bytes(OLD_RESULTS)
    return folder


def _out_flags(folder: Path) -> list[str]:
    return ["--out", str(folder / "results.json"), "--csv", str(folder / "table.csv")]


def _assert_untouched(folder: Path) -> None:
    """The previous results are byte-identical, no CSV and no temp file was left."""
    assert sorted(p.name for p in folder.iterdir()) == ["results.json"]
    assert (folder / "results.json").read_bytes() == OLD_RESULTS


def _assert_one_line(stderr: str, *words: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(PREFIX), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]


def user_error(capsys, outs: Path, args: list[str], *words: str) -> str:
    """Run `evaluate args` and check the one-line error and that nothing was written."""
    code = main(["evaluate", *args, *_out_flags(outs)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    line = _assert_one_line(captured.err, *words)
    _assert_untouched(outs)
    return line


def _write_random(path: Path) -> str:
    path.write_bytes(np.random.default_rng(7).bytes(4096))
    return str(path)


# --- user errors ------------------------------------------------------------------------


def test_missing_model_file(capsys, outs, files, tmp_path):
    missing = str(tmp_path / "nowhere" / "model.pt2")
    user_error(capsys, outs, ["--model", missing, "--data", files["data"]], "not found", missing)


def test_missing_dataset(capsys, outs, files, tmp_path):
    missing = str(tmp_path / "no_data.npz")
    user_error(
        capsys, outs, ["--model", files["pt2"], "--data", missing], "dataset not found", missing
    )


@pytest.mark.parametrize("suffix", [".pt2", ".onnx", ".pt"])
def test_corrupt_model_file(capsys, outs, files, tmp_path, suffix):
    model = _write_random(tmp_path / f"garbage{suffix}")
    user_error(capsys, outs, ["--model", model, "--data", files["data"]], "cannot load", model)


def test_onnx_flat_input_gets_flattened_images(capsys, tmp_path, files):
    """A rank-2 (N, C·H·W) input is an MLP's (issue 11): the 1×4×4 images are flattened."""
    out = tmp_path / "flat.json"
    args = ["--model", files["onnx_rank2"], "--data", files["data"], *FAST]
    assert main(["evaluate", *args, "--out", str(out)]) == 0
    capsys.readouterr()
    model = json.loads(out.read_text())["models"][0]
    assert any("images are flattened" in note for note in model["model"]["notes"])


def test_image_shape_mismatch_then_resize(capsys, outs, files, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 0.8, size=(24, 1, 5, 5)).astype(np.float32)
    data = str(save_npz(tmp_path / "five.npz", x, np.arange(24) % 3))
    args = ["--model", files["pt2"], "--data", data, *FAST]
    user_error(capsys, outs, args, "1×5×5", "1×4×4", "--resize")
    out = tmp_path / "resized.json"
    assert main(["evaluate", *args, "--resize", "--out", str(out)]) == 0
    capsys.readouterr()
    assert json.loads(out.read_text())["threat_model"]["num_examples"] == 24


def test_labels_outside_model_classes(capsys, outs, files, tmp_path):
    x = np.full((12, 1, 4, 4), 0.5, dtype=np.float32)
    data = str(save_npz(tmp_path / "six.npz", x, np.arange(12) % 6))
    args = ["--model", files["pt2"], "--data", data, *FAST]
    user_error(capsys, outs, args, "labels up to 5", "3 classes")


def test_nan_logits(capsys, outs, files):
    args = ["--model", files["nan"], "--data", files["data"], *FAST]
    user_error(capsys, outs, args, "NaN or Inf")


def test_empty_dataset(capsys, outs, files, tmp_path):
    x = np.zeros((0, 1, 4, 4), dtype=np.float32)
    data = str(save_npz(tmp_path / "empty.npz", x, np.zeros(0, dtype=np.int64)))
    user_error(capsys, outs, ["--model", files["pt2"], "--data", data], "no examples")


@pytest.mark.parametrize(
    ("eps", "words"),
    [
        ("-0.1", ("ε", "≥ 0", "-0.1")),
        ("0,-1/255", ("ε", "≥ 0", "-1/255")),
        ("abc", ("cannot read ε", "abc")),
    ],
)
def test_bad_eps(capsys, outs, files, eps, words):
    args = ["--model", files["pt2"], "--data", files["data"], "--eps", eps]
    user_error(capsys, outs, args, *words)


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--attack", "cw", ("--attack", "invalid choice", "cw", "pgd")),
        ("--norm", "l1", ("--norm", "invalid choice", "l1", "linf")),
    ],
)
def test_unknown_choice_is_one_line(capsys, outs, files, flag, value, words):
    args = ["--model", files["pt2"], "--data", files["data"], flag, value]
    user_error(capsys, outs, args, *words)


EVIL_MODULE = """
from pathlib import Path

import torch

MARKER = Path({marker!r})
MARKER.write_text("imported")  # importing this module is already running its code


class EvilNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(16, 3)

    def forward(self, x):
        return self.layer(x.flatten(1))

    def __setstate__(self, state):
        MARKER.write_text("unpickled")
        super().__setstate__(state)
"""


def test_untrusted_pickle_runs_no_code(capsys, outs, files, tmp_path, monkeypatch):
    marker = tmp_path / "code_ran"
    package = tmp_path / "evil_pkg"
    package.mkdir()
    (package / "evil_cli_model.py").write_text(EVIL_MODULE.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(package))  # an import would find it and run it
    import evil_cli_model

    model = tmp_path / "evil.pt"
    torch.save(evil_cli_model.EvilNet(), model)
    monkeypatch.delitem(sys.modules, "evil_cli_model")
    # a second payload that runs on unpickling without importing anything of ours
    payload = tmp_path / "payload.pt"
    payload.write_bytes(pickle.dumps(_Touch(str(marker)), protocol=2))
    marker.unlink()

    for path, names in (
        (model, "evil_cli_model.EvilNet"),
        (payload, f"{os.system.__module__}.system"),
    ):
        args = ["--model", str(path), "--data", files["data"]]
        line = user_error(capsys, outs, args, "pickled", "--trust-code", names)
        assert "__builtin__" not in line  # stdlib references are not worth naming
        assert not marker.exists()
        assert "evil_cli_model" not in sys.modules

    # the marker is a real detector: trusting the file does run its code
    trusted = tmp_path / "trusted.json"
    args = ["evaluate", "--model", str(model), "--data", files["data"], *FAST, "--trust-code"]
    assert main([*args, "--out", str(trusted)]) == 0
    capsys.readouterr()
    assert marker.read_text() == "unpickled" and trusted.exists()


class _Touch:
    """Unpickling this calls os.system: the classic malicious pickle."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(self.path)}",))


def test_trusted_pickled_module_loads(capsys, files, tmp_path):
    out = tmp_path / "pickled.json"
    args = ["--model", files["pickled"], "--data", files["data"], *FAST, "--out", str(out)]
    assert main(["evaluate", *args]) == 2
    _assert_one_line(capsys.readouterr().err, "--trust-code")
    assert not out.exists()
    assert main(["evaluate", *args, "--trust-code"]) == 0
    capsys.readouterr()
    assert json.loads(out.read_text())["models"][0]["model"]["backend"] == "pickle"


def test_state_dict_needs_arch(capsys, outs, files):
    args = ["--model", files["state_dict"], "--data", files["data"]]
    user_error(capsys, outs, args, "state_dict", "--arch", "--trust-code")


def test_subprocess_error_is_one_line(files, tmp_path):
    """The real program: exit 2, one stderr line, no traceback, no file written."""
    folder = tmp_path / "outputs"
    folder.mkdir()
    (folder / "results.json").write_bytes(OLD_RESULTS)
    model = _write_random(tmp_path / "garbage.pt2")
    env = dict(os.environ, PYTHONWARNINGS="default")
    command = [sys.executable, "-m", "inspector", "evaluate", "--model", model]
    command += ["--data", files["data"], *_out_flags(folder)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    _assert_one_line(done.stderr, "cannot load", model)
    assert done.stdout == ""
    _assert_untouched(folder)


def test_debug_shows_traceback(capsys, files, tmp_path):
    missing = str(tmp_path / "model.pt2")
    code = main(["--debug", "evaluate", "--model", missing, "--data", files["data"]])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" in err and "InspectorError" in err
    assert err.strip().splitlines()[-1].startswith(PREFIX)


# --- good runs --------------------------------------------------------------------------


def test_evaluate_writes_results_and_table(capsys, files, tmp_path):
    out, table = tmp_path / "results.json", tmp_path / "table.csv"
    args = ["evaluate", "--model", files["pt2"], "--model", files["pt2"]]
    args += ["--data", files["data"], "--eps", "0,2/255,4/255,8/255", "--device", "cpu"]
    args += ["--steps", "5", "--out", str(out), "--csv", str(table)]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith("Threat model: L∞ ε ∈ {0, 2/255, 4/255, 8/255}")
    for label in ("2/255", "4/255", "8/255"):
        assert label in stdout

    results = json.loads(out.read_text())
    assert {"threat_model", "dataset", "models"} <= set(results)
    grid = results["threat_model"]["eps"]
    assert grid == pytest.approx([0, 2 / 255, 4 / 255, 8 / 255])
    assert [m["name"] for m in results["models"]] == ["linear", "linear (2)"]
    for m in results["models"]:
        curve = m["curve"]
        assert [c["eps"] for c in curve] == grid
        for c in curve:
            assert set(c) == {"eps", "robust_accuracy", "boundary_error_rate", "natural_error_rate"}
            rates = [c["robust_accuracy"], c["boundary_error_rate"], c["natural_error_rate"]]
            assert all(0 <= r <= 1 for r in rates)
            assert sum(rates) == pytest.approx(1)
        robust = [c["robust_accuracy"] for c in curve]
        assert all(a >= b for a, b in itertools.pairwise(robust))
        assert robust[0] == pytest.approx(m["clean_accuracy"])
        assert robust[-1] < robust[0]  # 8/255 breaks something on this problem

    n = results["threat_model"]["num_examples"]
    assert n == 120
    with table.open(newline="") as handle:
        assert handle.readline().startswith("# L∞ ε ∈")
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * n * 4
    assert {r["status"] for r in rows} <= {"robust", "boundary_error", "natural_error"}
    assert {r["status"] for r in rows} >= {"robust", "boundary_error"}


def test_limit_is_stratified(capsys, files, tmp_path):
    out = tmp_path / "limited.json"
    args = ["evaluate", "--model", files["pt2"], "--data", files["data"], *FAST]
    assert main([*args, "--limit", "30", "--out", str(out)]) == 0
    capsys.readouterr()
    results = json.loads(out.read_text())
    assert results["threat_model"]["num_examples"] == 30
    labels = results["models"][0]["examples"]["label"]
    assert len(labels) == 30
    assert set(labels) == {0, 1, 2}


def test_help_and_version_exit_cleanly(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "evaluate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert "robustness-inspector" in capsys.readouterr().out
