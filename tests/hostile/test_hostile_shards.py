"""Hostile parts for `merge` and hostile checkpoints for `--resume` (issue 16 under issue 13's
rule): damaged or forged files give one InspectorError line, in bounded time, never another
exception; a forged shard record cannot make merge allocate or list without bound."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shard_support import demo_request, run

from inspector.cli.main import main
from inspector.core.errors import InspectorError
from inspector.core.results import load_results, save_results
from inspector.core.shards import Shard, merge_results, parse_shard, shard_from_record

FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_parts")
    request = replace(demo_request(), limit=12)
    paths = []
    for i in range(2):
        path = folder / f"part_{i}.json"
        save_results(path, run(replace(request, shard=Shard(i, 2))))
        paths.append(path)
    return folder, paths


def _merge_only_user_errors(paths) -> None:
    start = time.monotonic()
    try:
        merge_results([(str(p), load_results(p)) for p in paths])
    except InspectorError as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - start < 2.0


def test_forged_shard_records_raise_only_inspector_errors(parts):
    folder, paths = parts
    data = json.loads(paths[1].read_text())

    @FUZZ
    @given(st.one_of(JSON, st.fixed_dictionaries(
        {"index": JSON, "count": JSON, "examples": JSON})))
    def check(record):
        forged = folder / "forged.json"
        forged.write_text(json.dumps(data | {"shard": record}))
        _merge_only_user_errors([paths[0], forged])

    check()


def test_damaged_parts_raise_only_inspector_errors(parts):
    folder, paths = parts
    raw = paths[1].read_bytes()

    @FUZZ
    @given(st.floats(0.0, 1.0), st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)),
                                          max_size=4))
    def check(cut, flips):
        out = bytearray(raw[: int(len(raw) * cut)])
        for where, bit in flips:
            if out:
                out[min(int(len(out) * where), len(out) - 1)] ^= 1 << bit
        damaged = folder / "damaged.json"
        damaged.write_bytes(bytes(out))
        try:
            _merge_only_user_errors([paths[0], damaged])
        except InspectorError as exc:  # load_results refused it: a user error too
            assert "\n" not in str(exc)

    check()


@FUZZ
@given(st.text(max_size=24))
def test_shard_texts_parse_or_raise_one_line(text):
    try:
        shard = parse_shard(text)
    except InspectorError as exc:
        assert "\n" not in str(exc)
    else:
        assert 0 <= shard.index < shard.count


def test_a_huge_declared_count_is_refused_in_one_line(parts, capsys):
    folder, paths = parts
    data = json.loads(paths[1].read_text())
    for record, words in (
        ({"index": 1, "count": 10**9, "examples": 12}, "damaged shard record"),
        ({"index": 1, "count": 99_999, "examples": 12}, "not the same split"),
        ({"index": True, "count": 2, "examples": 12}, "damaged shard record"),
    ):
        forged = folder / "big.json"
        forged.write_text(json.dumps(data | {"shard": record}))
        assert main(["merge", str(paths[0]), str(forged), "--out", str(folder / "m.json")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0] and len(err[0]) < 300, err
    assert shard_from_record({"index": 0, "count": 1, "examples": 3}, "x") == (Shard(0, 1), 3)


def test_a_junk_or_foreign_checkpoint_is_refused_on_resume(tmp_path, capsys):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "run.riaudit").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    flags = ["evaluate", "--demo", "--limit", "12", "--eps", "0,0.1", "--steps", "2",
             "--no-checks", "--device", "cpu", "--checkpoint", str(folder), "--resume"]
    assert main(flags) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.riaudit" in err[0], err
    (folder / "run.riaudit").unlink()
    (folder / "run.riaudit").mkdir()  # a folder where the file should be
    assert main(flags) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_forged_progress_record_is_ignored_on_resume(tmp_path):
    """The in-flight record beside a checkpoint only saves work: a forged or damaged one is
    ignored (those examples are attacked again), never trusted, never a traceback."""
    from shard_support import assert_same_examples

    from inspector.core.audit import load_audit
    from inspector.core.checkpoint import Checkpoint

    request = replace(demo_request(), limit=12, checkpoint=str(tmp_path))
    first = run(request)
    checkpoint = Checkpoint(tmp_path, None)
    saved = load_audit(checkpoint.path).results
    for forged in (b"[" * 100_000, b"\xff\xfe", json.dumps({"model": 0, "eps_index": 3,
                   "done": [True, -1, 10**40]}).encode(), json.dumps([1, 2]).encode()):
        checkpoint.progress_path.write_bytes(forged)
        assert checkpoint.in_flight(saved) is None
    assert_same_examples(saved, first)
