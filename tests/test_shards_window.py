"""The window opens merged results with the one-process numbers, and partial ones marked."""

from __future__ import annotations

from dataclasses import replace

from gui_support import _no_leaked_widgets, _private_settings  # noqa: F401
from shard_support import demo_request, run
from shard_window_support import assert_same_numbers, headlines, open_window

from inspector.core.audit import load_audit
from inspector.core.evaluate import run_to_end
from inspector.core.results import save_results
from inspector.core.shards import Shard, merge_results


def test_merged_results_open_with_the_one_process_numbers(qtbot, tmp_path):
    request = demo_request(models=2)
    parts = [(f"part {i}", run(replace(request, shard=Shard(i, 2)))) for i in range(2)]
    save_results(tmp_path / "merged.json", merge_results(parts))
    save_results(tmp_path / "whole.json", run(request))
    merged = open_window(qtbot, tmp_path / "merged.json")
    whole = open_window(qtbot, tmp_path / "whole.json")
    assert_same_numbers(merged, whole)
    assert "partial" not in merged.setup.progress_text.text()
    assert "robust" in headlines(merged)[1]


def test_a_checkpoint_opens_marked_partial(qtbot, tmp_path):
    folder = tmp_path / "ckpt"
    request = replace(demo_request(models=2, shard=Shard(0, 2)), checkpoint=str(folder))
    run_to_end(request)
    checkpoint = folder / "shard-0-of-2.riaudit"
    assert load_audit(checkpoint).results.partial  # a checkpoint is never the final file
    window = open_window(qtbot, checkpoint)
    message = window.setup.progress_text.text()  # the status bar moves on to the file checks
    assert "partial" in message and "part 0/2 of a sharded run" in message
