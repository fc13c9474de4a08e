"""Which class a saliency map explains: the true label, the clean or the adversarial prediction.

The same target is used for an example's clean and adversarial maps, so the two pictures
answer one question ("where is the evidence for class t?") on two inputs.
"""

from __future__ import annotations

import numpy as np

from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel

TARGET_CHOICES = ("true", "clean", "adversarial")


def predict(model: LoadedModel, x: np.ndarray) -> np.ndarray:
    """Predicted classes by the model's authoritative forward pass (onnxruntime for ONNX)."""
    logits = np.asarray(model.reference_logits(np.ascontiguousarray(x, dtype=np.float32)))
    return logits.argmax(axis=1).astype(np.int64)


def resolve_target(
    choice: str | int,
    labels: np.ndarray,
    *,
    num_classes: int,
    clean_pred: np.ndarray | None = None,
    adv_pred: np.ndarray | None = None,
) -> np.ndarray:
    """Per example, the class to explain: "true", "clean", "adversarial" or a class index."""
    labels = np.asarray(labels, dtype=np.int64)
    if isinstance(choice, (int, np.integer)) or str(choice).strip().isdigit():
        k = int(choice)
        if not 0 <= k < num_classes:
            raise InspectorError(
                f"target class {k} does not exist: the model has classes 0..{num_classes - 1}"
            )
        return np.full(labels.shape, k, dtype=np.int64)
    chosen = {"true": labels, "clean": clean_pred, "adversarial": adv_pred}
    if choice not in chosen:
        raise InspectorError(
            f"unknown saliency target {choice!r}: use true, clean, adversarial or a class index"
        )
    target = chosen[choice]
    if target is None:
        raise InspectorError(
            f"target {choice!r} needs the {choice} predictions, which were not given"
        )
    return np.asarray(target, dtype=np.int64)
