"""Are the model and data files behind saved results still the ones that produced them?

Results keep each model's path and SHA-256 and the dataset's spec and SHA-256. Reopened
later, a file may have changed or moved: `check_sources` says which, and `relocate` points
the results at a moved file, refusing one whose content differs. The results themselves
stay viewable whatever is found: nothing here recomputes anything.

The paths are data from whoever wrote the file. Given the audit's folder, only files in it
(or below it, symlinks resolved) are hashed or opened; others are "not checked" until the
user confirms them. Devices, FIFOs, sockets, system folders and files past the hashing
bound are never read, confirmed or not (see safe_files.py). The one exception is the
program's own demo models (resources/demo, wherever it is installed): a demo audit saved
in any folder finds them, still compared by SHA-256.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.core.data import open_dataset
from inspector.core.data.base import DatasetInfo
from inspector.core.data.builtin import is_builtin, parse_tsipras_spec
from inspector.core.data.files import SPLITS, split_spec
from inspector.core.demo import DEMO_DIR
from inspector.core.errors import InspectorError
from inspector.core.hashing import sha256_bytes, sha256_file
from inspector.core.models.base import ModelInfo
from inspector.core.results import EvaluationResults
from inspector.core.safe_files import Refused, is_inside, regular_file_size, system_path

KINDS = ("model", "dataset")
OK, CHANGED, MISSING = "ok", "changed", "missing"
NOT_CHECKED, REFUSED = "not checked", "refused"  # outside the audit's folder; never readable
OUTSIDE = "not checked: outside the audit's folder"
MAX_GENERATED = 200_000  # examples of a built-in generated dataset opened without asking
MULTI_FILE_NOTE = "sha256 is over the sha256 of each of: "  # written by models/loading.py

DatasetResolver = Callable[[str], str]  # dataset spec -> its SHA-256 (InspectorError if unreadable)


@dataclass(frozen=True)
class SourceStatus:
    """One source file of the results and whether it still matches."""

    kind: str  # "model" or "dataset"
    name: str  # the model's name, or the dataset's spec
    path: str  # the file or folder looked at ("digits", "tsipras:..." for built-in data)
    expected_sha256: str
    status: str  # "ok", "changed", "missing", "not checked" or "refused"
    message: str

    @property
    def ok(self) -> bool:
        return self.status == OK


def dataset_sha256(spec: str) -> str:
    """The default resolver: open the dataset as an evaluation would and take its hash."""
    return open_dataset(spec).info.sha256


def model_sha256(info: ModelInfo, path: str | Path) -> str:
    """Hash a model file the way loading hashed it (ONNX external weights included).
    Every file must be regular and within the hashing bound; extras sit beside the model.
    Raises Refused for a file it will not read."""
    path = Path(path)
    regular_file_size(path)
    listed = next((n for n in info.notes if n.startswith(MULTI_FILE_NOTE)), None)
    if listed is None:
        return sha256_file(path)
    extras = [path.parent / name for name in listed[len(MULTI_FILE_NOTE) :].split(", ")[1:]]
    for extra in extras:
        if not is_inside(extra, path.parent):
            raise Refused(f"{extra} is not beside the model file {path.name}")
        regular_file_size(extra)
    return sha256_bytes(*(sha256_file(f).encode() for f in [path, *extras]))


def _resolved(path: str, folder: Path | None) -> Path:
    """A recorded path; a relative one is taken relative to the audit's folder."""
    found = Path(path).expanduser()
    return found if found.is_absolute() or folder is None else folder / found


def _shipped(path: Path) -> bool:
    """One of the program's own demo files, wherever the program is installed."""
    return is_inside(path, DEMO_DIR)


def _allowed(path: Path, folder: Path | None, confirmed: frozenset[str]) -> bool:
    """May this path be looked at without asking? In the audit's folder, confirmed, or one
    of the program's own demo files."""
    return folder is None or str(path) in confirmed or is_inside(path, folder) or _shipped(path)


def _short(sha: str) -> str:
    return sha[:12] + "…"


def model_status(
    info: ModelInfo, folder: Path | None = None, confirmed: frozenset[str] = frozenset()
) -> SourceStatus:
    path = _resolved(info.path, folder)

    def status(state: str, message: str) -> SourceStatus:
        return SourceStatus("model", info.name, str(path), info.sha256, state, message)

    if system_path(path) and not _shipped(path):  # a system-wide install holds the demo
        return status(REFUSED, f"model {info.name}: {path} is in a system folder: not opened")
    if not _allowed(path, folder, confirmed):
        return status(NOT_CHECKED, f"model {info.name}: {path} {OUTSIDE}; confirm or locate it")
    if not os.path.lexists(path):
        return status(MISSING, f"model {info.name}: {path} is missing; locate the moved file")
    try:
        found = model_sha256(info, path)
    except Refused as exc:
        return status(REFUSED, f"model {info.name}: not opened: {exc}")
    except OSError as exc:
        return status(MISSING, f"model {info.name}: cannot read {path} ({exc}); locate it")
    return _compared(status, f"model {info.name}: {path}", found, info.sha256)


def _dataset_path(spec: str) -> Path | None:
    """The file or folder of a file-backed dataset; None for built-in data."""
    return None if is_builtin(spec) else split_spec(spec)[0]


def _builtin_refusal(spec: str) -> str | None:
    """A generated dataset is built without asking only up to a sane size (the spec is the
    audit's: `tsipras:n=10000000000` would fill the memory)."""
    name, _, rest = spec.partition(":")
    if name.strip().lower() != "tsipras":
        return None
    try:
        n = parse_tsipras_spec(rest).n
    except InspectorError as exc:
        return str(exc)
    if n > MAX_GENERATED:
        return f"{spec[:80]} asks for {n:,} generated examples (at most {MAX_GENERATED:,})"
    return None


def _dataset_refusal(path: Path) -> str | None:
    """Why a dataset path is never opened (None: it may be)."""
    if system_path(path):
        return f"{path} is in a system folder"
    if path.is_dir() or not os.path.lexists(path):
        return None
    try:
        regular_file_size(path)
    except Refused as exc:
        return str(exc)
    return None


def dataset_status(
    info: DatasetInfo,
    resolver: DatasetResolver | None = None,
    folder: Path | None = None,
    confirmed: frozenset[str] = frozenset(),
) -> SourceStatus:
    path = _dataset_path(info.spec)
    if path is not None:
        path = _resolved(str(path), folder)
    shown = info.spec if path is None else str(path)

    def status(state: str, message: str) -> SourceStatus:
        return SourceStatus("dataset", info.spec, shown, info.sha256, state, message)

    refusal = _builtin_refusal(info.spec) if path is None else None
    if refusal is not None:
        return status(REFUSED, f"dataset not opened: {refusal}")
    if path is not None:
        refusal = _dataset_refusal(path)
        if refusal is not None:
            return status(REFUSED, f"dataset not opened: {refusal}")
        if not _allowed(path, folder, confirmed) and info.spec not in confirmed:
            return status(NOT_CHECKED, f"dataset {shown} {OUTSIDE}; confirm or locate it")
        if not path.exists():
            return status(MISSING, f"dataset {shown} is missing; locate the moved data")
    try:
        found = (resolver or dataset_sha256)(info.spec)
    except (InspectorError, OSError) as exc:
        return status(CHANGED, f"dataset {shown} can no longer be read ({exc})")
    return _compared(status, f"dataset {shown}", found, info.sha256)


def _compared(
    status: Callable[[str, str], SourceStatus], what: str, found: str, expected: str
) -> SourceStatus:
    """Unchanged, or changed naming both hashes: the one verdict for models and data."""
    if found != expected:
        return status(
            CHANGED,
            f"{what} has changed since the evaluation (sha256 {_short(found)}, results are "
            f"for {_short(expected)}); re-run to evaluate it",
        )
    return status(OK, f"{what} unchanged")


def check_results_sources(
    results: EvaluationResults,
    dataset_resolver: DatasetResolver | None = None,
    folder: str | Path | None = None,
    confirmed: frozenset[str] = frozenset(),
) -> list[SourceStatus]:
    """Every model, then the dataset: each with its status and a one-line message.

    `folder`: the audit's folder; only files inside it are read, others only when their
    path (as shown in the status) is in `confirmed`. None: every path may be read (the
    caller chose the file), still never a device, FIFO, system file or oversized file."""
    where = None if folder is None else Path(folder)
    found = [model_status(m.info, where, confirmed) for m in results.models]
    return [*found, dataset_status(results.dataset, dataset_resolver, where, confirmed)]


def _relocate_model(results: EvaluationResults, name: str, new_path: Path) -> EvaluationResults:
    match = [i for i, m in enumerate(results.models) if m.info.name == name]
    if not match:
        raise InspectorError(f"no model named {name!r} in these results")
    i = match[0]
    info = results.models[i].info
    if not new_path.is_file():
        raise InspectorError(f"{new_path} is not a file; choose the moved model file")
    try:
        found = model_sha256(info, new_path)
    except Refused as exc:
        raise InspectorError(f"cannot use it as the model: {exc}") from None
    if found != info.sha256:
        raise InspectorError(
            f"{new_path} is not the model {name} that was evaluated (sha256 {_short(found)}, "
            f"expected {_short(info.sha256)}); choose the original file or re-run"
        )
    note = f"relocated from {info.path} (same sha256)"
    moved = dataclasses.replace(info, path=str(new_path.resolve()), notes=(*info.notes, note))
    models = list(results.models)
    models[i] = dataclasses.replace(models[i], info=moved)
    return dataclasses.replace(results, models=models)


def _relocated_spec(old_spec: str, new_path: Path) -> str:
    """Keep a `:train` / `:test` suffix of the old spec on the new path."""
    head, sep, tail = old_spec.rpartition(":")
    new = str(new_path.resolve())
    if sep and head and tail.strip().lower() in SPLITS:
        return f"{new}:{tail.strip().lower()}"
    return new


def _relocate_dataset(
    results: EvaluationResults, name: str, new_path: Path, resolver: DatasetResolver | None
) -> EvaluationResults:
    info = results.dataset
    if name != info.spec:
        raise InspectorError(f"the dataset of these results is {info.spec!r}, not {name!r}")
    if _dataset_path(info.spec) is None:
        raise InspectorError(f"{info.spec} is built in: there is no file to locate")
    if not new_path.exists():
        raise InspectorError(f"{new_path} does not exist; choose the moved dataset")
    refusal = _dataset_refusal(new_path)
    if refusal is not None:
        raise InspectorError(f"cannot use it as the dataset: {refusal}")
    spec = _relocated_spec(info.spec, new_path)
    found = (resolver or dataset_sha256)(spec)
    if found != info.sha256:
        raise InspectorError(
            f"{new_path} is not the dataset that was evaluated (sha256 {_short(found)}, "
            f"expected {_short(info.sha256)}); choose the original data or re-run"
        )
    return dataclasses.replace(results, dataset=dataclasses.replace(info, spec=spec))


def relocate_results(
    results: EvaluationResults,
    kind: str,
    name: str,
    new_path: str | Path,
    dataset_resolver: DatasetResolver | None = None,
) -> EvaluationResults:
    """A copy of `results` whose model `name` (or dataset) points at `new_path`, provided
    the file there has the recorded SHA-256; anything else is refused with a clear message."""
    new_path = Path(new_path).expanduser()
    if kind == "model":
        return _relocate_model(results, name, new_path)
    if kind == "dataset":
        return _relocate_dataset(results, name, new_path, dataset_resolver)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
