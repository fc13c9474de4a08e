"""The parts of a sweep around the ε loop: the image cache, the clean pass, the batching.

The clean pass gives the clean predictions, feeds the model's conversion verdict (ONNX:
`verify_gradients` on every evaluated batch) and proves the exact certificate of an affine
model; it runs once, before the ε loop (eps_loop.py) that both a sweep and a refine use.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from inspector.core.attacks.streams import Streams
from inspector.core.certificate import NOT_AFFINE_ON_DATA, Certificate, affine_certificate
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.linear import is_affine_on, robustness_radius
from inspector.core.logits import softmax
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import verify_gradients
from inspector.core.threat import ThreatModel

CACHE_BYTES = 1 << 30  # keep the evaluated images in memory up to this size


class ImageCache:
    """The evaluated images by position, decoded once when they fit in memory."""

    def __init__(self, dataset: ImageDataset, indices: np.ndarray) -> None:
        self.dataset, self.indices = dataset, indices
        per_image = int(np.prod(dataset.info.shape)) * 4
        self._cache: np.ndarray | None = None
        self._loaded = np.zeros(len(indices), dtype=bool)
        if per_image * len(indices) <= CACHE_BYTES:
            self._cache = np.empty((len(indices), *dataset.info.shape), dtype=np.float32)

    def get(self, positions: np.ndarray) -> np.ndarray:
        if self._cache is None:
            return self.dataset.load(self.indices[positions])
        missing = positions[~self._loaded[positions]]
        if len(missing):
            self._cache[missing] = self.dataset.load(self.indices[missing])
            self._loaded[missing] = True
        return self._cache[positions]


def check_logits(logits: np.ndarray, model: LoadedModel, first_index: int) -> None:
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise InspectorError(
            f"model {model.info.name} returned NaN or Inf logits (first at dataset index "
            f"{first_index + int(np.argmax(bad))}); check the model file and its normalisation"
        )
    if logits.ndim != 2 or logits.shape[1] != model.info.num_classes:
        raise InspectorError(
            f"model {model.info.name} returns {logits.shape[-1]} logits but names "
            f"{model.info.num_classes} classes; fix the class names in its metadata"
        )


def module_logits(model: LoadedModel, x: np.ndarray) -> np.ndarray:
    """The torch module's logits on a numpy batch, in float64 (no gradients)."""
    assert model.module is not None
    with torch.inference_mode():
        out = model.module(torch.from_numpy(x).to(model.info.device))
    return out.double().cpu().numpy()


class CleanPass:
    """Clean predictions, the ONNX conversion check and the exact linear certificate."""

    def __init__(
        self, model: LoadedModel, n: int, threat: ThreatModel, needs_gradients: bool
    ) -> None:
        self.model, self.norm = model, threat.norm
        self.pred = np.zeros(n, dtype=np.int64)
        self.conf = np.zeros(n, dtype=np.float64)
        self.probs = np.zeros((n, model.info.num_classes), dtype=np.float32)
        self.compare_onnx = model.info.backend == "onnx" and model.module is not None
        self.max_diff = 0.0
        self.needs_gradients = needs_gradients
        self.certificate = Certificate(None)
        if threat.certificate and model.module is not None and model.info.backend != "onnx":
            info = model.info
            self.certificate = affine_certificate(
                model.module, info.input_shape, info.num_classes, info.device
            )
        self.affine, self.note = self.certificate.affine, self.certificate.note
        self.radius = np.zeros(n) if self.affine is not None else None

    def batch(self, positions: np.ndarray, x: np.ndarray, labels: np.ndarray, first: int) -> None:
        logits = np.asarray(self.model.reference_logits(x), dtype=np.float64)
        check_logits(logits, self.model, first)
        probs = softmax(logits)
        self.pred[positions] = probs.argmax(axis=1)
        self.conf[positions] = probs.max(axis=1)
        self.probs[positions] = probs
        if self.compare_onnx:  # recorded in the model's verdict, which gradient users read
            self.max_diff = max(self.max_diff, verify_gradients(self.model, x, logits))
        if self.affine is not None and self.radius is not None:
            if is_affine_on(self.affine, logits, x, tolerance=self.certificate.tolerance):
                self.radius[positions] = robustness_radius(
                    self.affine, x.astype(np.float64), labels, self.norm
                )
            else:
                self.affine, self.radius, self.note = None, None, NOT_AFFINE_ON_DATA

    def check_conversion(self) -> None:
        """Gradient attacks stop here when the model's verdict (fed above) is against them."""
        verdict = self.model.conversion
        if self.compare_onnx and self.needs_gradients and not self.model.differentiable:
            gap = self.max_diff if verdict is None else verdict.largest_gap
            raise InspectorError(
                f"the torch conversion of {self.model.info.name} disagrees with onnxruntime "
                f"(largest relative logit difference {gap:.2g}, the evaluated data included); "
                "gradient attacks are refused for this model (square and ensemble run "
                "Square through onnxruntime alone)"
            )


def batches(positions: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(positions), size):
        yield positions[start : start + size]


def example_streams(seed: int, eps_index: int, indices: np.ndarray, device) -> Streams:
    """A random stream per (seed, ε, dataset example): a result depends on nothing else, not
    on the batch size, the batch an example lands in, the shard layout or the process count."""
    return Streams.for_examples(seed, indices, device, eps_index)
