"""Audit files (`.riaudit`): everything needed to reopen an evaluation without recomputing it.

One zip archive (deflated) holding three members:
- `audit.json`: format, version, when it was saved, the tool version, the window's view
  state (free JSON) and the sources (each model's path and SHA-256, the dataset's spec and
  SHA-256), plus a short `contents` summary so recovery lists need not read the rest;
- `results.json`: exactly the results file format (`inspector.core.results`);
- `arrays.npz`: per model what the results file leaves out: the probabilities, the
  adversarial images (float16) and the confidences at full precision (the results file
  rounds them to 6 decimals). An array a run did not keep is simply not stored.

Writes are atomic (temp file beside the target, fsync, rename): a crash or a kill while
saving leaves the previous file intact.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from inspector import __version__
from inspector.core.atomic import atomic_open, remove_stale_temps
from inspector.core.errors import InspectorError
from inspector.core.results import (
    EvaluationResults,
    load_results,
    results_from_json,
    results_to_json,
)
from inspector.core.sources import (
    DatasetResolver,
    SourceStatus,
    check_results_sources,
    relocate_results,
)
from inspector.core.sweep import ModelSweep

FORMAT = "robustness-inspector/audit"
VERSION = 1
SUFFIX = ".riaudit"
AUDIT_JSON, RESULTS_JSON, ARRAYS_NPZ = "audit.json", "results.json", "arrays.npz"
MEMBERS = (AUDIT_JSON, RESULTS_JSON, ARRAYS_NPZ)
ARRAY_FIELDS = ("clean_probs", "adv_probs", "adv_images", "clean_conf", "adv_conf")
SPOOL_BYTES = 256 << 20  # arrays.npz is read through memory up to this size, then a temp file
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError)

__all__ = [
    "FORMAT",
    "SUFFIX",
    "VERSION",
    "Audit",
    "SourceStatus",
    "check_sources",
    "load_any",
    "load_audit",
    "read_audit_header",
    "relocate",
    "save_audit",
]


@dataclass
class Audit:
    """Results plus what the window needs to show them as they were."""

    results: EvaluationResults  # sweeps carry clean_probs/adv_probs/adv_images when stored
    view: dict[str, Any] = field(default_factory=dict)  # the window's selections, free JSON
    saved: str = ""  # ISO time of the last save ("" for plain results never saved as audit)


# --- writing ------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _contents(results: EvaluationResults) -> dict[str, Any]:
    """A small summary for recovery lists and file browsers."""
    return {
        "models": [m.info.name for m in results.models],
        "eps_done": [m.sweep.eps_done for m in results.models],
        "eps_total": len(results.threat.eps),
        "partial": results.partial,
        "threat_model": results.threat.describe(),
        "dataset": results.dataset.spec,
    }


def _header(audit: Audit, saved: str, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    r = audit.results
    header = {
        "format": FORMAT,
        "version": VERSION,
        "saved": saved,
        "tool_version": __version__,
        "python": platform.python_version(),
        "sources": {
            "models": [
                {"name": m.info.name, "path": m.info.path, "sha256": m.info.sha256}
                for m in r.models
            ],
            "dataset": {
                "spec": r.dataset.spec,
                "kind": r.dataset.kind,
                "sha256": r.dataset.sha256,
            },
        },
        "contents": _contents(r),
        "view": audit.view,
    }
    if extra:
        header["autosave"] = dict(extra)
    return header


def _arrays(results: EvaluationResults) -> dict[str, np.ndarray]:
    """The in-memory arrays of every model, keyed `model<i>.<field>`; absent ones skipped."""
    found = {}
    for i, m in enumerate(results.models):
        for name in ARRAY_FIELDS:
            value = getattr(m.sweep, name)
            if value is not None:
                found[f"model{i}.{name}"] = np.ascontiguousarray(value)
    return found


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False).encode("utf-8")


def results_json_bytes(results: EvaluationResults) -> bytes:
    """Byte for byte what `save_results` writes: extracted, it is a plain results file."""
    return json.dumps(results_to_json(results), indent=1, allow_nan=False).encode("utf-8")


def save_audit(
    path: str | Path, audit: Audit, *, autosave: Mapping[str, Any] | None = None
) -> None:
    """Write `audit` to `path` atomically and set `audit.saved` to the time written.

    Everything is serialised before the target is touched; a failure or a kill half-way
    leaves any previous file as it was. `autosave` (used by the Autosaver) marks the file
    as a recovery point and records which process wrote it.
    """
    path = Path(path)
    saved = _now()
    header = _json_bytes(_header(audit, saved, autosave))
    results = results_json_bytes(audit.results)
    arrays = _arrays(audit.results)
    remove_stale_temps(path.parent if str(path.parent) else ".", path.name)
    with (
        atomic_open(path, "wb") as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
    ):
        archive.writestr(AUDIT_JSON, header)
        archive.writestr(RESULTS_JSON, results)
        with archive.open(ARRAYS_NPZ, "w", force_zip64=True) as member:
            np.savez(member, **arrays)
    audit.saved = saved


# --- reading ------------------------------------------------------------------------------


def _damaged(path: Path, member: str, exc: BaseException) -> InspectorError:
    return InspectorError(
        f"{path} is damaged ({member}: {exc}); restore it from a backup or re-run the evaluation"
    )


def _open_archive(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise InspectorError(f"audit file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise InspectorError(
            f"{path} is not a Robustness Inspector audit (not a zip archive); "
            f"open a {SUFFIX} file saved by the inspector"
        )
    try:
        return zipfile.ZipFile(path)
    except _DAMAGE as exc:
        raise _damaged(path, "archive", exc) from None


def _require(archive: zipfile.ZipFile, path: Path, member: str) -> None:
    if member not in archive.namelist():
        raise InspectorError(
            f"{path} is incomplete: {member} is missing; restore it from a backup or re-run "
            "the evaluation"
        )


def _read_member(archive: zipfile.ZipFile, path: Path, member: str) -> bytes:
    _require(archive, path, member)
    try:
        return archive.read(member)
    except _DAMAGE as exc:
        raise _damaged(path, member, exc) from None


def _read_json(archive: zipfile.ZipFile, path: Path, member: str) -> dict[str, Any]:
    raw = _read_member(archive, path, member)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(path, member, exc) from None
    if not isinstance(data, dict):
        raise _damaged(path, member, ValueError("not a JSON object"))
    return data


def _check_header(header: dict[str, Any], path: Path) -> None:
    if header.get("format") != FORMAT:
        raise InspectorError(
            f"{path} is not a Robustness Inspector audit (format {header.get('format')!r}); "
            f"open a {SUFFIX} file saved by the inspector"
        )
    version = header.get("version")
    if isinstance(version, int) and version > VERSION:
        raise InspectorError(
            f"{path} has audit format version {version}, this tool reads version {VERSION}: "
            "update robustness-inspector"
        )
    if version != VERSION:
        raise _damaged(path, AUDIT_JSON, ValueError(f"unknown version {version!r}"))


def read_audit_header(path: str | Path) -> dict[str, Any]:
    """Only `audit.json` (checked): cheap, for recovery lists and previews."""
    path = Path(path)
    with _open_archive(path) as archive:
        header = _read_json(archive, path, AUDIT_JSON)
    _check_header(header, path)
    return header


def _load_arrays(archive: zipfile.ZipFile, path: Path) -> dict[str, np.ndarray]:
    _require(archive, path, ARRAYS_NPZ)
    try:
        with (
            archive.open(ARRAYS_NPZ) as member,
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool,
        ):
            shutil.copyfileobj(member, spool, 1 << 20)
            spool.seek(0)
            with np.load(spool, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
    except _DAMAGE as exc:
        raise _damaged(path, ARRAYS_NPZ, exc) from None


def _expected_shapes(sweep: ModelSweep) -> dict[str, tuple[int, ...]]:
    n, k = len(sweep.indices), len(sweep.eps)
    return {
        "clean_conf": (n,),
        "adv_conf": (n, k),
        "clean_probs": (n,),
        "adv_probs": (n, k),
        "adv_images": (n, k),
    }


def _attach_arrays(results: EvaluationResults, arrays: dict[str, np.ndarray], path: Path) -> None:
    """Put the stored arrays back on the sweeps, checking they fit the results."""
    for i, m in enumerate(results.models):
        shapes = _expected_shapes(m.sweep)
        for name in ARRAY_FIELDS:
            value = arrays.get(f"model{i}.{name}")
            if value is None:
                continue
            lead = shapes[name]
            if value.shape[: len(lead)] != lead or value.dtype.kind != "f":
                raise _damaged(
                    path,
                    ARRAYS_NPZ,
                    ValueError(f"model{i}.{name} has shape {value.shape}, expected {lead}…"),
                )
            setattr(m.sweep, name, value)


def load_audit(path: str | Path) -> Audit:
    """Reopen an audit: the results with every number as saved, the view, the save time."""
    path = Path(path)
    with _open_archive(path) as archive:
        header = _read_json(archive, path, AUDIT_JSON)
        _check_header(header, path)
        results_data = _read_json(archive, path, RESULTS_JSON)
        arrays = _load_arrays(archive, path)
    results = results_from_json(results_data, f"{path} ({RESULTS_JSON})")
    _attach_arrays(results, arrays, path)
    view = header.get("view") or {}
    if not isinstance(view, dict):
        raise _damaged(path, AUDIT_JSON, ValueError("the view is not a JSON object"))
    return Audit(results=results, view=view, saved=str(header.get("saved", "")))


def load_any(path: str | Path) -> Audit:
    """An audit, or a plain results `.json` file (then the view is empty and nothing saved)."""
    path = Path(path)
    if path.suffix.lower() == SUFFIX or (path.is_file() and zipfile.is_zipfile(path)):
        return load_audit(path)
    return Audit(results=load_results(path))


# --- sources ------------------------------------------------------------------------------


def check_sources(
    audit: Audit, dataset_resolver: DatasetResolver | None = None
) -> list[SourceStatus]:
    """Each model file, then the dataset: "ok", "changed" or "missing" (results stay usable).

    `dataset_resolver(spec) -> sha256` replaces opening the dataset (e.g. one already open).
    """
    return check_results_sources(audit.results, dataset_resolver)


def relocate(
    audit: Audit,
    kind: str,
    name: str,
    new_path: str | Path,
    dataset_resolver: DatasetResolver | None = None,
) -> Audit:
    """A copy of the audit whose model `name` (kind "model") or dataset (kind "dataset",
    `name` its spec) points at a moved file; a file with another SHA-256 is refused."""
    moved = relocate_results(audit.results, kind, name, new_path, dataset_resolver)
    return Audit(results=moved, view=dict(audit.view), saved=audit.saved)
