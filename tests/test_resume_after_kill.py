"""A run killed after its first ε is checkpointed, resumed, equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shard_support import assert_same_examples, demo_request, run

from inspector.cli.main import main
from inspector.core.audit import load_audit
from inspector.core.results import load_results

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--demo", "--limit", "40", "--eps", "0,0.1,0.2", "--attack", "pgd", "--steps", "5",
         "--restarts", "2", "--seed", "3", "--device", "cpu", "--no-checks"]


def _env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def _eps_done(path: Path) -> int:
    """ε finished by the first model in a checkpoint (0 while none or while being replaced)."""
    try:
        return load_audit(path).results.models[0].sweep.eps_done
    except Exception:
        return 0


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path, capsys):
    folder, out = tmp_path / "ckpt", tmp_path / "R.json"
    # the slow part of the run: 3 models, so that the kill lands well before the end
    child = subprocess.Popen(
        [sys.executable, "-m", "inspector", "evaluate", *FLAGS, "--checkpoint", str(folder)],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    checkpoint = folder / "run.riaudit"
    deadline = time.monotonic() + 120
    try:
        while _eps_done(checkpoint) < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    saved = load_audit(checkpoint).results
    assert saved.partial and 1 <= len(saved.models) <= 3
    args = ["evaluate", *FLAGS, "--checkpoint", str(folder), "--resume", "--out", str(out)]
    assert main(args) == 0
    resumed = load_results(out)
    assert not resumed.partial
    assert_same_examples(resumed, run(demo_request(models=3)))


def test_checkpoint_is_not_overwritten_without_resume(tmp_path, capsys):
    folder = tmp_path / "ckpt"
    assert main(["evaluate", *FLAGS, "--checkpoint", str(folder)]) == 0
    first = (folder / "run.riaudit").read_bytes()
    capsys.readouterr()
    assert main(["evaluate", *FLAGS, "--checkpoint", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds a checkpoint of an earlier run: resume it" in err[0]
    assert (folder / "run.riaudit").read_bytes() == first
    # a complete checkpoint resumes to the same results without attacking again
    assert main(["evaluate", *FLAGS, "--checkpoint", str(folder), "--resume"]) == 0


@pytest.mark.parametrize("change", [["--seed", "4"], ["--limit", "30"]])
def test_resume_of_another_run_is_refused(tmp_path, capsys, change):
    folder = tmp_path / "ckpt"
    assert main(["evaluate", *FLAGS, "--checkpoint", str(folder)]) == 0
    capsys.readouterr()
    flags = list(FLAGS)
    i = flags.index(change[0])
    flags[i + 1] = change[1]
    assert main(["evaluate", *flags, "--checkpoint", str(folder), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ("seed 4" in err[0] or "other examples" in err[0]), err


def _batches_at(request, eps: float, stop_after: int | None = None):
    """Run `request` (stopped after `stop_after` batches at `eps`, when given); the last item
    and the number of batches attacked at `eps`."""
    from inspector.core.evaluate import evaluate
    from inspector.core.sweep import Progress

    count, last = [0], None

    def cancel() -> bool:
        return stop_after is not None and count[0] >= stop_after

    for item in evaluate(request, cancel=cancel):
        last = item
        if isinstance(item, Progress) and item.phase == "attack" and item.eps == eps:
            count[0] += 1
    return last, count[0]


def test_a_stop_inside_an_eps_loses_at_most_the_batch_in_flight(tmp_path):
    """Checkpoints after every batch (0 s apart): stopped in the middle of ε 0.2, the resumed
    run attacks only the examples not attacked there yet, and equals an uninterrupted run."""
    from dataclasses import replace

    from inspector.core.checkpoint import Checkpoint

    request = replace(demo_request(models=1), batch_size=4)
    whole, whole_batches = _batches_at(request, 0.2)
    stopped = replace(request, checkpoint=str(tmp_path), checkpoint_seconds=0.0)
    _batches_at(stopped, 0.2, stop_after=3)  # the third batch's Progress: then Cancel
    checkpoint = Checkpoint(tmp_path, None)
    saved = load_audit(checkpoint.path).results
    assert saved.models[0].sweep.eps_done == 2  # ε 0 and 0.1 done, 0.2 in flight
    in_flight = checkpoint.in_flight(saved)
    assert in_flight is not None and len(in_flight) >= 8  # two batches of 4 finished there
    resumed, resumed_batches = _batches_at(replace(stopped, resume=True), 0.2)
    assert resumed_batches < whole_batches - 1  # the batches done before were not redone
    assert_same_examples(resumed, whole)
