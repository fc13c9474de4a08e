"""Sweep record versus working state: read-only snapshots fenced by the finished ε.

What a sweep hands out after each ε is no deep copy: its [n, ε, ...] arrays are read-only
views of the worker's, and a reader looks only at the columns before `eps_done`, which the
worker never writes again. The per-example arrays the worker still changes are copied,
fenced. A refine runs the same ε loop on its new columns; its snapshots are fenced at the
next new column.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import export_pt2, linear_problem, save_npz

from inspector.core.data import open_dataset
from inspector.core.eps_loop import EpsLoop
from inspector.core.metrics import rates_at
from inspector.core.models import load_model
from inspector.core.refine import refine_sweep
from inspector.core.sweep import BatchDone, EpsFinished, ModelSweep, sweep_model
from inspector.core.threat import ThreatModel

GRID = (0.0, 0.05, 0.1, 0.2)


@pytest.fixture(scope="module")
def problem(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshots")
    module, x, y = linear_problem(seed=3, n=60, classes=3)
    model = export_pt2(module, folder / "lin.pt2", (1, 4, 4))
    data = open_dataset(str(save_npz(folder / "d.npz", x, y)))
    return load_model(str(model), device="cpu"), data


def _run(model, data, threat, **kwargs):
    items = list(sweep_model(model, data, np.arange(len(data.labels)), threat, **kwargs))
    return items, items[-1]


def test_snapshots_are_read_only_views_fenced_by_the_finished_eps(problem):
    model, data = problem
    items, final = _run(model, data, ThreatModel(eps=GRID, steps=5, seed=0), batch_size=16)
    shots = [i for i in items if isinstance(i, EpsFinished)]
    assert [s.eps_index for s in shots] == [0, 1, 2, 3]
    assert isinstance(final, ModelSweep) and not final.partial
    for shot in shots:
        snap, done = shot.snapshot, shot.eps_index + 1
        assert snap.eps_done == done and snap is not final
        for name in ("adv_pred", "adv_conf", "adv_probs", "adv_images", "clean_pred"):
            view, work = getattr(snap, name), getattr(final, name)
            assert np.shares_memory(view, work) and not view.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            snap.adv_pred[0, 0] = 1
        assert not np.shares_memory(snap.breaking_eps, final.breaking_eps)  # n values, copied
        with np.errstate(invalid="ignore"):
            assert not (snap.breaking_eps > GRID[done - 1]).any()  # nothing past the fence
        for k in range(done):  # what a reader may look at is what the run ends with
            expected = rates_at(final.clean_correct, final.breaking_eps, GRID[k])
            assert rates_at(snap.clean_correct, snap.breaking_eps, GRID[k]) == expected
        assert [r.robust_accuracy for r in snap.curve()] == [
            r.robust_accuracy for r in final.curve()[:done]
        ]


def test_a_checkpoint_snapshot_keeps_the_rows_of_the_eps_in_flight(problem):
    """Within an ε the worker waits while a checkpoint is written: its snapshot is not
    fenced, so the rows already broken at the ε in flight are in it."""
    model, data = problem
    threat = ThreatModel(eps=GRID, steps=5, seed=0)
    taken = []
    for item in sweep_model(model, data, np.arange(60), threat, batch_size=8):
        if isinstance(item, BatchDone) and item.eps_index == 1:
            taken.append((item.done.copy(), item.snapshot()))
        final = item
    done, shot = taken[0]
    assert len(done) == 8 and shot.eps_done == 1 and shot.partial
    assert np.shares_memory(shot.adv_images, final.adv_images)
    with np.errstate(invalid="ignore"):
        in_flight = np.flatnonzero(shot.breaking_eps == GRID[1])
    assert len(in_flight) > 0 and set(in_flight) <= set(done)
    assert (final.breaking_eps[in_flight] == GRID[1]).all()
    assert set(shot.broken_by[in_flight]) == {"pgd"}


def test_a_cancelled_sweep_drops_the_unfinished_eps(problem):
    model, data = problem
    state = {"shots": 0}

    def cancel() -> bool:
        return state["shots"] >= 2

    items = []
    for item in sweep_model(
        model, data, np.arange(60), ThreatModel(eps=GRID, steps=5, seed=0), batch_size=8,
        cancel=cancel,
    ):  # fmt: skip
        items.append(item)
        state["shots"] += isinstance(item, EpsFinished)
    final = items[-1]
    assert isinstance(final, ModelSweep) and final.partial and final.eps_done == 2
    with np.errstate(invalid="ignore"):
        assert not (final.breaking_eps > GRID[1]).any()
    assert set(final.broken_by[np.isnan(final.breaking_eps)]) <= {""}


def test_a_refine_runs_the_one_loop_and_is_fenced_at_its_next_new_point(problem, monkeypatch):
    model, data = problem
    coarse = ThreatModel(eps=(0.0, 0.1, 0.2), steps=5, seed=0)
    _, old = _run(model, data, coarse)
    kept = old.copy()
    runs = []
    original = EpsLoop.run

    def spy(self, columns, tally, resumed=None):
        runs.append(list(columns))
        return (yield from original(self, columns, tally, resumed))

    monkeypatch.setattr(EpsLoop, "run", spy)
    fine = ThreatModel(eps=(0.0, 0.05, 0.1, 0.15, 0.2), steps=5, seed=0)
    items = list(refine_sweep(model, data, old, fine))
    refined = items[-1]
    assert runs == [[1, 3]]  # the new columns only, through the sweep's loop
    shots = [i for i in items if isinstance(i, EpsFinished)]
    assert [(s.eps_index, s.snapshot.eps_done) for s in shots] == [(1, 3), (3, 5)]
    assert isinstance(refined, ModelSweep) and not refined.partial
    assert refined.timings.keys() >= {"attack_seconds@0.05", "attack_seconds@0.15"}
    for k, eps in enumerate(fine.eps):  # predictions agree with statuses at every ε
        broken = refined.clean_correct & (np.nan_to_num(refined.breaking_eps, nan=9) <= eps)
        assert (refined.adv_pred[broken, k] != refined.labels[broken]).all()
        robust = refined.clean_correct & ~broken
        assert (refined.adv_pred[robust, k] == refined.labels[robust]).all()
    old_robust = {r.eps: r.robust_accuracy for r in old.curve()}
    for r in refined.curve():
        assert r.robust_accuracy <= old_robust.get(r.eps, 1.0) + 1e-12
    assert np.array_equal(old.adv_pred, kept.adv_pred)  # the old one stands untouched
    assert np.array_equal(old.breaking_eps, kept.breaking_eps, equal_nan=True)
