"""Refining the ε grid attacks only at the new points and keeps every curve consistent."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import export_pt2, linear_problem, save_npz

from inspector.core.data import open_dataset
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.models import load_model
from inspector.core.refine import can_refine, refine_sweep
from inspector.core.sweep import EpsFinished, ModelSweep, Progress
from inspector.core.threat import ThreatModel


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refine")
    module, x, y = linear_problem(seed=5, classes=2)
    model = export_pt2(module, folder / "lin.pt2", (1, 4, 4), class_names=["a", "b"])
    return str(model), str(save_npz(folder / "d.npz", x, y))


def test_can_refine_only_a_superset_grid_with_the_same_budget():
    old = ThreatModel(eps=(0.0, 0.1), steps=5)
    assert can_refine(old, ThreatModel(eps=(0.0, 0.05, 0.1), steps=5))
    assert not can_refine(old, ThreatModel(eps=(0.0, 0.05), steps=5))
    assert not can_refine(old, ThreatModel(eps=(0.0, 0.05, 0.1), steps=6))
    assert not can_refine(old, old)


def test_refined_grid_matches_exact_and_attacks_only_new_points(files):
    model_path, data = files
    coarse = ThreatModel(eps=(0.0, 0.04, 0.08), steps=20, seed=0)
    old = run_to_end(EvaluationRequest((ModelRequest(model_path),), data, coarse))
    old_sweep = old.models[0].sweep
    fine = ThreatModel(eps=(0.0, 0.02, 0.04, 0.06, 0.08), steps=20, seed=0)
    model, dataset = load_model(model_path, device="cpu"), open_dataset(data)
    attacked_eps = set()
    for item in refine_sweep(model, dataset, old_sweep, fine):
        if isinstance(item, Progress):
            attacked_eps.add(item.eps)
        elif isinstance(item, EpsFinished):
            assert fine.eps[item.eps_index] in (0.02, 0.06)
        else:
            refined = item
    assert isinstance(refined, ModelSweep) and not refined.partial
    assert attacked_eps == {0.02, 0.06}  # only the new points were attacked
    attack = [r.robust_accuracy for r in refined.curve()]
    assert all(a >= b for a, b in itertools.pairwise(attack))
    assert attack == pytest.approx([a for _, a in refined.certified_curve()], abs=1e-12)
    for k, eps in enumerate(fine.eps):  # predictions agree with statuses at every ε
        broken = refined.clean_correct & (np.nan_to_num(refined.breaking_eps, nan=9) <= eps)
        robust = refined.clean_correct & ~broken
        assert (refined.adv_pred[broken, k] != refined.labels[broken]).all()
        assert (refined.adv_pred[robust, k] == refined.labels[robust]).all()
    old_curve = {r.eps: r.robust_accuracy for r in old_sweep.curve()}
    for r in refined.curve():
        if r.eps in old_curve:
            assert r.robust_accuracy <= old_curve[r.eps] + 1e-12
