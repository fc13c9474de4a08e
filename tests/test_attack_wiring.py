"""The new attacks through the core and the command line: the threat model, the ε sweep
(which attack broke each example; FMN's continuous radius), the results file, the CSV, the
summary table, and ONNX models without gradients (Square through onnxruntime alone)."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import warnings

import numpy as np
import pytest
import torch
from helpers import linear_problem_files

from inspector.cli.evaluate_command import AUDIT_THREAT, build_request
from inspector.cli.main import build_parser, main
from inspector.core.attacks.registry import NAMES
from inspector.core.data import open_dataset
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate_models, run_to_end
from inspector.core.export import write_csv
from inspector.core.models import load_model
from inspector.core.refine import can_refine
from inspector.core.results import load_results, save_results
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView

LINF_GRID = (0.0, 0.02, 0.05, 0.1, 0.2)
L2_GRID = (0.0, 0.1, 0.2, 0.45)


def _files(folder, classes: int, onnx: bool = False):
    names = [chr(ord("a") + i) for i in range(classes)]
    model, data, module = linear_problem_files(
        folder, 3, 200, classes, f"linear{classes}.pt2", f"data{classes}.npz", class_names=names
    )
    onnx_path = folder / f"linear{classes}.onnx"
    with warnings.catch_warnings():  # the legacy exporter's deprecation notices
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module.eval(),
            (torch.zeros(2, 1, 4, 4),),
            str(onnx_path),
            input_names=["x"],
            dynamic_axes={"x": {0: "batch"}},
            dynamo=False,
            opset_version=17,
        )
    return {"model": str(model), "data": str(data), "onnx": str(onnx_path)}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    return _files(tmp_path_factory.mktemp("wiring3"), classes=3)


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return _files(tmp_path_factory.mktemp("wiring2"), classes=2)


def _sweep(files, threat: ThreatModel):
    request = EvaluationRequest((ModelRequest(files["model"]),), files["data"], threat)
    return run_to_end(request)


# --- threat model -----------------------------------------------------------------------


def test_threat_model_names_the_new_attacks_and_their_budgets():
    assert {"apgd-ce", "apgd-t", "square", "fmn", "ensemble"} <= set(NAMES)
    labels = {
        a: ThreatModel(eps=(0.0, 0.1), attack=a, steps=50, restarts=2, queries=300).describe()
        for a in NAMES
    }
    assert (
        "ensemble (APGD-CE 50 steps, 2 restarts; APGD-T top-9 targets × 50 steps"
        in labels["ensemble"]
    )
    assert "Square 300 queries" in labels["ensemble"]
    assert "APGD-T MALT-ranked top-3 targets × 50 steps, 2 restarts each" in labels["fast"]
    assert "APGD-CE (50 steps, 2 restarts)" in labels["apgd-ce"]
    assert "APGD-T (top-9 targets × 50 steps, 2 restarts each)" in labels["apgd-t"]
    assert "Square (300 queries)" in labels["square"]
    assert "FMN (50 steps, minimum norm)" in labels["fmn"]
    assert all(len(text.splitlines()) == 1 for text in labels.values())


def test_threat_model_queries_round_trip_and_old_dicts_still_load():
    t = ThreatModel(eps=(0.0, 0.1), attack="ensemble", steps=100, queries=500)
    assert ThreatModel.from_dict(t.to_dict()) == t
    old = t.to_dict()
    del old["queries"]  # written before the field existed
    old["attack"] = "pgd"
    assert ThreatModel.from_dict(old).queries == 1000
    with pytest.raises(InspectorError, match="query"):
        ThreatModel(attack="square", queries=0)


# --- the sweep ----------------------------------------------------------------------------


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_ensemble_sweep_is_exact_and_records_who_broke_what(three, norm, tmp_path):
    grid = LINF_GRID if norm == "linf" else L2_GRID
    threat = ThreatModel(norm=norm, eps=grid, attack="ensemble", steps=30, queries=100, seed=1)
    results = _sweep(three, threat)
    s = results.models[0].sweep
    attack = [r.robust_accuracy for r in s.curve()]
    certified = [a for _, a in s.certified_curve()]
    assert attack == pytest.approx(certified, abs=1e-12)  # the pairwise certificate, exactly
    broken = ~np.isnan(s.breaking_eps)
    assert set(s.broken_by[broken]) <= {"apgd-ce", "apgd-t", "square"}
    assert "apgd-t" in set(s.broken_by[broken])
    assert (s.broken_by[~broken] == "").all()
    counts = s.broken_by_counts()
    assert sum(counts.values()) == int(broken.sum())
    # the results file keeps them; a file written before they existed still loads
    path = tmp_path / "r.json"
    save_results(path, results)
    again = load_results(path).models[0].sweep
    assert list(again.broken_by) == list(s.broken_by)
    assert again.min_norm_radius is None and again.attack_note is None
    raw = json.loads(path.read_text())
    assert raw["models"][0]["broken_by_counts"] == counts
    for key in ("broken_by", "min_norm_radius"):
        del raw["models"][0]["examples"][key]
    del raw["threat_model"]["queries"]
    path.write_text(json.dumps(raw))
    old = load_results(path)
    assert old.models[0].sweep.broken_by is None and old.threat.queries == 1000
    # the CSV names the attack where the status is a boundary error, and only there
    table = tmp_path / "t.csv"
    write_csv(table, results)
    with table.open(newline="") as handle:
        handle.readline()
        rows = list(csv.DictReader(handle))
    assert {r["broken_by"] for r in rows if r["status"] == "boundary_error"} <= set(counts)
    assert {r["broken_by"] for r in rows if r["status"] != "boundary_error"} == {""}


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_fmn_sweep_gives_a_radius_per_example_and_rates_between_grid_points(binary, norm):
    grid = LINF_GRID if norm == "linf" else L2_GRID
    results = _sweep(binary, ThreatModel(norm=norm, eps=grid, attack="fmn", steps=100))
    s = results.models[0].sweep
    ok, radius, exact = s.clean_correct, s.min_norm_radius, s.certified_radius
    assert radius is not None and (radius[~ok] == 0).all()
    # no attack beats the exact radius (up to float32 rounding of the model and the point)
    assert (radius[ok] >= exact[ok] - 1e-5).all()
    assert (radius[ok] <= exact[ok] * 1.02 + 1e-4).mean() >= 0.95  # and FMN gets close
    # the grid follows from the radius: broken at the first grid ε at or above it
    for i in np.flatnonzero(ok):
        expected = next((e for e in grid if e >= radius[i] and e > 0), np.nan)
        assert (np.isnan(expected) and np.isnan(s.breaking_eps[i])) or s.breaking_eps[i] == expected
    assert set(s.broken_by[~np.isnan(s.breaking_eps)]) == {"fmn"}
    view = ResultsView.from_results(results)
    for k, e in enumerate(grid):
        assert view.rates_between(0, e) == view.rates(0, k)
    between = [(a + b) / 2 for a, b in itertools.pairwise(grid)]
    for e in between:
        certified = float((ok & (exact > e)).mean())
        assert view.rates_between(0, e).robust_accuracy == pytest.approx(certified, abs=1.5 / 200)
    robust = [view.rates_between(0, e).robust_accuracy for e in sorted(grid + tuple(between))]
    assert all(a >= b for a, b in itertools.pairwise(robust))
    assert not can_refine(results.threat, dataclasses.replace(results.threat, eps=(*grid, 0.5)))


def test_rates_between_needs_radii(three):
    results = _sweep(three, ThreatModel(eps=(0.0, 0.05), attack="pgd", steps=5))
    assert ResultsView.from_results(results).rates_between(0, 0.03) is None


def _onnx_without_torch(files):
    model = load_model(files["onnx"], device="cpu")
    return dataclasses.replace(model, module=None, gradient_unavailable_reason="no conversion")


@pytest.mark.parametrize("attack", ["ensemble", "square"])
def test_onnx_without_gradients_runs_square_through_onnxruntime(three, attack):
    model = _onnx_without_torch(three)
    dataset = open_dataset(three["data"])
    threat = ThreatModel(eps=LINF_GRID[:4], attack=attack, queries=300, seed=2)
    request = EvaluationRequest((ModelRequest(three["onnx"]),), three["data"], threat)
    *_, results = evaluate_models([model], dataset, request)
    s = results.models[0].sweep
    broken = ~np.isnan(s.breaking_eps)
    assert broken.any() and set(s.broken_by[broken]) == {"square"}
    if attack == "ensemble":
        assert "Square alone" in s.attack_note and "no conversion" in s.attack_note
    # sound: Square never breaks an example the exact certificate protects
    torch_results = _sweep(three, threat)
    exact = torch_results.models[0].sweep.certified_radius
    for e in threat.eps:
        flipped = broken & (s.breaking_eps <= e)
        assert not (flipped & (exact > e)).any()


def test_onnx_without_gradients_refuses_gradient_attacks(three):
    model = _onnx_without_torch(three)
    dataset = open_dataset(three["data"])
    threat = ThreatModel(eps=(0.0, 0.05), attack="apgd-ce")
    request = EvaluationRequest((ModelRequest(three["onnx"]),), three["data"], threat)
    with pytest.raises(InspectorError, match=r"apgd-ce needs gradients.*no conversion"):
        list(evaluate_models([model], dataset, request))


# --- the command line ---------------------------------------------------------------------


def _request(*flags: str):
    return build_request(build_parser().parse_args(["evaluate", *flags]))


def test_cli_defaults_the_fast_audit_for_audits_and_keeps_pgd_for_the_demo(three):
    audit = _request("--model", three["model"], "--data", three["data"]).threat
    assert audit.attack == "fast" and audit.steps == 100 and audit == AUDIT_THREAT
    assert audit.restarts == 1 and audit.queries == 1000
    demo = _request("--demo").threat
    assert demo.attack == "pgd" and demo.steps == 10
    assert _request("--demo", "--attack", "apgd-t").threat.steps == 100
    assert _request("--demo", "--attack", "apgd-ce", "--steps", "7").threat.steps == 7
    square = _request("--model", three["model"], "--data", three["data"], "--attack", "square")
    assert square.threat.queries == 1000
    assert _request("--demo", "--attack", "ensemble", "--queries", "50").threat.queries == 50


def test_cli_ensemble_table_counts_breaks_per_attack(three, tmp_path, capsys):
    out, table = tmp_path / "r.json", tmp_path / "t.csv"
    args = ["evaluate", "--model", three["model"], "--data", three["data"], "--device", "cpu"]
    args += ["--eps", "0,0.05,0.1", "--attack", "ensemble", "--steps", "20", "--queries", "50"]
    assert main([*args, "--out", str(out), "--csv", str(table)]) == 0
    stdout = capsys.readouterr().out
    assert "ensemble (APGD-CE 20 steps, 2 restarts;" in stdout  # the classic ensemble
    line = next(t for t in stdout.splitlines() if "broken at ε ≤ 0.1 by" in t)
    counts = json.loads(out.read_text())["models"][0]["broken_by_counts"]
    for name, label in (("apgd-ce", "APGD-CE"), ("apgd-t", "APGD-T"), ("square", "Square")):
        assert f"{label} {counts.get(name, 0)}" in line
    with table.open(newline="") as handle:
        handle.readline()
        assert "broken_by" in next(csv.reader(handle))


def test_cli_rejects_bad_queries(three, capsys):
    args = ["evaluate", "--model", three["model"], "--data", three["data"], "--queries", "0"]
    assert main(args) == 2
    assert "query" in capsys.readouterr().err


def test_audit_attacks_without_gradients_are_square_under_their_own_name():
    """A model with no gradient path (ONNX without a conversion): both audit attacks reduce
    to Square through the forward pass, and the results must still name the one asked for."""
    from inspector.core.attacks.registry import make_attack

    def forward(x):
        return np.zeros((len(x), 3), np.float32)

    for name in ("ensemble", "fast"):
        attack = make_attack(name, None, "linf", 10, 1, forward=forward)
        assert attack.name == name
        assert [member for member, _ in attack.members] == ["square"]
