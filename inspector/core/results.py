"""The results file: one versioned JSON format that the CLI writes and the window and reports open.

Top level: `format`, `version`, `threat_model` (with its one-line description), `dataset`
(spec, kind, SHA-256, size, shape, classes), `models` (identity, clean accuracy, the curve,
the certified curve where exact, timings, and every example's data column by column),
`environment` (tool and library versions, device) and `created`. Rates are in [0, 1].
"""

from __future__ import annotations

import functools
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from inspector import __version__
from inspector.core.atomic import atomic_write_text
from inspector.core.checks import CheckResult
from inspector.core.data.base import DatasetInfo
from inspector.core.errors import InspectorError
from inspector.core.models.base import ModelInfo
from inspector.core.results_check import MAX_RESULTS_BYTES, check_results_json, read_json_bytes
from inspector.core.safe_files import Refused, read_bounded
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel

FORMAT = "robustness-inspector/results"
VERSION = 1


@dataclass
class ModelResult:
    info: ModelInfo
    sweep: ModelSweep
    checks: list[CheckResult] = field(default_factory=list)  # sanity checks (checks.py)
    smoothing: dict[str, Any] | None = None  # randomized smoothing record (smoothing.py)


@dataclass
class EvaluationResults:
    threat: ThreatModel
    dataset: DatasetInfo
    models: list[ModelResult]
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    environment: dict[str, Any] = field(default_factory=dict)
    # a run stopped before every model was evaluated (each finished sweep may be complete)
    incomplete: bool = False
    # one part of a sharded run (shards.py): {"index", "count", "examples"}; None for a whole run
    shard: dict[str, int] | None = None

    @property
    def partial(self) -> bool:
        return self.incomplete or any(m.sweep.partial for m in self.models)


def library_versions() -> dict[str, str]:
    """Versions of what produced the numbers, for the record (a fresh copy each call)."""
    return dict(_library_versions())


def environment(infos) -> dict[str, str]:
    """The record of what computed the results: library versions and the devices used."""
    return library_versions() | {"device": ", ".join(sorted({i.device for i in infos}))}


@functools.cache
def _library_versions() -> dict[str, str]:
    """Looked up once per process: importlib.metadata scans the installed packages each call,
    and the window asks at every autosave."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"robustness-inspector": __version__, "python": platform.python_version()}
    for name in ("torch", "numpy", "onnx", "onnxruntime-gpu", "onnxruntime"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else float(v) for v in values.tolist()]


def _examples_to_json(s: ModelSweep) -> dict[str, Any]:
    return {
        "index": s.indices.tolist(),
        "label": s.labels.tolist(),
        "clean_pred": s.clean_pred.tolist(),
        "clean_conf": s.clean_conf.round(6).tolist(),
        "adv_pred": s.adv_pred.tolist(),
        "adv_conf": s.adv_conf.round(6).tolist(),
        "breaking_eps": _nan_to_none(s.breaking_eps),
        "certified_radius": None
        if s.certified_radius is None
        else [None if math.isinf(r) else float(r) for r in s.certified_radius],
        # which attack broke each example ("" none); FMN's radius per example (null: none found)
        "broken_by": None if s.broken_by is None else [str(b) for b in s.broken_by],
        "min_norm_radius": None
        if s.min_norm_radius is None
        else [None if math.isinf(r) else float(r) for r in s.min_norm_radius],
    }


def _model_to_json(m: ModelResult) -> dict[str, Any]:
    s = m.sweep
    certified = s.certified_curve()
    info = asdict(m.info)
    return {
        "name": m.info.name,
        "clean_accuracy": s.clean_accuracy,
        "curve": [r.to_dict() for r in s.curve()],
        "certified_curve": None
        if certified is None
        else [{"eps": e, "certified_accuracy": a} for e, a in certified],
        "certificate": None if certified is None else "exact (affine model, dual-norm rule)",
        "partial": s.partial,
        "model": info,
        "onnx_conversion_max_rel_diff": s.onnx_max_abs_diff,
        "attack_note": s.attack_note,
        "certificate_note": s.certificate_note,
        "broken_by_counts": s.broken_by_counts() if s.broken_by is not None else None,
        "timings": s.timings,
        "examples": _examples_to_json(s),
        "checks": [c.to_dict() for c in m.checks],
        "smoothing": m.smoothing,
    }


def results_to_json(results: EvaluationResults) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": results.created,
        "partial": results.partial,
        "threat_model": results.threat.to_dict(),
        "dataset": asdict(results.dataset),
        "environment": results.environment or library_versions(),
        "models": [_model_to_json(m) for m in results.models],
    } | ({"shard": dict(results.shard)} if results.shard is not None else {})


def save_results(path: str | Path, results: EvaluationResults) -> None:
    """Write the results atomically: a failure leaves any previous file untouched."""
    atomic_write_text(path, json.dumps(results_to_json(results), indent=1, allow_nan=False))


def _none_to_nan(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


def _known_fields(cls, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in _tuples(data).items() if k in cls.__dataclass_fields__}


def _model_from_json(data: dict[str, Any], grid: tuple[float, ...]) -> ModelResult:
    ex = data["examples"]
    radius = ex.get("certified_radius")
    sweep = ModelSweep(
        eps=grid,
        indices=np.asarray(ex["index"], dtype=np.int64),
        labels=np.asarray(ex["label"], dtype=np.int64),
        clean_pred=np.asarray(ex["clean_pred"], dtype=np.int64),
        clean_conf=np.asarray(ex["clean_conf"], dtype=np.float64),
        adv_pred=np.asarray(ex["adv_pred"], dtype=np.int64).reshape(-1, len(grid)),
        adv_conf=np.asarray(ex["adv_conf"], dtype=np.float64).reshape(-1, len(grid)),
        breaking_eps=_none_to_nan(ex["breaking_eps"]),
        eps_done=len(data["curve"]),
        certified_radius=None if radius is None else _none_to_nan(radius).copy(),
        onnx_max_abs_diff=data.get("onnx_conversion_max_rel_diff"),
        timings=dict(data.get("timings", {})),
    )
    if sweep.certified_radius is not None:
        sweep.certified_radius[np.isnan(sweep.certified_radius)] = np.inf
    # written since the attack ensemble; files from before simply lack them
    if ex.get("broken_by") is not None:
        sweep.broken_by = np.array([str(b) for b in ex["broken_by"]], dtype=object)
    if ex.get("min_norm_radius") is not None:
        sweep.min_norm_radius = _none_to_nan(ex["min_norm_radius"])
        sweep.min_norm_radius[np.isnan(sweep.min_norm_radius)] = np.inf
    sweep.attack_note = data.get("attack_note")
    note = data.get("certificate_note")
    sweep.certificate_note = note if isinstance(note, str) else None
    checks = [CheckResult.from_dict(c) for c in data.get("checks") or []]  # absent in old files
    info = ModelInfo(**_known_fields(ModelInfo, data["model"]))
    return ModelResult(info, sweep, checks, data.get("smoothing"))


def results_from_json(data: dict[str, Any], source: str = "results") -> EvaluationResults:
    """Rebuild results; a file of another format or version gets a clear message."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InspectorError(f"{source} is not a Robustness Inspector results file")
    version = data.get("version")
    if version != VERSION:
        newer = isinstance(version, int) and version > VERSION
        raise InspectorError(
            f"{source} has results format version {version}, this tool reads version {VERSION}: "
            + ("update robustness-inspector" if newer else "re-run the evaluation")
        )
    check_results_json(data, source)
    try:
        threat = ThreatModel.from_dict(data["threat_model"])
        dataset = DatasetInfo(**_known_fields(DatasetInfo, data["dataset"]))
        models = [_model_from_json(m, threat.eps) for m in data["models"]]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InspectorError(f"{source} is damaged ({exc!r}); re-run the evaluation") from None
    environment = dict(data.get("environment", {}))
    incomplete = data.get("partial") is True  # a cancelled run stays marked partial
    shard = data.get("shard")  # checked where it is used (shards.shard_from_record)
    return EvaluationResults(
        threat,
        dataset,
        models,
        data.get("created", ""),
        environment,
        incomplete=incomplete,
        shard=dict(shard) if isinstance(shard, dict) and len(shard) <= 8 else None,
    )


def load_results(path: str | Path) -> EvaluationResults:
    """Read and validate a results file (bounded size, regular files only)."""
    path = Path(path)
    try:
        raw = read_bounded(path, MAX_RESULTS_BYTES, "the results file")
    except FileNotFoundError:
        raise InspectorError(f"results file not found: {path}") from None
    except Refused as exc:
        raise InspectorError(f"cannot read the results file: {exc}") from None
    except OSError as exc:
        raise InspectorError(f"cannot read results file {path}: {exc}") from None
    return results_from_json(read_json_bytes(raw, str(path)), str(path))
