"""Are the model and data files behind saved results still the ones that produced them?

Results keep each model's path and SHA-256 and the dataset's spec and SHA-256. Reopened
later, a file may have changed or moved: `check_sources` says which, and `relocate` points
the results at a moved file, refusing one whose content differs. The results themselves
stay viewable whatever is found: nothing here recomputes anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inspector.core.data import open_dataset
from inspector.core.data.base import DatasetInfo
from inspector.core.data.builtin import is_builtin
from inspector.core.data.files import SPLITS, split_spec
from inspector.core.errors import InspectorError
from inspector.core.hashing import sha256_bytes, sha256_file
from inspector.core.models.base import ModelInfo
from inspector.core.results import EvaluationResults

KINDS = ("model", "dataset")
OK, CHANGED, MISSING = "ok", "changed", "missing"
MULTI_FILE_NOTE = "sha256 is over the sha256 of each of: "  # written by models/loading.py

DatasetResolver = Callable[[str], str]  # dataset spec -> its SHA-256 (InspectorError if unreadable)


@dataclass(frozen=True)
class SourceStatus:
    """One source file of the results and whether it still matches."""

    kind: str  # "model" or "dataset"
    name: str  # the model's name, or the dataset's spec
    path: str  # the file or folder looked at ("digits", "tsipras:..." for built-in data)
    expected_sha256: str
    status: str  # "ok", "changed" or "missing"
    message: str

    @property
    def ok(self) -> bool:
        return self.status == OK


def dataset_sha256(spec: str) -> str:
    """The default resolver: open the dataset as an evaluation would and take its hash."""
    return open_dataset(spec).info.sha256


def model_sha256(info: ModelInfo, path: str | Path) -> str:
    """Hash a model file the way loading hashed it (ONNX external weights included)."""
    path = Path(path)
    listed = next((n for n in info.notes if n.startswith(MULTI_FILE_NOTE)), None)
    if listed is None:
        return sha256_file(path)
    extras = [path.parent / name for name in listed[len(MULTI_FILE_NOTE) :].split(", ")[1:]]
    return sha256_bytes(*(sha256_file(f).encode() for f in [path, *extras]))


def _short(sha: str) -> str:
    return sha[:12] + "…"


def model_status(info: ModelInfo) -> SourceStatus:
    def status(state: str, message: str) -> SourceStatus:
        return SourceStatus("model", info.name, info.path, info.sha256, state, message)

    if not Path(info.path).is_file():
        return status(MISSING, f"model {info.name}: {info.path} is missing; locate the moved file")
    try:
        found = model_sha256(info, info.path)
    except OSError as exc:
        return status(MISSING, f"model {info.name}: cannot read {info.path} ({exc}); locate it")
    if found != info.sha256:
        return status(
            CHANGED,
            f"model {info.name}: {info.path} has changed since the evaluation (sha256 "
            f"{_short(found)}, results are for {_short(info.sha256)}); re-run to evaluate it",
        )
    return status(OK, f"model {info.name}: {info.path} unchanged")


def _dataset_path(spec: str) -> Path | None:
    """The file or folder of a file-backed dataset; None for built-in data."""
    return None if is_builtin(spec) else split_spec(spec)[0]


def dataset_status(info: DatasetInfo, resolver: DatasetResolver | None = None) -> SourceStatus:
    path = _dataset_path(info.spec)
    shown = info.spec if path is None else str(path)

    def status(state: str, message: str) -> SourceStatus:
        return SourceStatus("dataset", info.spec, shown, info.sha256, state, message)

    if path is not None and not path.exists():
        return status(MISSING, f"dataset {shown} is missing; locate the moved data")
    try:
        found = (resolver or dataset_sha256)(info.spec)
    except (InspectorError, OSError) as exc:
        return status(CHANGED, f"dataset {shown} can no longer be read ({exc})")
    if found != info.sha256:
        return status(
            CHANGED,
            f"dataset {shown} has changed since the evaluation (sha256 {_short(found)}, "
            f"results are for {_short(info.sha256)}); re-run to evaluate it",
        )
    return status(OK, f"dataset {shown} unchanged")


def check_results_sources(
    results: EvaluationResults, dataset_resolver: DatasetResolver | None = None
) -> list[SourceStatus]:
    """Every model, then the dataset: ok, changed or missing, each with a one-line message."""
    found = [model_status(m.info) for m in results.models]
    return [*found, dataset_status(results.dataset, dataset_resolver)]


def _relocate_model(results: EvaluationResults, name: str, new_path: Path) -> EvaluationResults:
    match = [i for i, m in enumerate(results.models) if m.info.name == name]
    if not match:
        raise InspectorError(f"no model named {name!r} in these results")
    i = match[0]
    info = results.models[i].info
    if not new_path.is_file():
        raise InspectorError(f"{new_path} is not a file; choose the moved model file")
    found = model_sha256(info, new_path)
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
