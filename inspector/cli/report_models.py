"""The models a report's saliency maps come from, opened under the rules for files from a stranger.

A results file or an audit names its models by path and SHA-256; the paths are the audited
party's data. A model is opened only from a file the user passed (`--model`, matched to
the recorded model by SHA-256) or from its recorded path when that lies in the folder of
the results or audit (core/sources.py's rule, the window's too); code runs only with
`--trust-code`. The opened model must have the recorded hash, input shape, classes and
normalisation (the recorded metadata is passed as overrides, so a changed sidecar cannot
alter them). A model that fails any of this is not an error: it gets one line instead.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel, ModelInfo
from inspector.core.results import EvaluationResults
from inspector.core.safe_files import Refused, regular_file_size
from inspector.core.sources import NOT_CHECKED, OK, model_sha256, model_status


def _recorded_metadata(info: ModelInfo) -> dict:
    """What the evaluation used, as overrides; mean/std are recorded with any scale folded in."""
    found: dict = {"class_names": list(info.class_names), "input_shape": list(info.input_shape)}
    if info.mean is not None or info.std is not None:
        found |= {"mean": info.mean, "std": info.std, "scale": 1.0}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in found.items() if v is not None}


def _explicit(results: EvaluationResults, paths: list[str]) -> dict[int, Path]:
    """Each --model file to the recorded model with its SHA-256 (one that matches none fails)."""
    found: dict[int, Path] = {}
    for given in paths:
        path = Path(given).expanduser()
        try:
            regular_file_size(path)
            matches = [
                i
                for i, m in enumerate(results.models)
                if i not in found and model_sha256(m.info, path) == m.info.sha256
            ]
        except (Refused, OSError) as exc:
            raise InspectorError(f"--model {given}: not opened: {exc}") from None
        if not matches:
            names = ", ".join(m.info.name for m in results.models)
            raise InspectorError(
                f"--model {given} is none of the evaluated models ({names}): its SHA-256 "
                "matches no recorded one"
            )
        found[matches[0]] = path
    return found


def _recorded_path(info: ModelInfo, folder: Path) -> Path | str:
    """The recorded path if it may be opened (in the folder, unchanged), else why not."""
    status = model_status(info, folder)
    if status.status == OK:
        return Path(status.path)
    if status.status == NOT_CHECKED:
        return f"{status.path} is outside the folder of the results; pass --model PATH to use it"
    return status.message.removeprefix(f"model {info.name}: ")


def _same(a: tuple[float, ...] | None, b: tuple[float, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and bool(np.allclose(a, b, rtol=1e-6, atol=0))


def _mismatch(loaded: ModelInfo, recorded: ModelInfo) -> str | None:
    if loaded.sha256 != recorded.sha256:
        return "the file changed while it was opened (SHA-256 differs)"
    if tuple(loaded.input_shape) != tuple(recorded.input_shape):
        return f"it takes {loaded.input_shape}, the evaluation used {recorded.input_shape}"
    if loaded.num_classes != recorded.num_classes:
        return f"it has {loaded.num_classes} classes, the evaluation {recorded.num_classes}"
    if not (_same(loaded.mean, recorded.mean) and _same(loaded.std, recorded.std)):
        return "its normalisation (mean/std) differs from the evaluated one"
    return None


def _open(info: ModelInfo, path: Path, args: argparse.Namespace) -> LoadedModel | str:
    from inspector.core.models import load_model

    try:
        model = load_model(
            path,
            device=args.device,
            trust_code=args.trust_code,
            arch=args.arch,
            name=info.name,
            overrides=_recorded_metadata(info),
        )
    except InspectorError as exc:
        return f"{path} could not be opened ({exc})"
    mismatch = _mismatch(model.info, info)
    return model if mismatch is None else f"{path}: {mismatch}"


def results_model_opener(
    results: EvaluationResults, source: str | Path, args: argparse.Namespace
) -> Callable[[int], LoadedModel | str]:
    """Recorded model i -> the opened model or the one line saying why it is not. The
    --model files are matched at once (a wrong one is an error before anything is drawn);
    a model is opened only when its gallery asks for maps."""
    folder = Path(source).resolve().parent
    explicit = _explicit(results, list(args.model or []))

    def open_model(i: int) -> LoadedModel | str:
        info = results.models[i].info
        path = explicit.get(i) or _recorded_path(info, folder)
        return path if isinstance(path, str) else _open(info, path, args)

    return open_model
