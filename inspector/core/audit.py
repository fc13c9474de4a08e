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
import os
import platform
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from inspector import __version__
from inspector.core.atomic import atomic_open
from inspector.core.audit_arrays import (
    ARRAY_FIELDS,
    ArraysDamaged,
    load_arrays_member,
    read_capped,
)
from inspector.core.audit_view import clean_view
from inspector.core.errors import InspectorError
from inspector.core.results import (
    EvaluationResults,
    load_results,
    results_from_json,
    results_to_json,
)
from inspector.core.results_check import (
    MAX_DESCRIPTION,
    MAX_RESULTS_BYTES,
    FieldError,
    check_free_json,
)
from inspector.core.safe_files import Refused, regular_file_size
from inspector.core.sources import (
    DatasetResolver,
    SourceStatus,
    check_results_sources,
    relocate_results,
)

FORMAT = "robustness-inspector/audit"
VERSION = 1
SUFFIX = ".riaudit"
AUDIT_JSON, RESULTS_JSON, ARRAYS_NPZ = "audit.json", "results.json", "arrays.npz"
MEMBERS = (AUDIT_JSON, RESULTS_JSON, ARRAYS_NPZ)
MAX_AUDIT_BYTES = 64 << 30  # the whole .riaudit (adversarial images of a large run)
MAX_HEADER_BYTES = 1 << 20  # audit.json: sources, view and a summary
MAX_MEMBERS = 16  # three are written; a few more are tolerated, thousands are not
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 1024  # central directory: names are short
# RuntimeError: an encrypted member; NotImplementedError: an unknown compression method
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, TypeError,
           RuntimeError, NotImplementedError)  # fmt: skip

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
    text = " ".join(str(exc).split())[:300]
    return InspectorError(
        f"{path} is damaged ({member}: {text}); restore it from a backup or re-run the evaluation"
    )


def _open_archive(path: Path) -> zipfile.ZipFile:
    if not os.path.lexists(path):
        raise InspectorError(f"audit file not found: {path}")
    try:
        regular_file_size(path, MAX_AUDIT_BYTES)
    except Refused as exc:
        raise InspectorError(f"cannot open the audit: {exc}") from None
    if not zipfile.is_zipfile(path):
        raise InspectorError(
            f"{path} is not a Robustness Inspector audit (not a zip archive); "
            f"open a {SUFFIX} file saved by the inspector"
        )
    _check_directory(path)
    try:
        archive = zipfile.ZipFile(path)
    except _DAMAGE as exc:
        raise _damaged(path, "archive", exc) from None
    if len(archive.infolist()) > MAX_MEMBERS:
        count = len(archive.infolist())
        archive.close()
        raise _damaged(path, "archive", ValueError(f"{count:,} members, at most {MAX_MEMBERS}"))
    return archive


def _check_directory(path: Path) -> None:
    """The central directory's own claims, before zipfile reads every entry into memory."""
    try:
        with open(path, "rb") as handle:
            end = zipfile._EndRecData(handle)  # the end record zipfile itself reads first
    except OSError as exc:
        raise _damaged(path, "archive", exc) from None
    if end is None:
        raise _damaged(path, "archive", ValueError("no end of central directory"))
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_MEMBERS or size > MAX_DIRECTORY_BYTES:
        raise _damaged(
            path, "archive", ValueError(f"{entries:,} members in a {size:,}-byte directory")
        )


def _require(archive: zipfile.ZipFile, path: Path, member: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(member)
    except KeyError:
        raise InspectorError(
            f"{path} is incomplete: {member} is missing; restore it from a backup or re-run "
            "the evaluation"
        ) from None


def _read_member(archive: zipfile.ZipFile, path: Path, member: str, limit: int) -> bytes:
    """A member's bytes: its declared size checked first, the read capped (sizes can lie)."""
    info = _require(archive, path, member)
    if info.file_size > limit:
        raise _damaged(
            path, member, ValueError(f"it declares {info.file_size:,} bytes, at most {limit:,}")
        )
    try:
        with archive.open(info) as stream:
            return read_capped(stream, info.file_size, member)
    except (*_DAMAGE, ArraysDamaged) as exc:
        raise _damaged(path, member, exc) from None


def _read_json(archive: zipfile.ZipFile, path: Path, member: str, limit: int) -> dict[str, Any]:
    raw = _read_member(archive, path, member, limit)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise _damaged(path, member, reason) from None
    if not isinstance(data, dict):
        raise _damaged(path, member, ValueError("not a JSON object"))
    return data


def _check_header(header: dict[str, Any], path: Path) -> None:
    if header.get("format") != FORMAT:
        shown = header.get("format")
        shown = shown if isinstance(shown, (int, float, type(None))) else str(shown)[:60]
        raise InspectorError(
            f"{path} is not a Robustness Inspector audit (format {shown!r}); "
            f"open a {SUFFIX} file saved by the inspector"
        )
    version = header.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise InspectorError(
            f"{path} has audit format version {_small(version)}, this tool reads version "
            f"{VERSION}: update robustness-inspector"
        )
    if version != VERSION:
        raise _damaged(path, AUDIT_JSON, ValueError(f"unknown version {str(version)[:40]!r}"))
    try:
        check_free_json(header, AUDIT_JSON, depth=8, text_limit=MAX_DESCRIPTION)
    except FieldError as exc:  # a string, a dict or the nesting out of bounds
        raise _damaged(path, AUDIT_JSON, exc) from None


def _small(value: int) -> str:
    return str(value) if value.bit_length() < 64 else "(huge)"


def read_audit_header(path: str | Path) -> dict[str, Any]:
    """Only `audit.json` (checked): cheap, for recovery lists and previews."""
    path = Path(path)
    with _open_archive(path) as archive:
        header = _read_json(archive, path, AUDIT_JSON, MAX_HEADER_BYTES)
    _check_header(header, path)
    return header


def _attach_arrays(results: EvaluationResults, arrays: dict[str, np.ndarray]) -> None:
    """Put the stored arrays (already checked against the results) back on the sweeps."""
    for i, m in enumerate(results.models):
        for name in ARRAY_FIELDS:
            value = arrays.get(f"model{i}.{name}")
            if value is not None:
                setattr(m.sweep, name, value)


def load_audit(path: str | Path) -> Audit:
    """Reopen an audit: the results with every number as saved, the view, the save time.

    Each member is checked before use: audit.json and results.json by size, nesting and
    fields; arrays.npz by the declared sizes and every array's header against the results.
    """
    path = Path(path)
    with _open_archive(path) as archive:
        header = _read_json(archive, path, AUDIT_JSON, MAX_HEADER_BYTES)
        _check_header(header, path)
        results_data = _read_json(archive, path, RESULTS_JSON, MAX_RESULTS_BYTES)
        results = results_from_json(results_data, f"{path} ({RESULTS_JSON})")
        _require(archive, path, ARRAYS_NPZ)
        try:
            arrays = load_arrays_member(archive, ARRAYS_NPZ, results)
        except (*_DAMAGE, ArraysDamaged) as exc:
            raise _damaged(path, ARRAYS_NPZ, exc) from None
    _attach_arrays(results, arrays)
    view = clean_view(header.get("view"), results)
    return Audit(results=results, view=view, saved=str(header.get("saved", ""))[:64])


def load_any(path: str | Path) -> Audit:
    """An audit, or a plain results `.json` file (then the view is empty and nothing saved)."""
    path = Path(path)
    if path.suffix.lower() == SUFFIX or (path.is_file() and zipfile.is_zipfile(path)):
        return load_audit(path)
    return Audit(results=load_results(path))


# --- sources ------------------------------------------------------------------------------


def check_sources(
    audit: Audit,
    dataset_resolver: DatasetResolver | None = None,
    folder: str | Path | None = None,
    confirmed: frozenset[str] = frozenset(),
) -> list[SourceStatus]:
    """Each model file, then the dataset: "ok", "changed", "missing", "not checked" (outside
    `folder`, the audit's own, and not in `confirmed`) or "refused"; results stay usable.

    `dataset_resolver(spec) -> sha256` replaces opening the dataset (e.g. one already open).
    """
    return check_results_sources(audit.results, dataset_resolver, folder, confirmed)


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
