"""load_model: pick the backend by file format, resolve metadata, wrap normalisation.

Every backend returns a RawModel; this module turns it into the LoadedModel the rest of
the core uses, so metadata precedence and the checks on the output are the same for all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inspector.core.devices import resolve_device
from inspector.core.errors import Hint, HintKind, InspectorError
from inspector.core.hashing import sha256_bytes, sha256_file
from inspector.core.models.base import ConversionVerdict, LoadedModel, ModelInfo
from inspector.core.models.common import (
    DEFAULT_CHUNK,
    ModelOutputError,
    RawModel,
    one_line,
    torch_reference,
    unreadable,
)
from inspector.core.models.gradients import verify_on_probes
from inspector.core.models.metadata import (
    ModelMetadata,
    coerce_overrides,
    merge_layers,
    read_sidecar,
    resolve_class_names,
    resolve_normalisation,
)
from inspector.core.models.normalize import Normalized, normalize_array

Layers = list[tuple[str, ModelMetadata]]
MAX_INPUT_VALUES = 3 * 4096 * 4096  # C*H*W of one image: a 4096² RGB image is the largest


def load_model(
    path: str | Path,
    *,
    device: str = "auto",
    trust_code: bool = False,
    arch: str | None = None,
    name: str | None = None,
    overrides: ModelMetadata | Mapping[str, Any] | None = None,
    fallback_input_shape: tuple[int, int, int] | None = None,
) -> LoadedModel:
    """Load a classifier file (.pt2, TorchScript, state_dict, pickle, .onnx) for evaluation.

    The result takes images in [0, 1]; `trust_code` is needed for anything that runs Python
    code (a pickled module, importing a network factory). See metadata.py for what overrides what.
    """
    model_path = _existing_file(path)
    torch_device = resolve_device(device)
    layers = _explicit_layers(model_path, name, overrides)
    output = next((m.output for _, m in layers if m.output is not None), None)
    raw = _load_raw(model_path, torch_device, arch, trust_code, output)
    layers.extend(raw.file_metadata)
    if fallback_input_shape is not None:
        fallback = {"input_shape": list(fallback_input_shape)}
        layers.append(
            ("fallback input shape", ModelMetadata.from_mapping(fallback, "fallback_input_shape"))
        )
    metadata, sources = merge_layers(layers)
    return _assemble(model_path, torch_device, raw, metadata, sources)


def _existing_file(path: str | Path) -> Path:
    model_path = Path(path).expanduser()
    if not model_path.exists():
        raise InspectorError(f"model file not found: {path}")
    if not model_path.is_file():
        raise unreadable(model_path, "it is not a file")
    return model_path


def _explicit_layers(
    path: Path, name: str | None, overrides: ModelMetadata | Mapping[str, Any] | None
) -> Layers:
    """The user's own layers, read before the model so a bad sidecar fails fast."""
    layers: Layers = [("name argument", ModelMetadata(name=name))]
    layers.append(("overrides", coerce_overrides(overrides)))
    sidecar = read_sidecar(path)
    if sidecar is not None:
        layers.append(sidecar)
    return layers


def _load_raw(
    path: Path, device: torch.device, arch: str | None, trust_code: bool, output: str | None
) -> RawModel:
    """Dispatch on the extension; TorchScript vs torch.save is decided by the content."""
    from inspector.core.models.onnx_loader import load_onnx
    from inspector.core.models.torch_loaders import TORCH_SUFFIXES, load_exported, load_torch_file

    suffix = path.suffix.lower()
    if suffix in TORCH_SUFFIXES:
        return load_torch_file(path, device, arch, trust_code)
    if suffix == ".pt2":
        raw = load_exported(path, device, trust_code)
    elif suffix == ".onnx":
        raw = load_onnx(path, device, output)
    else:
        raise unreadable(path, f"unknown extension {suffix or '(none)'!r}")
    if arch is not None:
        raw.notes.append(f"network factory ignored: {suffix} files carry their own network")
    if output is not None and suffix != ".onnx":
        raw.notes.append(f"output {output!r} ignored: only ONNX files have named outputs")
    return raw


def _assemble(
    path: Path,
    device: torch.device,
    raw: RawModel,
    metadata: ModelMetadata,
    sources: dict[str, str],
) -> LoadedModel:
    shape = _require_shape(path, metadata)
    mean, std, norm_notes = resolve_normalisation(metadata, sources, shape[0])
    module = Normalized(raw.module, mean, std).to(device).eval() if raw.module else None
    reference = _reference(raw, module, device, mean, std)
    num_logits = _probe_num_logits(path, reference, shape, sources)
    names, names_note = resolve_class_names(
        metadata.class_names, sources.get("class_names"), num_logits
    )
    converted = module is not None and raw.run_numpy is not None  # ONNX: a torch reading
    notes = [
        f"name: {sources['name']}" if "name" in sources else "name: file stem",
        f"input_shape: {sources['input_shape']}",
        names_note,
        *norm_notes,
        *raw.notes,
    ]
    sha256 = _content_hash(path, raw.extra_files, notes)
    info = ModelInfo(
        name=metadata.name or path.stem,
        path=str(path.resolve()),
        sha256=sha256,
        backend=raw.backend,
        device=str(device),
        input_shape=shape,
        class_names=names,
        mean=mean,
        std=std,
        providers=raw.providers,
        notes=tuple(notes),
        description=metadata.description,
    )
    verdict = ConversionVerdict() if converted else None
    model = LoadedModel(info, module, reference, raw.gradient_unavailable_reason, verdict)
    return verify_on_probes(model) if converted else model


def _content_hash(path: Path, extra_files: list[Path], notes: list[str]) -> str:
    """sha256 of the file; with external weight files, a hash over all their hashes."""
    if not extra_files:
        return sha256_file(path)
    files = [path, *extra_files]
    notes.append("sha256 is over the sha256 of each of: " + ", ".join(f.name for f in files))
    return sha256_bytes(*(sha256_file(f).encode() for f in files))


def _require_shape(path: Path, metadata: ModelMetadata) -> tuple[int, int, int]:
    if metadata.input_shape is None:
        raise InspectorError(
            f"cannot tell which input size {path.name} expects",
            Hint(HintKind.INPUT_SHAPE, f"{path.name}.json"),
        )
    return metadata.input_shape


def _reference(
    raw: RawModel,
    module: torch.nn.Module | None,
    device: torch.device,
    mean: tuple[float, ...] | None,
    std: tuple[float, ...] | None,
) -> Callable[[np.ndarray], np.ndarray]:
    """onnxruntime (normalised in numpy) for ONNX, else the normalised torch module."""
    run_numpy = raw.run_numpy
    if run_numpy is not None:
        return lambda x: run_numpy(normalize_array(x, mean, std))
    assert module is not None, "torch backends always produce a module"
    chunk = DEFAULT_CHUNK
    if raw.fixed_batch:
        chunk = raw.fixed_batch * max(1, DEFAULT_CHUNK // raw.fixed_batch)
    return torch_reference(module, device, chunk)


def _probe_num_logits(
    path: Path,
    reference: Callable[[np.ndarray], np.ndarray],
    shape: tuple[int, int, int],
    sources: dict[str, str],
) -> int:
    """Forward one blank image, then a blank and a grey one: the shape works, and the output
    is finite float logits with one row per image (a batch of 2 must give 2 rows).

    Whether the logits depend on the batch (BatchNorm left in training mode) or on chance
    is not refused here: the "deterministic" sanity check reports it after the sweep."""
    _check_input_size(path, shape, sources)
    blank = np.zeros((1, *shape), dtype=np.float32)
    one = _probe(path, reference, blank, sources)
    two = _probe(path, reference, np.concatenate([blank, np.full_like(blank, 0.5)]), sources)
    for logits, n in ((one, 1), (two, 2)):
        if logits.ndim != 2 or logits.shape[0] != n or logits.shape[1] < 1:
            raise InspectorError(
                f"{path.name} returns shape {list(logits.shape)} for a batch of {n}; logits "
                f"of shape [{n}, num_classes] are expected (one row per image)"
            )
    if one.shape[1] != two.shape[1]:
        raise InspectorError(
            f"{path.name} returns {one.shape[1]} logits for one image but {two.shape[1]} for "
            "two; a classifier with a fixed number of classes is expected"
        )
    if not (np.isfinite(one).all() and np.isfinite(two).all()):
        raise InspectorError(
            f"{path.name} returns NaN or Inf logits on blank and grey test images; a "
            "classifier with finite logits is expected"
        )
    return int(one.shape[1])


def _check_input_size(path: Path, shape: tuple[int, int, int], sources: dict[str, str]) -> None:
    """Refuse an input shape too large to allocate before any array of that shape is made."""
    values = int(np.prod(shape, dtype=np.float64))
    if values > MAX_INPUT_VALUES:
        raise InspectorError(
            f"{path.name}: input_shape {list(shape)} (from {sources['input_shape']}) is "
            f"{values:,} values per image, more than the {MAX_INPUT_VALUES:,} supported; "
            "check input_shape"
        )


def _probe(
    path: Path,
    reference: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    sources: dict[str, str],
) -> np.ndarray:
    """One forward pass; every failure becomes a one-line error naming the model."""
    try:
        return reference(x)
    except ModelOutputError as exc:
        raise InspectorError(f"{path.name}: {exc}") from None
    except InspectorError:
        raise
    except Exception as exc:
        raise InspectorError(
            f"{path.name} fails on an input of shape {list(x.shape)} ({one_line(exc)}); check "
            f"input_shape (taken from {sources['input_shape']})"
        ) from None
