"""Audit files: every number back exactly, sources checked, kills and damage survived.

A small digits evaluation (the three demo models, 60 examples, 3 ε) and a cancelled
affine one (partial, with exact certificates) are saved, reopened and compared field by
field; the model and data files are changed, deleted and moved behind the audit's back.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import linear_problem_files, save_npz

import inspector.core.audit as audit_module
from inspector.core.atomic import is_temp_name
from inspector.core.audit import (
    Audit,
    check_sources,
    load_any,
    load_audit,
    read_audit_header,
    relocate,
    save_audit,
)
from inspector.core.demo import demo_model_paths
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate, run_to_end
from inspector.core.results import EvaluationResults, results_to_json, save_results
from inspector.core.sweep import EpsFinished
from inspector.core.threat import ThreatModel

VIEW = {"eps_index": 2, "model": "digits_pgd", "filter": {"status": "boundary_error"}, "row": 7}


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Copies of the demo models (so they can be changed), evaluated on 60 digits."""
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for source in demo_model_paths():
        shutil.copy(source, folder / source.name)
        shutil.copy(f"{source}.json", folder / f"{source.name}.json")
        paths.append(folder / source.name)
    threat = ThreatModel(norm="linf", eps=(0.0, 0.05, 0.1), attack="pgd", steps=5, seed=0)
    request = EvaluationRequest(
        tuple(ModelRequest(str(p)) for p in paths), "digits", threat, limit=60, device="cpu"
    )
    return run_to_end(request), paths


@pytest.fixture(scope="module")
def linear_partial(tmp_path_factory):
    """An affine model on an .npz, cancelled during its third ε: partial, certified radii."""
    folder = tmp_path_factory.mktemp("linear")
    model, data, _ = linear_problem_files(folder, seed=4, n=120, classes=3)
    threat = ThreatModel(eps=(0.0, 0.05, 0.1, 0.2), steps=10, seed=0)
    request = EvaluationRequest((ModelRequest(str(model)),), str(data), threat, batch_size=16)
    stop = {"now": False}
    for item in evaluate(request, cancel=lambda: stop["now"]):
        if isinstance(item, EpsFinished) and item.eps_index == 1:
            stop["now"] = True
        final = item
    assert isinstance(final, EvaluationResults) and final.partial
    return final, model, data


# --- comparing ------------------------------------------------------------------------------


def assert_same_array(a, b, what: str) -> None:
    if a is None or b is None:
        assert a is None and b is None, what
        return
    assert a.dtype == b.dtype and a.shape == b.shape, what
    if a.dtype == np.float16:  # bit-exact, NaN payloads included
        assert np.array_equal(a.view(np.uint16), b.view(np.uint16)), what
    elif a.dtype.kind == "f":
        assert np.array_equal(np.isnan(a), np.isnan(b)), what
        assert np.array_equal(a, b, equal_nan=True), what
    else:
        assert np.array_equal(a, b), what


def assert_same_results(a: EvaluationResults, b: EvaluationResults, arrays: bool = True) -> None:
    assert (a.threat, a.dataset, a.created, a.environment) == (
        b.threat,
        b.dataset,
        b.created,
        b.environment,
    )
    assert a.partial == b.partial and len(a.models) == len(b.models)
    for ma, mb in zip(a.models, b.models, strict=True):
        assert ma.info == mb.info
        sa, sb = ma.sweep, mb.sweep
        for name, value in vars(sa).items():
            other = getattr(sb, name)
            if not arrays and name in audit_module.ARRAY_FIELDS:
                continue  # what only an audit keeps
            if isinstance(value, np.ndarray) or isinstance(other, np.ndarray):
                assert_same_array(value, other, f"{ma.info.name}.{name}")
            else:
                assert value == other, f"{ma.info.name}.{name}"
        assert sa.curve() == sb.curve() and sa.certified_curve() == sb.certified_curve()
        assert sa.partial == sb.partial


# --- round trips ----------------------------------------------------------------------------


def test_reopen_restores_every_number(digits, tmp_path):
    results, _ = digits
    sweep = results.models[1].sweep  # the PGD-trained model: some examples never break
    assert sweep.adv_images is not None and sweep.adv_probs is not None
    assert np.isnan(sweep.breaking_eps).any() and not np.isnan(sweep.breaking_eps).all()
    audit = Audit(results, dict(VIEW))
    path = tmp_path / "digits.riaudit"
    save_audit(path, audit)
    assert audit.saved
    again = load_audit(path)
    assert again.view == VIEW and again.saved == audit.saved
    assert_same_results(results, again.results)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["arrays.npz", "audit.json", "results.json"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        stored = archive.read("results.json")
    save_results(tmp_path / "plain.json", results)  # exactly the results file, byte for byte
    assert stored == (tmp_path / "plain.json").read_bytes()
    assert json.loads(stored) == json.loads(json.dumps(results_to_json(results)))
    header = read_audit_header(path)
    assert header["format"] == "robustness-inspector/audit" and header["version"] == 1
    assert [m["sha256"] for m in header["sources"]["models"]] == [
        m.info.sha256 for m in results.models
    ]
    assert header["sources"]["dataset"]["sha256"] == results.dataset.sha256


def test_reopen_partial_run_with_certificates(linear_partial, tmp_path):
    results, _, _ = linear_partial
    sweep = results.models[0].sweep
    assert sweep.eps_done == 2 and sweep.certified_radius is not None
    path = tmp_path / "partial.riaudit"
    save_audit(path, Audit(results))
    again = load_audit(path)
    assert again.results.partial and again.results.models[0].sweep.eps_done == 2
    assert_same_results(results, again.results)


def test_absent_arrays_are_not_stored(digits, tmp_path):
    results, _ = digits
    models = [type(m)(m.info, m.sweep.copy()) for m in results.models]
    models[1].sweep.adv_images = None
    models[2].sweep.adv_probs = models[2].sweep.clean_probs = None
    trimmed = EvaluationResults(
        results.threat, results.dataset, models, results.created, results.environment
    )
    path = tmp_path / "trimmed.riaudit"
    save_audit(path, Audit(trimmed))
    with zipfile.ZipFile(path) as archive, np.load(io.BytesIO(archive.read("arrays.npz"))) as z:
        keys = set(z.files)
    assert "model0.adv_images" in keys and "model1.adv_images" not in keys
    assert "model2.adv_probs" not in keys and "model2.adv_conf" in keys
    again = load_audit(path).results
    assert again.models[1].sweep.adv_images is None and again.models[2].sweep.adv_probs is None
    assert_same_results(trimmed, again)


def test_load_any_opens_audits_and_plain_results(digits, tmp_path):
    results, _ = digits
    plain = tmp_path / "results.json"
    save_results(plain, results)
    opened = load_any(plain)
    assert opened.view == {} and opened.saved == ""
    assert_same_results(results, opened.results, arrays=False)
    for ours, theirs in zip(results.models, opened.results.models, strict=True):
        assert np.abs(ours.sweep.adv_conf - theirs.sweep.adv_conf).max() <= 5e-7  # 6 decimals
        assert theirs.sweep.adv_images is None and theirs.sweep.clean_probs is None
    path = tmp_path / "a.riaudit"
    save_audit(path, Audit(results, {"k": 1}))
    assert load_any(path).view == {"k": 1}


# --- sources ------------------------------------------------------------------------------


def _states(audit: Audit) -> list[tuple[str, str, str]]:
    return [(s.kind, s.name, s.status) for s in check_sources(audit)]


def test_check_sources_then_relocate_models(digits, tmp_path):
    results, paths = digits
    audit = Audit(results)
    names = [m.info.name for m in results.models]
    assert _states(audit) == [("model", n, "ok") for n in names] + [("dataset", "digits", "ok")]
    spare = tmp_path / "spare.pt2"
    shutil.copy(paths[0], spare)  # the original bytes, kept for the relocation
    try:
        _change_delete_relocate(audit, paths, spare, tmp_path)
    finally:
        shutil.copy(spare, paths[0])  # restored for the other tests


def _change_delete_relocate(audit: Audit, paths: list[Path], spare: Path, tmp_path: Path):
    names = [m.info.name for m in audit.results.models]
    with open(paths[0], "ab") as handle:
        handle.write(b"\0")
    status = check_sources(audit)[0]
    assert status.status == "changed" and "has changed since the evaluation" in status.message
    assert status.expected_sha256 == audit.results.models[0].info.sha256
    paths[0].unlink()
    status = check_sources(audit)[0]
    assert status.status == "missing" and "locate the moved file" in status.message
    assert [s.status for s in check_sources(audit)[1:]] == ["ok", "ok", "ok"]
    with pytest.raises(InspectorError, match="is not the model digits_standard that was evaluated"):
        relocate(audit, "model", names[0], paths[1])  # another model's file
    moved = relocate(audit, "model", names[0], spare)
    assert moved.results.models[0].info.path == str(spare.resolve())
    assert "relocated from" in moved.results.models[0].info.notes[-1]
    assert [s.status for s in check_sources(moved)] == ["ok"] * 4
    assert audit.results.models[0].info.path == str(paths[0].resolve())  # original untouched
    path = tmp_path / "moved.riaudit"
    save_audit(path, moved)
    assert load_audit(path).results.models[0].info.path == str(spare.resolve())


def test_check_sources_then_relocate_dataset(linear_partial, tmp_path):
    results, _, data = linear_partial
    audit = Audit(results)
    assert [s.status for s in check_sources(audit)] == ["ok", "ok"]
    moved_data = tmp_path / "moved.npz"
    shutil.move(data, moved_data)
    try:
        status = check_sources(audit)[1]
        assert (status.kind, status.status, status.name) == ("dataset", "missing", str(data))
        other = save_npz(tmp_path / "other.npz", np.zeros((3, 1, 4, 4), np.float32), np.arange(3))
        with pytest.raises(InspectorError, match="is not the dataset that was evaluated"):
            relocate(audit, "dataset", str(data), other)
        fixed = relocate(audit, "dataset", str(data), moved_data)
        assert fixed.results.dataset.spec == str(moved_data.resolve())
        assert [s.status for s in check_sources(fixed)] == ["ok", "ok"]
        seen = []
        check_sources(audit, dataset_resolver=lambda spec: seen.append(spec) or "x")
        assert seen == []  # a missing file is not even opened
    finally:
        shutil.move(moved_data, data)
    assert check_sources(audit, dataset_resolver=lambda spec: "0" * 64)[1].status == "changed"
    with pytest.raises(InspectorError, match="built in"):
        relocate(Audit(_with_dataset_spec(results, "digits")), "dataset", "digits", data)


def _with_dataset_spec(results: EvaluationResults, spec: str) -> EvaluationResults:
    import dataclasses

    return dataclasses.replace(results, dataset=dataclasses.replace(results.dataset, spec=spec))


# --- killed and failed writes --------------------------------------------------------------


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_write_failing_half_way_keeps_the_previous_file(digits, tmp_path, monkeypatch):
    results, _ = digits
    path = tmp_path / "audit.riaudit"
    save_audit(path, Audit(results, {"version": "old"}))
    before = path.read_bytes()

    def savez_then_fail(member, **arrays):
        member.write(os.urandom(1 << 20))  # a megabyte of the member, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit_module.np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="No space left"):
        save_audit(path, Audit(results, {"version": "new"}))
    monkeypatch.undo()
    assert path.read_bytes() == before and _listing(tmp_path) == ["audit.riaudit"]
    assert load_audit(path).view == {"version": "old"}
    with pytest.raises(TypeError):  # a view that is not JSON fails before the file is touched
        save_audit(path, Audit(results, {"bad": object()}))
    assert path.read_bytes() == before and _listing(tmp_path) == ["audit.riaudit"]


KILLED_WRITER = """
import sys, numpy as np
from inspector.core.audit import load_audit, save_audit
audit = load_audit(sys.argv[1])
sweep = audit.results.models[0].sweep
n, k = len(sweep.indices), len(sweep.eps)
values = np.random.default_rng(0).integers(0, 1 << 16, (n, k, 3, 256, 256), dtype=np.uint16)
sweep.adv_images = values.view(np.float16)  # ~70 MB that does not compress
print("writing", flush=True)
save_audit(sys.argv[1], audit)
print("finished", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_writer_leaves_the_previous_file(digits, tmp_path):
    results, _ = digits
    path = tmp_path / "audit.riaudit"
    save_audit(path, Audit(results, {"version": "old"}))
    before = path.read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert child.stdout.readline().strip() == "writing"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill it once a few MB of the temp file exist
            temps = [p for p in tmp_path.iterdir() if is_temp_name(p.name, path.name)]
            if temps and temps[0].stat().st_size > 4 << 20:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the writer never got going")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert load_audit(path).view == {"version": "old"}
    leftovers = [n for n in _listing(tmp_path) if n != path.name]
    assert len(leftovers) == 1 and is_temp_name(leftovers[0], path.name)
    stale = tmp_path / leftovers[0]
    save_audit(path, Audit(results, {"version": "newer"}))  # a fresh leftover is left alone
    assert stale.exists()
    old = time.time() - 3600
    os.utime(stale, (old, old))
    save_audit(path, Audit(results, {"version": "newest"}))  # a stale one is cleaned
    assert _listing(tmp_path) == [path.name]
    assert load_audit(path).view == {"version": "newest"}


# --- damaged and foreign files -------------------------------------------------------------


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy an audit member by member, letting `change(name, data)` alter or drop members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    return target


def _edit_json(member: str, edit):
    def change(name, data):
        if name != member:
            return data
        content = json.loads(data)
        edit(content)
        return json.dumps(content)

    return change


def test_damaged_foreign_and_newer_files_are_refused_clearly(digits, tmp_path):
    results, _ = digits
    good = tmp_path / "good.riaudit"
    save_audit(good, Audit(results))
    cases = []

    text = tmp_path / "text.riaudit"
    text.write_text("hello")
    cases.append((text, r"not a Robustness Inspector audit \(not a zip archive\)"))
    truncated = tmp_path / "truncated.riaudit"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    cases.append((truncated, "not a zip archive"))
    foreign = tmp_path / "foreign.riaudit"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("readme.txt", "not ours")
    cases.append((foreign, "is incomplete: audit.json is missing"))
    other = _rewrite(good, tmp_path / "other.riaudit", _edit_json("audit.json", _set("format", 1)))
    cases.append((other, r"not a Robustness Inspector audit \(format 1\)"))
    newer = _rewrite(good, tmp_path / "new.riaudit", _edit_json("audit.json", _set("version", 2)))
    cases.append((newer, "audit format version 2, this tool reads version 1: update robustness"))
    inner = _rewrite(
        good, tmp_path / "inner.riaudit", _edit_json("results.json", _set("version", 2))
    )
    cases.append((inner, "results format version 2.*update robustness-inspector"))
    no_arrays = _rewrite(good, tmp_path / "bare.riaudit", lambda n, d: None if "npz" in n else d)
    cases.append((no_arrays, "is incomplete: arrays.npz is missing"))
    bad_json = _rewrite(
        good, tmp_path / "badjson.riaudit", lambda n, d: d[:-5] if n == "results.json" else d
    )
    cases.append((bad_json, r"is damaged \(results.json"))
    cases.append((_flip_member_byte(good, tmp_path / "crc.riaudit", "arrays.npz"), "damaged"))
    cases.append((_flip_member_byte(good, tmp_path / "crc2.riaudit", "results.json"), "damaged"))
    cases.append((tmp_path / "absent.riaudit", "audit file not found"))
    for path, words in cases:
        with pytest.raises(InspectorError, match=words):
            load_audit(path)
    with pytest.raises(InspectorError, match="update robustness-inspector"):
        load_any(newer)
    (tmp_path / "text.txt").write_text("x")
    with pytest.raises(InspectorError, match="cannot read results file"):
        load_any(tmp_path / "text.txt")


def _set(key, value):
    return lambda content: content.__setitem__(key, value)


def _flip_member_byte(source: Path, target: Path, member: str) -> Path:
    """Corrupt one byte in the middle of a member's compressed data (as a bad disk would)."""
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2] ^= 0xFF
    target.write_bytes(bytes(raw))
    return target
