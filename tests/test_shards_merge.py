"""`evaluate --shard i/n` + `merge`: the parts together equal the one-process run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from shard_support import assert_same_examples, demo_request, run

from inspector.cli.main import main
from inspector.core.results import load_results, save_results
from inspector.core.shards import Shard, merge_results, parse_shard

FLAGS = ["--demo", "--limit", "40", "--eps", "0,0.1,0.2", "--attack", "pgd", "--steps", "5",
         "--restarts", "2", "--seed", "3", "--device", "cpu", "--no-checks"]


def _parts(tmp_path: Path, count: int, request=None) -> list[str]:
    request = request or demo_request(models=2)
    paths = []
    for i in range(count):
        path = tmp_path / f"part_{i}.json"
        save_results(path, run(replace(request, shard=Shard(i, count))))
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def whole():
    return run(demo_request(models=2))


@pytest.fixture(scope="module")
def parts(tmp_path_factory, whole):
    return _parts(tmp_path_factory.mktemp("parts"), 3)


def test_split_is_disjoint_and_complete():
    import numpy as np

    indices = np.arange(10) * 7
    shares = [Shard(i, 4).take(indices) for i in range(4)]
    assert [len(s) for s in shares] == [3, 3, 2, 2]
    assert np.array_equal(np.concatenate(shares), indices)
    assert parse_shard(" 2/5 ") == Shard(2, 5)


def test_merged_parts_equal_the_whole_run(parts, whole, tmp_path):
    out = tmp_path / "merged.json"
    assert main(["merge", *reversed(parts), "--out", str(out)]) == 0
    merged = load_results(out)
    assert merged.shard is None and not merged.partial
    assert merged.threat.num_examples == 40
    assert_same_examples(merged, whole)
    saved = tmp_path / "whole.json"
    save_results(saved, whole)
    a, b = json.loads(out.read_text()), json.loads(saved.read_text())
    for ma, mb in zip(a["models"], b["models"], strict=True):
        assert ma["curve"] == mb["curve"] and ma["clean_accuracy"] == mb["clean_accuracy"]


def test_cli_shard_flag_writes_its_part(tmp_path, capsys):
    out = tmp_path / "p1.json"
    assert main(["evaluate", *FLAGS, "--shard", "1/3", "--out", str(out)]) == 0
    part = load_results(out)
    assert part.shard == {"index": 1, "count": 3, "examples": 40}
    assert all(len(m.sweep.indices) == 13 for m in part.models)


def _error(capsys, args) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("robustness-inspector: error: ")
    return err[0]


def test_missing_part_is_named(parts, tmp_path, capsys):
    line = _error(capsys, ["merge", parts[0], parts[2], "--out", str(tmp_path / "m.json")])
    assert "part 1/3 missing" in line
    assert not (tmp_path / "m.json").exists()


def test_part_of_another_seed_is_refused(parts, tmp_path, capsys):
    other = demo_request(models=2)
    other = replace(other, threat=replace(other.threat, seed=4))
    odd = tmp_path / "odd_1.json"
    save_results(odd, run(replace(other, shard=Shard(1, 3))))
    line = _error(capsys, ["merge", parts[0], str(odd), parts[2], "--out", str(tmp_path / "m")])
    assert "seed 4" in line and "seed 3" in line and "odd_1.json" in line


def test_part_with_another_model_hash_or_dataset_is_refused(parts, tmp_path, capsys):
    data = json.loads(Path(parts[1]).read_text())
    data["models"][0]["model"]["sha256"] = "0" * 64
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    line = _error(capsys, ["merge", parts[0], str(changed), parts[2], "--out", str(tmp_path / "m")])
    assert "another model file (hash)" in line
    data = json.loads(Path(parts[1]).read_text())
    data["dataset"]["sha256"] = "1" * 64
    changed.write_text(json.dumps(data))
    line = _error(capsys, ["merge", parts[0], str(changed), parts[2], "--out", str(tmp_path / "m")])
    assert "another dataset" in line


def test_whole_run_or_damaged_record_is_not_a_part(parts, whole, tmp_path, capsys):
    full = tmp_path / "full.json"
    save_results(full, whole)
    assert "not a part of a sharded run" in _error(capsys, ["merge", str(full), "--out", "x.json"])
    data = json.loads(Path(parts[1]).read_text())
    data["shard"] = {"index": 5, "count": 3, "examples": 40}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert "damaged shard record" in _error(capsys, ["merge", parts[0], str(bad), "--out", "x"])
    line = _error(capsys, ["evaluate", *FLAGS, "--shard", "3/3"])
    assert "shard 3/3 does not exist" in line


def test_merge_of_loaded_parts_in_process(parts, whole):
    merged = merge_results([(p, load_results(p)) for p in parts])
    assert_same_examples(merged, whole)
