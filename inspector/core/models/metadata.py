"""What a model file does not always say: class names, input shape, normalisation.

Several places can say it, and the most explicit wins (high to low): overrides from the
CLI > a sidecar JSON next to the model > ONNX metadata_props > what the file itself
records (pt2 example inputs, ONNX graph input) > the caller's fallback input shape >
defaults. Every resolved field remembers where it came from, for ModelInfo.notes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from inspector.core.errors import InspectorError

ONNX_PROP_KEYS = ("class_names", "input_shape", "mean", "std")


@dataclass(frozen=True)
class ModelMetadata:
    """Optional facts about a model; None means "this source does not say"."""

    name: str | None = None
    class_names: tuple[str, ...] | None = None
    input_shape: tuple[int, int, int] | None = None  # C, H, W
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    description: str | None = None
    output: str | None = None  # ONNX: the output holding the scores, by name
    scale: float | None = None  # the model takes x·scale (255: 0-255 pixels), then mean/std

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str) -> ModelMetadata:
        """Validate a JSON-like mapping; `source` names it in error messages."""
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise InspectorError(
                f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
        values = {key: _parse_field(key, value, source) for key, value in data.items()}
        return cls(**{k: v for k, v in values.items() if v is not None})


def _parse_field(key: str, value: Any, source: str) -> Any:
    if value is None:
        return None
    if key in ("name", "description", "output"):
        if not isinstance(value, str):
            raise InspectorError(f"{source}: {key} must be a string, got {value!r}")
        return value
    if key == "class_names":
        return _parse_class_names(value, source)
    if key == "input_shape":
        return _parse_shape(value, source)
    if key == "scale":
        if not _is_number(value) or not 0 < value < float("inf"):
            raise InspectorError(f"{source}: scale must be a positive number, got {value!r}")
        return float(value)
    return _parse_floats(key, value, source)


def _parse_class_names(value: Any, source: str) -> tuple[str, ...]:
    ok = isinstance(value, (list, tuple)) and len(value) > 0
    if not ok or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise InspectorError(f"{source}: class_names must be a non-empty list of strings")
    return tuple(str(v) for v in value)


def _parse_shape(value: Any, source: str) -> tuple[int, int, int]:
    ok = isinstance(value, (list, tuple)) and len(value) == 3
    if not ok or not all(_is_int(v) and v > 0 for v in value):
        raise InspectorError(
            f"{source}: input_shape must be 3 positive integers [C, H, W], got {value!r}"
        )
    return (int(value[0]), int(value[1]), int(value[2]))


def _parse_floats(key: str, value: Any, source: str) -> tuple[float, ...]:
    if _is_number(value):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value or not all(map(_is_number, value)):
        raise InspectorError(f"{source}: {key} must be a list of numbers (one per channel)")
    return tuple(float(v) for v in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def coerce_overrides(overrides: ModelMetadata | Mapping[str, Any] | None) -> ModelMetadata:
    """Accept overrides as ModelMetadata or a dict (None values mean "not given")."""
    if overrides is None:
        return ModelMetadata()
    if isinstance(overrides, ModelMetadata):
        return ModelMetadata.from_mapping(
            {f.name: getattr(overrides, f.name) for f in fields(ModelMetadata)}, "overrides"
        )
    return ModelMetadata.from_mapping(dict(overrides), "overrides")


# Sidecar keys kept for people (how the model was trained, where it came from); not parsed.
INFORMATIONAL_KEYS = frozenset({"training", "source", "license", "notes"})


def sidecar_paths(model_path: Path) -> list[Path]:
    """Where a sidecar may live: `net.pt2.json` first, then `net.json`."""
    return [model_path.with_name(model_path.name + ".json"), model_path.with_suffix(".json")]


def read_sidecar(model_path: Path) -> tuple[str, ModelMetadata] | None:
    """The first sidecar JSON found next to the model, as (source label, metadata)."""
    for candidate in sidecar_paths(model_path):
        if candidate.is_file():
            return f"sidecar {candidate.name}", _parse_sidecar(candidate)
    return None


def _parse_sidecar(path: Path) -> ModelMetadata:
    label = f"sidecar metadata {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InspectorError(
            f"{label} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "fix or remove it"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InspectorError(f"cannot read {label}: {exc}; fix or remove it") from None
    if not isinstance(data, dict):
        raise InspectorError(
            f"{label} must hold a JSON object with keys such as class_names, input_shape, "
            "mean, std; fix or remove it"
        )
    parsed = {k: v for k, v in data.items() if k not in INFORMATIONAL_KEYS}
    return ModelMetadata.from_mapping(parsed, label)


def from_onnx_props(props: Mapping[str, str]) -> tuple[ModelMetadata, list[str]]:
    """Read class_names/input_shape/mean/std (JSON lists) from ONNX metadata_props.

    A malformed entry is ignored with a note rather than refused: it is inside the model
    file, which the user may not be able to edit, and overrides can replace it.
    """
    values: dict[str, Any] = {}
    notes: list[str] = []
    for key in ONNX_PROP_KEYS:
        if key not in props:
            continue
        try:
            values[key] = _parse_field(key, json.loads(props[key]), "ONNX metadata_props")
        except (ValueError, InspectorError):
            notes.append(f"ignored ONNX metadata_props {key}: not a valid JSON list")
    return ModelMetadata(**values), notes


def merge_layers(
    layers: Sequence[tuple[str, ModelMetadata]],
) -> tuple[ModelMetadata, dict[str, str]]:
    """Field by field, the first layer (highest precedence) that says something wins."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in fields(ModelMetadata):
        for source, metadata in layers:
            value = getattr(metadata, field.name)
            if value is not None:
                values[field.name] = value
                sources[field.name] = source
                break
    return ModelMetadata(**values), sources


def resolve_normalisation(
    metadata: ModelMetadata, sources: Mapping[str, str], channels: int
) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None, list[str]]:
    """Per-channel mean/std (one value per channel), or None for identity, plus notes.

    A `scale` s (the model takes pixels times s, e.g. 0-255) folds in: (x·s - mean) / std
    is (x - mean/s) / (std/s), so the wrapper and ε stay in [0, 1] pixel units.
    """
    if metadata.mean is None and metadata.std is None and metadata.scale is None:
        return None, None, ["mean/std: none given, inputs used as they are (identity)"]
    notes = []
    mean = _per_channel("mean", metadata.mean, sources.get("mean"), channels)
    std = _per_channel("std", metadata.std, sources.get("std"), channels)
    if mean is None:
        mean = (0.0,) * channels
        notes.append("mean: default 0 (only std was given)")
    else:
        notes.append(f"mean: {sources['mean']}")
    if std is None:
        std = (1.0,) * channels
        notes.append("std: default 1 (only mean was given)")
    else:
        notes.append(f"std: {sources['std']}")
    if any(s <= 0 for s in std):
        raise InspectorError(f"std from {sources['std']} must be positive, got {list(std)}")
    if metadata.scale is not None:
        scale = metadata.scale
        mean, std = tuple(m / scale for m in mean), tuple(s / scale for s in std)
        notes = [n for n in notes if "default" not in n]
        notes.append(
            f"scale {scale:g} from {sources['scale']}: the model takes pixels × {scale:g}; "
            "folded into mean/std"
        )
    return mean, std, notes


def _per_channel(
    key: str, values: tuple[float, ...] | None, source: str | None, channels: int
) -> tuple[float, ...] | None:
    if values is None:
        return None
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise InspectorError(
            f"{key} from {source} has {len(values)} values but the model takes {channels} "
            f"channel(s); give 1 or {channels} values"
        )
    return values


def resolve_class_names(
    names: tuple[str, ...] | None, source: str | None, num_logits: int
) -> tuple[tuple[str, ...], str]:
    """Class names that match the number of logits, defaulting to "0".."K-1"."""
    if names is None:
        default = tuple(str(i) for i in range(num_logits))
        return default, f"class_names: default 0..{num_logits - 1} ({num_logits} logits)"
    if len(names) != num_logits:
        raise InspectorError(
            f"class_names from {source} has {len(names)} names but the model outputs "
            f"{num_logits} logits; give exactly {num_logits} names"
        )
    return names, f"class_names: {source}"
