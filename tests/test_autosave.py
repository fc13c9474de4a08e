"""Autosave during a run and recovery at the next start: throttled, atomic, listed newest first.

An affine model on 4×4 inputs keeps the runs short; the clock of the throttle is a fake.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import linear_problem_files

from inspector.core.audit import Audit, load_audit, read_audit_header, save_audit
from inspector.core.autosave import (
    Autosaver,
    default_autosave_folder,
    discard_recoverable,
    find_recoverable,
)
from inspector.core.data import open_dataset
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate_models
from inspector.core.models import load_model
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.sweep import EpsFinished
from inspector.core.threat import ThreatModel

GRID = (0.0, 0.05, 0.1, 0.15, 0.2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A two-model run on an affine problem: every snapshot the window would receive."""
    folder = tmp_path_factory.mktemp("autosave-run")
    model_path, data, _ = linear_problem_files(folder, seed=2, n=90, classes=3)
    dataset = open_dataset(str(data))
    models = [load_model(str(model_path), device="cpu", name=n) for n in ("first", "second")]
    threat = ThreatModel(eps=GRID, steps=5, seed=0)
    request = EvaluationRequest((ModelRequest(str(model_path)),), str(data), threat)
    snapshots: list[EvaluationResults] = []
    finished: dict[int, ModelResult] = {}
    for item in evaluate_models(models, dataset, request):
        if isinstance(item, EpsFinished):  # what the window builds after each ε
            finished[item.model_index] = ModelResult(models[item.model_index].info, item.snapshot)
            snapshots.append(
                EvaluationResults(
                    threat.with_examples(len(dataset.labels)), dataset.info, list(finished.values())
                )
            )
        elif isinstance(item, EvaluationResults):
            final = item
    return snapshots, final


def test_default_folder_follows_xdg_state_home(monkeypatch, tmp_path):
    assert str(default_autosave_folder()).startswith(os.environ["XDG_STATE_HOME"])  # conftest
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_autosave_folder() == tmp_path / "robustness-inspector" / "autosave"
    home = Path.home() / ".local" / "state" / "robustness-inspector" / "autosave"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/path")  # the XDG spec: ignore it
    assert default_autosave_folder() == home
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_autosave_folder() == home


def test_autosaver_throttles_and_flushes(run, tmp_path):
    snapshots, _ = run
    clock = FakeClock()
    saver = Autosaver(tmp_path, interval=30.0, run_id="run-a", clock=clock)
    assert saver.path == tmp_path / "run-a.riaudit"

    def saved_eps() -> list[int]:
        return list(read_audit_header(saver.path)["contents"]["eps_done"])

    assert saver.save(Audit(snapshots[0])) and saved_eps() == [1]  # the first write is at once
    clock.now += 10
    assert not saver.save(Audit(snapshots[1])) and saver.pending and saved_eps() == [1]
    clock.now += 10
    assert not saver.save(Audit(snapshots[2])) and saved_eps() == [1]
    clock.now += 10.5  # 30.5 s after the first write
    assert saver.save(Audit(snapshots[3])) and not saver.pending and saved_eps() == [4]
    assert not saver.flush()  # nothing pending
    clock.now += 1
    assert not saver.save(Audit(snapshots[4]))
    assert saver.flush() and saved_eps() == [5]  # on demand
    clock.now += 1
    assert saver.save(Audit(snapshots[6]), force=True) and saved_eps() == [5, 2]
    marker = read_audit_header(saver.path)["autosave"]
    assert marker["run_id"] == "run-a" and marker["pid"] == os.getpid()
    saver.discard()
    assert not saver.path.exists() and not saver.pending
    saver.discard()  # twice is fine
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_crashed_run_is_recovered_with_its_finished_eps(run, tmp_path):
    snapshots, final = run
    saver = Autosaver(tmp_path, interval=0.0)
    for snap in snapshots:
        saver.save(Audit(snap, {"eps_index": 3}))
    # the session "crashes" here: no discard()
    assert find_recoverable(tmp_path) == []  # its writer (this process) is still running
    [candidate] = find_recoverable(tmp_path, include_running=True)
    assert candidate.path == saver.path and candidate.size == saver.path.stat().st_size
    assert candidate.models == ("first", "second") and candidate.eps_done == (5, 5)
    assert candidate.eps_total == len(GRID) and "L∞" in candidate.threat_model
    assert "first 5/5 ε" in candidate.describe()
    recovered = load_audit(candidate.path)
    assert recovered.view == {"eps_index": 3}
    for ours, theirs in zip(final.models, recovered.results.models, strict=True):
        assert ours.info == theirs.info and ours.sweep.curve() == theirs.sweep.curve()
        assert np.array_equal(ours.sweep.adv_probs, theirs.sweep.adv_probs)
    discard_recoverable(candidate)
    assert find_recoverable(tmp_path, include_running=True) == []


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_find_recoverable_lists_newest_first_and_skips_the_rest(run, tmp_path):
    snapshots, _ = run
    dead = {"pid": _dead_pid(), "host": socket.gethostname()}
    for name, snap in (("old", 1), ("middle", 4), ("new", 7)):
        save_audit(tmp_path / f"{name}.riaudit", Audit(snapshots[snap]), autosave=dead)
    os.utime(tmp_path / "new.riaudit", (1, 1))  # order comes from the saved time, not mtime
    save_audit(
        tmp_path / "live.riaudit",
        Audit(snapshots[0]),
        autosave={"pid": os.getpid(), "host": dead["host"]},
    )
    (tmp_path / "damaged.riaudit").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "notes.txt").write_text("ignored")
    fresh_temp = tmp_path / ".new.riaudit.abcd1234.tmp"  # a write in progress, or killed
    fresh_temp.write_bytes(b"partial")
    found = find_recoverable(tmp_path)
    assert [c.path.name for c in found] == ["new.riaudit", "middle.riaudit", "old.riaudit"]
    assert [c.eps_done for c in found] == [(5, 3), (5,), (2,)]
    assert [c.saved for c in found] == sorted((c.saved for c in found), reverse=True)
    assert fresh_temp.exists()  # not listed, and not removed while it may still be written
    os.utime(fresh_temp, (1, 1))
    find_recoverable(tmp_path)
    assert not fresh_temp.exists()  # stale: cleaned
    names = [c.path.name for c in find_recoverable(tmp_path, include_running=True)]
    assert names == ["live.riaudit", "new.riaudit", "middle.riaudit", "old.riaudit"]
    assert find_recoverable(tmp_path / "nowhere") == []
