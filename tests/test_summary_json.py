"""The summary JSON and `evaluate --summary-json / --audit`: the same figures as the results."""

from __future__ import annotations

import json

import pytest
from helpers import linear_problem_files

from inspector.cli.main import main
from inspector.core.audit import load_audit
from inspector.core.export import UPPER_BOUND_NOTE, save_summary_json, summary_to_json
from inspector.core.results import load_results


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """One CLI run on an affine model writing results, summary and audit side by side."""
    folder = tmp_path_factory.mktemp("summary")
    model, data, _ = linear_problem_files(folder, seed=7, n=100, classes=3)
    paths = {k: folder / n for k, n in [("out", "r.json"), ("sum", "s.json"), ("aud", "a.riaudit")]}
    flags = ["--eps", "0,0.05,0.1,0.2", "--attack", "pgd", "--steps", "10", "--device", "cpu"]
    files = ["--model", model, "--data", data, "--out", paths["out"]]
    files += ["--summary-json", paths["sum"], "--audit", paths["aud"]]
    code = main(["evaluate", *flags, *map(str, files)])
    assert code == 0
    return paths


def test_summary_figures_equal_the_results_rates(outputs):
    results = load_results(outputs["out"])
    summary = json.loads(outputs["sum"].read_text(encoding="utf-8"))
    assert summary == json.loads(json.dumps(summary_to_json(results)))
    assert summary["format"] == "robustness-inspector/summary" and summary["version"] == 1
    assert summary["robust_accuracy_note"] == UPPER_BOUND_NOTE
    assert summary["threat_model_description"] == results.threat.describe()
    assert summary["threat_model"] == json.loads(json.dumps(results.threat.to_dict()))
    assert UPPER_BOUND_NOTE in summary["threat_model_description"]
    d = summary["dataset"]
    assert (d["spec"], d["sha256"], d["examples"]) == (
        results.dataset.spec,
        results.dataset.sha256,
        100,
    )
    [m] = summary["models"]
    [r] = results.models
    assert (m["name"], m["path"], m["sha256"]) == (r.info.name, r.info.path, r.info.sha256)
    assert m["clean_accuracy"] == r.sweep.clean_accuracy
    assert m["natural_error_rate"] == r.sweep.curve()[0].natural_error_rate
    assert [row["eps"] for row in m["curve"]] == [0.0, 0.05, 0.1, 0.2]
    assert [row["eps_label"] for row in m["curve"]] == ["0", "0.05", "0.1", "0.2"]
    for row, rates in zip(m["curve"], r.sweep.curve(), strict=True):
        assert row["robust_accuracy"] == rates.robust_accuracy
        assert row["boundary_error_rate"] == rates.boundary_error_rate
        assert row["natural_error_rate"] == rates.natural_error_rate
        assert row["robust_error"] == pytest.approx(
            row["natural_error_rate"] + row["boundary_error_rate"], abs=1e-12
        )
    assert m["certified_curve"] == [
        {"eps": e, "certified_accuracy": a} for e, a in r.sweep.certified_curve()
    ]
    assert m["curve"][-1]["robust_accuracy"] < m["clean_accuracy"]  # the grid is not trivial


def test_cli_audit_holds_the_same_results(outputs):
    results = load_results(outputs["out"])
    audit = load_audit(outputs["aud"])
    assert audit.view == {} and audit.saved
    [ours], [theirs] = results.models, audit.results.models
    assert ours.info == theirs.info and ours.sweep.curve() == theirs.sweep.curve()
    assert theirs.sweep.adv_images is not None and theirs.sweep.adv_probs is not None
    assert audit.results.threat == results.threat and audit.results.created == results.created


def test_summary_replaces_a_file_and_refuses_folders(outputs, tmp_path, capsys):
    results = load_results(outputs["out"])
    target = tmp_path / "summary.json"
    target.write_text("previous")
    save_summary_json(target, results)
    assert json.loads(target.read_text())["models"][0]["name"] == results.models[0].info.name
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp file left
    code = main(["evaluate", "--demo", "--summary-json", str(tmp_path)])
    assert code == 2 and "is a folder" in capsys.readouterr().err
