"""Pieces shared by the torch and ONNX loaders: the raw result, errors, fixed-batch chunking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inspector.core.errors import HintKind, InspectorError
from inspector.core.models.metadata import ModelMetadata

DEFAULT_CHUNK = 256


@dataclass
class RawModel:
    """What a backend loader hands back before metadata and normalisation are applied.

    `module` is un-normalised, on the device, in eval mode, with frozen parameters.
    `run_numpy` is the authoritative un-normalised forward when it is not `module`
    (onnxruntime); for torch backends it stays None and the module is the reference.
    """

    backend: str
    module: nn.Module | None = None
    run_numpy: Callable[[np.ndarray], np.ndarray] | None = None
    file_metadata: list[tuple[str, ModelMetadata]] = field(default_factory=list)
    providers: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    gradient_unavailable_reason: str | None = None
    fixed_batch: int | None = None
    extra_files: list[Path] = field(default_factory=list)  # e.g. ONNX external weights


class ModelOutputError(InspectorError):
    """The model returned something other than a float tensor; the loader adds its name."""


def logits_array(output: object) -> np.ndarray:
    """A forward's output as float32 numpy, refusing what cannot be logits (ints, tuples).

    Casting first would hide an integer "classifier" (argmax labels, quantised scores)
    whose margins and gradients mean nothing, so the dtype is checked before the cast.
    """
    if isinstance(output, torch.Tensor):
        if not output.is_floating_point():
            raise ModelOutputError(
                f"the model returns {str(output.dtype).removeprefix('torch.')} values; "
                "floating-point logits are expected"
            )
        return output.detach().float().cpu().numpy()
    if isinstance(output, np.ndarray):
        if not np.issubdtype(output.dtype, np.floating):
            raise ModelOutputError(
                f"the model returns {output.dtype} values; floating-point logits are expected"
            )
        return output.astype(np.float32, copy=False)
    raise ModelOutputError(
        f"the model returns a {type(output).__name__}, not a tensor; one tensor of logits "
        "[N, num_classes] is expected"
    )


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception as "Type: first line", short enough for a one-line user message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unreadable(path: Path, reason: str) -> InspectorError:
    """The error for a file that is not a model we can read, naming what we can read."""
    return InspectorError(f"cannot load model {path}: {reason}", HintKind.SUPPORTED_FORMATS)


def freeze(module: nn.Module, device: torch.device) -> nn.Module:
    """Eval mode, no parameter gradients (attacks need only input gradients), on the device."""
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.to(device)


class FixedBatch(nn.Module):
    """Run a program traced for exactly `batch` inputs on any batch size.

    Inputs are cut into chunks of `batch`; the last chunk is zero-padded and the padding's
    outputs dropped. Eval-mode classifiers treat samples independently, so padding does not
    change the real outputs, and gradients flow through the slicing unchanged.
    """

    def __init__(self, inner: nn.Module, batch: int) -> None:
        super().__init__()
        self.inner = inner
        self.batch = batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if n == self.batch:
            return self.inner(x)
        if n == 0:
            return self.inner(x.new_zeros((self.batch, *x.shape[1:])))[:0]
        outputs = []
        for start in range(0, n, self.batch):
            chunk = x[start : start + self.batch]
            real = chunk.shape[0]
            if real < self.batch:
                padding = chunk.new_zeros((self.batch - real, *chunk.shape[1:]))
                chunk = torch.cat([chunk, padding])
            outputs.append(self.inner(chunk)[:real])
        return torch.cat(outputs)


def run_chunked(
    forward: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    chunk: int,
    pad: bool,
) -> np.ndarray:
    """Apply `forward` on slices of `chunk` rows; with `pad`, every call gets exactly `chunk`."""
    if x.shape[0] == 0:
        probe = np.zeros((chunk if pad else 1, *x.shape[1:]), dtype=x.dtype)
        return _rows(forward, probe)[:0]
    outputs = []
    for start in range(0, x.shape[0], chunk):
        part = x[start : start + chunk]
        real = part.shape[0]
        if pad and real < chunk:
            padding = np.zeros((chunk - real, *part.shape[1:]), dtype=part.dtype)
            part = np.concatenate([part, padding])
        outputs.append(_rows(forward, part)[:real])
    return np.concatenate(outputs)


def _rows(forward: Callable[[np.ndarray], np.ndarray], part: np.ndarray) -> np.ndarray:
    """forward(part), which must have one row per input row (slicing would hide it if not)."""
    out = np.asarray(forward(part), dtype=np.float32)
    n = part.shape[0]
    if out.ndim == 0 or out.shape[0] != n:
        raise ModelOutputError(
            f"the model returns shape {list(out.shape)} for a batch of {n}; logits of shape "
            f"[{n}, num_classes] are expected (one row per image)"
        )
    return out


def torch_reference(
    module: nn.Module, device: torch.device, chunk: int = DEFAULT_CHUNK
) -> Callable[[np.ndarray], np.ndarray]:
    """reference_logits for a torch module: float32 NCHW in, float32 logits out."""

    def forward(part: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(part)).to(device)
        with torch.inference_mode():
            return logits_array(module(tensor))

    def reference_logits(x: np.ndarray) -> np.ndarray:
        return run_chunked(forward, np.asarray(x, dtype=np.float32), chunk, pad=False)

    return reference_logits
