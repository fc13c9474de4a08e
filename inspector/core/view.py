"""The one results model the window's views read: Qt-free, so it is tested without a screen.

It holds the latest snapshot of every model's results (partial while a run goes on), the
threat model and the dataset. Everything the ε slider changes is a lookup here: statuses,
headline rates, adversarial predictions at grid point k. No recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.core.checks.result import warning_note
from inspector.core.data.base import DatasetInfo, ImageDataset
from inspector.core.metrics import Rates, rates_at, statuses
from inspector.core.models.base import LoadedModel, ModelInfo
from inspector.core.models.gradients import with_faithful_gradients
from inspector.core.results import EvaluationResults
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel


@dataclass
class ModelEntry:
    info: ModelInfo
    sweep: ModelSweep | None = None  # None until its clean pass and first ε are done


class ResultsView:
    """Results of one evaluation as the window shows them."""

    def __init__(
        self,
        threat: ThreatModel,
        dataset_info: DatasetInfo,
        models: list[ModelInfo],
        dataset: ImageDataset | None = None,
    ) -> None:
        self.threat = threat
        self.dataset_info = dataset_info
        self.dataset = dataset  # for thumbnails and clean images; None when not at hand
        self.models = [ModelEntry(info) for info in models]
        self.smoothing: dict[int, dict] = {}  # randomized-smoothing records by model index
        self.checks: dict[int, list] = {}  # sanity checks (CheckResult) by model index
        # Slider moves ask for the same few (model, ε) pairs again and again: memoise them.
        # A new snapshot of a model (update) clears that model's entries.
        self._rates: dict[tuple[int, int], Rates] = {}
        self._statuses: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def from_results(cls, results: EvaluationResults, dataset: ImageDataset | None = None):
        view = cls(results.threat, results.dataset, [m.info for m in results.models], dataset)
        for i, m in enumerate(results.models):
            view.update(i, m.sweep)
            if getattr(m, "smoothing", None):
                view.smoothing[i] = m.smoothing
            if getattr(m, "checks", None):
                view.checks[i] = list(m.checks)
        return view

    def warning(self, model_index: int) -> str | None:
        """Model i's sanity-check warnings as text (None if none): every place that shows its
        robust accuracy marks it and offers this on hover."""
        return warning_note(self.checks.get(model_index, ()))

    @property
    def eps(self) -> tuple[float, ...]:
        return self.threat.eps

    def update(self, model_index: int, sweep: ModelSweep) -> None:
        self.models[model_index].sweep = sweep
        for cache in (self._rates, self._statuses):
            for key in [key for key in cache if key[0] == model_index]:
                del cache[key]

    def sweep(self, model_index: int) -> ModelSweep | None:
        if 0 <= model_index < len(self.models):
            return self.models[model_index].sweep
        return None

    def loaded_models(self, loaded: list[LoadedModel]) -> list[LoadedModel | None]:
        """The loaded models matched to this view's by name (None where not open), each as
        gradient work may use it: a conversion these results found unfaithful stays refused
        for saliency, even when the results came from a file."""
        by_name = {m.info.name: m for m in loaded}
        found: list[LoadedModel | None] = []
        for entry in self.models:
            model = by_name.get(entry.info.name)
            if model is not None and entry.sweep is not None:
                model = with_faithful_gradients(model, entry.sweep)
            found.append(model)
        return found

    def eps_done(self, model_index: int) -> int:
        s = self.sweep(model_index)
        return 0 if s is None else s.eps_done

    def rates(self, model_index: int, k: int) -> Rates | None:
        """Headline numbers of one model at grid point k; None if that ε is not computed yet."""
        s = self.sweep(model_index)
        if s is None or k >= s.eps_done:
            return None
        if (model_index, k) not in self._rates:
            self._rates[model_index, k] = rates_at(s.clean_correct, s.breaking_eps, self.eps[k])
        return self._rates[model_index, k]

    def rates_between(self, model_index: int, eps: float) -> Rates | None:
        """Rates at any ε, between grid points too, where a minimum-norm attack (FMN) gave
        every example a radius; None for other attacks or before the search finished."""
        s = self.sweep(model_index)
        if s is None or s.min_norm_radius is None:
            return None
        searched = [k for k, e in enumerate(s.eps) if e > 0]  # the search runs at the first ε > 0
        if not searched or s.eps_done <= searched[0]:
            return None
        return rates_at(s.clean_correct, s.min_norm_radius, eps)  # broken iff radius ≤ ε

    def statuses(self, model_index: int, k: int) -> np.ndarray | None:
        s = self.sweep(model_index)
        if s is None or k >= s.eps_done:
            return None
        if (model_index, k) not in self._statuses:
            found = statuses(s.clean_correct, s.breaking_eps, self.eps[k])
            found.flags.writeable = False  # shared between callers
            self._statuses[model_index, k] = found
        return self._statuses[model_index, k]

    def status_of(self, model_index: int, position: int, k: int) -> str | None:
        """One example's status at grid point k (from the memoised statuses of all examples)."""
        found = self.statuses(model_index, k)
        if found is None or not 0 <= position < len(found):
            return None
        return str(found[position])

    def certified(self, model_index: int) -> tuple[np.ndarray, np.ndarray, str] | None:
        """A certified-accuracy curve (a LOWER bound) on this threat model's axis, if any:
        the exact certificate of an affine model, or randomized smoothing when the threat
        model is L2 (its radius is an L2 radius: on an L∞ axis it would mislead)."""
        s = self.sweep(model_index)
        exact = None if s is None else s.certified_curve()
        if exact:
            eps, acc = zip(*exact, strict=True)
            return np.asarray(eps), np.asarray(acc), "exact certificate (affine model)"
        record = self.smoothing.get(model_index)
        if record and self.threat.norm == "l2" and record.get("curve"):
            eps = np.asarray([p["radius"] for p in record["curve"]], dtype=float)
            acc = np.asarray([p["certified_accuracy"] for p in record["curve"]], dtype=float)
            return eps, acc, str(record.get("description", "randomized smoothing"))
        return None

    def disagreement(self, k: int) -> np.ndarray | None:
        """Per example: do the models with results at k disagree on the prediction at ε_k?"""
        preds = [
            m.sweep.adv_pred[:, k]
            for m in self.models
            if m.sweep is not None and k < m.sweep.eps_done
        ]
        if len(preds) < 2:
            return None
        stacked = np.stack(preds)
        return (stacked != stacked[0]).any(axis=0)

    def clean_image(self, model_index: int, position: int) -> np.ndarray | None:
        """The clean image of an example as float32 C×H×W: from the dataset, else from memory."""
        s = self.sweep(model_index)
        if s is None:
            return None
        if self.dataset is not None:
            return self.dataset.load(s.indices[position : position + 1])[0]
        if s.adv_images is not None and self.eps[0] == 0:
            return s.adv_images[position, 0].astype(np.float32)
        return None

    def adversarial_image(self, model_index: int, position: int, k: int) -> np.ndarray | None:
        s = self.sweep(model_index)
        if s is None or s.adv_images is None or k >= s.eps_done:
            return None
        return s.adv_images[position, k].astype(np.float32)
