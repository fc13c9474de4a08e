"""Hostile audits (issue 13): zip bombs, lying sizes, crafted .npy headers, pickles, view
values and source paths. Each is refused (or, for the view, cleaned) in bounded time."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hostile_results_support import (
    edit_json,
    genuine_results,
    rewrite_audit,
    save_genuine_audit,
    set_declared_size,
)
from hostile_support import marker_pickle

from inspector.cli.main import main
from inspector.core import sources as sources_module
from inspector.core.audit import check_sources, load_any, load_audit, read_audit_header
from inspector.core.autosave import find_recoverable
from inspector.core.errors import InspectorError
from inspector.core.results import results_to_json

PREFIX = "robustness-inspector: error:"


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    results = genuine_results()
    path = save_genuine_audit(tmp_path_factory.mktemp("audit") / "good.riaudit", results)
    return results, path


def _refused(path: Path, *words: str, seconds: float = 3.0) -> str:
    start = time.monotonic()
    with pytest.raises(InspectorError) as caught:
        load_any(path)
    message = str(caught.value)
    assert "\n" not in message and time.monotonic() - start < seconds
    for word in words:
        assert word in message, (word, message)
    return message


def _npz(arrays: dict[str, bytes]) -> bytes:
    """An arrays.npz with raw .npy members (crafted headers allowed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in arrays.items():
            archive.writestr(f"{name}.npy", data)
    return buffer.getvalue()


def _npy_header(shape, descr: str) -> bytes:
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _replace_arrays(genuine, tmp_path: Path, npz: bytes, name: str = "h.riaudit") -> Path:
    return rewrite_audit(genuine[1], tmp_path / name, lambda n, d: npz if n == "arrays.npz" else d)


def test_the_genuine_audit_reopens_with_its_arrays(genuine):
    audit = load_audit(genuine[1])
    sweep = audit.results.models[1].sweep
    assert sweep.adv_images is not None and sweep.adv_images.shape[:2] == (16, 3)
    np.testing.assert_array_equal(sweep.adv_probs, genuine[0].models[1].sweep.adv_probs)


def test_a_zip_bomb_member_is_refused_from_its_declared_size(genuine, tmp_path):
    bomb = b"\0" * (200 << 20)  # 200 MiB of zeros deflate to 200 KB
    path = rewrite_audit(
        genuine[1], tmp_path / "bomb.riaudit", lambda n, d: bomb if n == "results.json" else d
    )
    assert path.stat().st_size < 2 << 20
    _refused(path, "results.json", "declares 209,715,200 bytes", seconds=2.0)


def test_a_member_larger_than_it_declares_is_cut_off(genuine, tmp_path):
    big = b" " * (50 << 20) + json.dumps(results_to_json(genuine[0])).encode()
    path = rewrite_audit(
        genuine[1], tmp_path / "liar.riaudit", lambda n, d: big if n == "results.json" else d
    )
    set_declared_size(path, "results.json", 1000)  # the central directory lies
    _refused(path, "results.json", seconds=2.0)


def test_thousands_of_members_are_refused(genuine, tmp_path):
    extra = [(f"junk{i}", b"") for i in range(5000)]
    path = rewrite_audit(genuine[1], tmp_path / "many.riaudit", lambda n, d: d, extra)
    _refused(path, "5,003 members")


def test_an_npy_header_claiming_a_huge_array_allocates_nothing(genuine, tmp_path):
    header = _npy_header((10**6, 10**6), "<f4")  # 4 TB, if anyone believed it
    path = _replace_arrays(genuine, tmp_path, _npz({"model0.adv_images": header + b"\0" * 64}))
    _refused(path, "arrays.npz", "model0.adv_images has shape (1000000, 1000000)")


def test_object_and_pickled_arrays_are_refused_without_running_code(genuine, tmp_path):
    marker = tmp_path / "ran"
    payload = _npy_header((16,), "|O") + marker_pickle(marker)
    path = _replace_arrays(genuine, tmp_path, _npz({"model0.clean_conf": payload}))
    _refused(path, "model0.clean_conf has dtype |O")
    assert not marker.exists()
    ints = _npy_header((16,), "<i8") + b"\0" * 128
    path = _replace_arrays(genuine, tmp_path, _npz({"model0.clean_conf": ints}), "i.riaudit")
    _refused(path, "expected a floating type")


def test_a_truncated_or_unexpected_array_member_is_refused(genuine, tmp_path):
    short = _npy_header((16,), "<f8") + b"\0" * 40
    path = _replace_arrays(genuine, tmp_path, _npz({"model0.clean_conf": short}))
    _refused(path, "truncated")
    path = _replace_arrays(genuine, tmp_path, _npz({"../../x": short}), "u.riaudit")
    _refused(path, "unexpected member")


def test_hostile_view_values_are_dropped_not_applied(genuine, tmp_path):
    view = {
        "eps_index": 10**30,
        "examples": {"example": -5, "model_index": 99, "sort_column": 1e9, "status": "x" * 100,
                     "true_class": True, "sort_descending": "yes"},
        "saliency": {"opacity": 10**30, "signed": 1, "method": ["ig"], "target": "true"},
        "other": {"kept": 1},
    }  # fmt: skip
    path = rewrite_audit(
        genuine[1],
        tmp_path / "v.riaudit",
        edit_json("audit.json", lambda h: h.__setitem__("view", view)),
    )
    audit = load_audit(path)
    assert audit.view == {"other": {"kept": 1}, "examples": {}, "saliency": {"target": "true"}}


def test_a_hostile_results_json_inside_an_audit_is_refused(genuine, tmp_path, capsys):
    def negative(d):
        d["models"][0]["examples"]["breaking_eps"][0] = -0.5

    path = rewrite_audit(genuine[1], tmp_path / "r.riaudit", edit_json("results.json", negative))
    _refused(path, "results.json", "breaking_eps[0]")
    assert main(["report", str(path), "--out", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(PREFIX) and "breaking_eps[0]" in err[0]


def test_deeply_nested_audit_json_is_refused(genuine, tmp_path):
    def deep(name: str, data: bytes) -> bytes:
        return (
            data[:-1] + b', "v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            if name == "audit.json"
            else data
        )

    path = rewrite_audit(genuine[1], tmp_path / "d.riaudit", deep)
    _refused(path, "audit.json", "nested too deeply")


def test_a_hostile_autosave_is_listed_but_not_trusted(genuine, tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()

    def hostile(h):
        h["contents"] = {"models": ["m" * 10**5], "eps_done": [1]}

    rewrite_audit(genuine[1], folder / "run-x.riaudit", edit_json("audit.json", hostile))
    assert find_recoverable(folder) == []  # its header is refused: nothing offered
    with pytest.raises(InspectorError, match="100,000 characters long"):
        read_audit_header(folder / "run-x.riaudit")


# --- sources ---------------------------------------------------------------------------------


def _pointing_at(genuine, folder: Path, model_paths: list[str], spec: str):
    """The genuine audit's results with the models' paths (and the dataset spec) replaced."""
    from dataclasses import replace

    results = genuine[0]
    models = []
    for m, path in zip(results.models, model_paths, strict=True):
        sha = m.info.sha256
        if os.path.isfile(path) and os.access(path, os.R_OK) and os.path.getsize(path) < 1 << 20:
            sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()  # its true hash
        models.append(replace(m, info=replace(m.info, path=path, sha256=sha)))
    dataset = replace(results.dataset, spec=spec)
    return replace(results, models=models, dataset=dataset)


def test_sources_outside_the_folder_or_special_are_never_read(genuine, tmp_path, monkeypatch):
    from inspector.core.audit import Audit

    audit_folder = tmp_path / "audit"
    audit_folder.mkdir()
    fifo = audit_folder / "model.pt2"
    os.mkfifo(fifo)  # beside the audit, yet no regular file: never opened
    results = _pointing_at(genuine, audit_folder, ["/etc/passwd", str(fifo)], "/")
    seen: list = []
    monkeypatch.setattr(sources_module, "sha256_file", lambda p: seen.append(str(p)) or "x")
    monkeypatch.setattr(sources_module, "dataset_sha256", lambda s: seen.append(s) or "x")
    start = time.monotonic()
    statuses = check_sources(Audit(results), None, audit_folder)
    assert time.monotonic() - start < 1.0 and seen == []
    assert [s.status for s in statuses] == ["refused", "refused", "not checked"]
    assert "system folder" in statuses[0].message
    assert "not a regular file" in statuses[1].message
    assert "outside the audit's folder" in statuses[2].message
    confirmed = check_sources(Audit(results), None, audit_folder, frozenset({"/etc/passwd"}))
    assert confirmed[0].status == "refused" and seen == []  # confirming a system file: no


def test_a_symlink_leaving_the_folder_is_not_followed(genuine, tmp_path, monkeypatch):
    from inspector.core.audit import Audit

    audit_folder, elsewhere = tmp_path / "audit", tmp_path / "elsewhere"
    audit_folder.mkdir()
    elsewhere.mkdir()
    real = elsewhere / "m.pt2"
    real.write_bytes(b"weights")
    link = audit_folder / "m.pt2"
    link.symlink_to(real)
    inside = audit_folder / "n.pt2"
    inside.write_bytes(b"other weights")
    results = _pointing_at(genuine, audit_folder, [str(link), str(inside)], "digits")
    seen: list = []
    real_hash = sources_module.sha256_file
    monkeypatch.setattr(
        sources_module, "sha256_file", lambda p: seen.append(str(p)) or real_hash(p)
    )
    statuses = check_sources(Audit(results), lambda spec: results.dataset.sha256, audit_folder)
    assert [s.status for s in statuses] == ["not checked", "ok", "ok"]
    assert seen == [str(inside)]


def test_hashing_is_bounded_in_size(genuine, tmp_path, monkeypatch):
    from inspector.core import safe_files
    from inspector.core.audit import Audit

    big = tmp_path / "big.pt2"
    with open(big, "wb") as handle:
        handle.truncate(20 << 30)  # 20 GB, sparse
    results = _pointing_at(genuine, tmp_path, [str(big), str(big)], "digits")
    start = time.monotonic()
    statuses = check_sources(Audit(results), lambda s: results.dataset.sha256, tmp_path)
    assert time.monotonic() - start < 1.0
    assert statuses[0].status == "refused" and "MiB allowed" in statuses[0].message
    assert safe_files.MAX_HASH_BYTES < 20 << 30


def test_a_huge_generated_dataset_is_not_built_unasked(genuine):
    from dataclasses import replace

    from inspector.core.audit import Audit

    spec = "tsipras:n=10000000000,p=0.9"
    results = replace(genuine[0], dataset=replace(genuine[0].dataset, spec=spec))
    start = time.monotonic()
    status = check_sources(Audit(results))[-1]
    assert time.monotonic() - start < 1.0
    assert status.status == "refused" and "10,000,000,000 generated examples" in status.message


@pytest.mark.parametrize(
    ("offset", "value", "words"), [(8, 1, "encrypted"), (10, 99, "not supported")]
)
def test_encrypted_or_unknown_compression_members_are_refused(
    genuine, tmp_path, offset, value, words
):
    """Central directory flags: bit 0 (encrypted), or compression method 99."""
    import struct

    for member in ("results.json", "arrays.npz", "audit.json"):
        raw = bytearray(genuine[1].read_bytes())
        at = raw.rfind(b"PK\x01\x02")
        while at >= 0:
            length = struct.unpack_from("<H", raw, at + 28)[0]
            if bytes(raw[at + 46 : at + 46 + length]) == member.encode():
                struct.pack_into("<H", raw, at + offset, value)
            at = raw.rfind(b"PK\x01\x02", 0, at)
        path = tmp_path / f"{member}.riaudit"
        path.write_bytes(bytes(raw))
        _refused(path, member, words)
