"""Saliency maps for a report's galleries, computed through the core on opened models.

Only for the examples a gallery shows, on the very images it shows (the audit's stored
clean and adversarial images), explaining the true class. Before any map a model must
reproduce the clean predictions the results recorded for those images, so maps are never
drawn from a file that behaves otherwise than the one evaluated; and its gradients must be
allowed (`gradient_refusal`, the one place that asks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults
from inspector.core.saliency import attribute, predict
from inspector.reporting.saliency import (
    ExampleMaps,
    MapAnswer,
    MapRequest,
    channel_total,
    method_label,
)


def gradient_refusal(model: LoadedModel) -> str | None:
    """Why this model may not give saliency maps (None: it may). The conversion verdict
    (LoadedModel.conversion) is read here only, so a richer verdict changes one place."""
    usable = model.gradient_model()
    if usable.module is not None:
        return None
    reason = usable.gradient_unavailable_reason or "it has no differentiable module"
    return f"no gradients: {reason}"


Opened = LoadedModel | str  # the model, or the one line saying why it could not be opened


@dataclass
class ModelSaliency:
    """A GallerySaliency over the results' models: `models` lists them (a LoadedModel or why
    not, by the results' model index) or opens model i when its gallery first asks."""

    results: EvaluationResults
    models: Sequence[Opened] | Callable[[int], Opened]
    method: str = "gradient"
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    _opened: dict[int, Opened] = field(default_factory=dict, init=False, repr=False)

    def model(self, i: int) -> Opened:
        if i not in self._opened:
            models = self.models
            self._opened[i] = models(i) if callable(models) else models[i]
        return self._opened[i]

    def maps(self, request: MapRequest) -> MapAnswer:
        name = self.results.models[request.model_index].info.name
        count = len(request.positions)
        refusal = self._refusal(request)
        if refusal is not None:
            return MapAnswer.refused(count, f"No {self._label()} saliency for {name}: {refusal}.")
        model = self.model(request.model_index)
        assert isinstance(model, LoadedModel)
        clean = np.stack(request.clean).astype(np.float32)
        adversarial = [a for a in request.adversarial if a is not None]
        inputs = clean if len(adversarial) < count else np.concatenate([clean, adversarial])
        targets = np.tile(request.targets, len(inputs) // count)
        try:
            found = attribute(model, inputs, targets, self.method, seed=self.seed, **self.options)
        except InspectorError as exc:
            return MapAnswer.refused(count, f"No {self._label()} saliency for {name}: {exc}.")
        maps = channel_total(found.maps)
        adv = maps[count:] if len(maps) > count else [None] * count
        return MapAnswer([ExampleMaps(c, a) for c, a in zip(maps[:count], adv, strict=True)])

    def _label(self) -> str:
        return method_label(self.method)

    def _refusal(self, request: MapRequest) -> str | None:
        """Why model i gives no maps for these examples: not opened, no gradients, no clean
        images, or predictions other than the recorded ones."""
        model = self.model(request.model_index)
        if isinstance(model, str):
            return model
        refused = gradient_refusal(model)
        if refused is not None:
            return refused
        if any(c is None for c in request.clean):
            return "the clean images are not available"
        sweep = self.results.models[request.model_index].sweep
        try:
            predicted = predict(model, np.stack(request.clean).astype(np.float32))
        except (InspectorError, RuntimeError, ValueError) as exc:  # e.g. another image shape
            return f"it does not run on these images ({exc})"
        recorded = sweep.clean_pred[request.positions]
        if not np.array_equal(predicted, recorded):
            wrong = int((predicted != recorded).sum())
            return (
                f"the opened file predicts {wrong} of these {len(recorded)} examples otherwise "
                "than the evaluation recorded, so its maps would explain another model"
            )
        return None
