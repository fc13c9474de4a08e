"""Two gloo processes under torchrun write one results file equal to a one-process run's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_support import _no_leaked_widgets, _private_settings  # noqa: F401
from shard_support import assert_same_examples, demo_request, run
from shard_window_support import assert_same_numbers, open_window

from inspector.cli.main import main
from inspector.core.audit import load_audit
from inspector.core.results import load_results, save_results

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--demo", "--limit", "40", "--eps", "0,0.1,0.2", "--attack", "pgd", "--steps", "5",
         "--restarts", "2", "--seed", "3", "--device", "cpu", "--no-checks"]


def torchrun(out_dir: Path, *extra: str, ranks: int = 2) -> subprocess.CompletedProcess:
    """`torchrun --standalone` (a free port of its own) in a subprocess, bounded in time."""
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={ranks}", "-m", "inspector", "evaluate", *FLAGS, *extra]
    return subprocess.run(command, env=env, cwd=out_dir, capture_output=True, text=True,
                          timeout=240)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torchrun")
    done = torchrun(folder, "--out", "R.json", "--audit", "R.riaudit", "--csv", "R.csv")
    assert done.returncode == 0, done.stderr[-2000:]
    return folder, done


@pytest.mark.slow  # two fresh processes importing torch: ~25 s on 2 cores
def test_two_ranks_equal_one_process(two_ranks):
    folder, done = two_ranks
    merged = load_results(folder / "R.json")
    assert merged.shard is None and not merged.partial and merged.threat.num_examples == 40
    assert_same_examples(merged, run(demo_request(models=3)))
    assert_same_examples(load_audit(folder / "R.riaudit").results, merged)
    assert done.stdout.count("digits_standard") >= 3  # the table, printed once (rank 0)
    assert done.stdout.count("Threat model:") == 1
    assert len((folder / "R.csv").read_text().splitlines()) == 2 + 3 * 40 * 3  # model×example×ε


def test_shard_flag_under_torchrun_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun sets it: refused before any set-up
    assert main(["evaluate", *FLAGS, "--shard", "0/2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "under torchrun each rank takes its share itself" in err[0]


@pytest.mark.slow  # shares the torchrun fixture above
def test_torchrun_results_reopen_in_the_window_with_one_process_numbers(two_ranks, qtbot):
    folder, _ = two_ranks
    save_results(folder / "one.json", run(demo_request(models=3)))
    for name in ("R.json", "R.riaudit"):
        one = open_window(qtbot, folder / "one.json")
        assert_same_numbers(open_window(qtbot, folder / name), one)
