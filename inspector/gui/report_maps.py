"""The window's PDF export gets the saliency maps the window has already computed, nothing more.

A snapshot of the detail panel's cache, taken on the GUI thread before the export worker
starts: an example the user has looked at (with the method now chosen, explaining its true
class, which for a boundary error is also the clean prediction) has its maps in the
report; others show "no image", and a model with none at all gets one line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.reporting.saliency import ExampleMaps, MapAnswer, MapRequest, channel_total

NONE_CACHED = (
    "No saliency maps for {name}: the window computes them only for the examples selected "
    "in it, and none of these was."
)


@dataclass(frozen=True)
class CachedSaliency:
    """A GallerySaliency over a copy of the window's cache (keys as SaliencyRequest.key)."""

    method: str
    cache: dict[tuple, np.ndarray]
    view_index: dict[int, int]  # results' model index -> the window's
    names: dict[int, str]

    def maps(self, request: MapRequest) -> MapAnswer:
        j = self.view_index.get(request.model_index, -1)
        found = [
            self._example(j, int(d), int(t), request.eps_index, adv is not None)
            for d, t, adv in zip(
                request.dataset_indices, request.targets, request.adversarial, strict=True
            )
        ]
        if all(f is None for f in found):
            return MapAnswer.refused(len(found), NONE_CACHED.format(name=self.names.get(j, "")))
        return MapAnswer(found)

    def _example(self, j: int, index: int, target: int, k: int, adv: bool) -> ExampleMaps | None:
        maps = self.cache.get((j, index, k if adv else None, self.method, target))
        if maps is None:
            return None
        total = channel_total(maps)
        return ExampleMaps(total[0], total[1] if len(total) > 1 else None)


def cached_saliency(window, results) -> CachedSaliency | None:
    """What the window has computed, for `results` (None when nothing is cached, or for a
    document host that is not the window: it has no detail panel)."""
    detail = getattr(window, "detail", None)
    view = getattr(window, "view", None)
    if detail is None or view is None or results is None or not detail.saliency.cache:
        return None
    by_name = {m.info.name: j for j, m in enumerate(view.models)}
    index = {
        i: by_name[m.info.name] for i, m in enumerate(results.models) if m.info.name in by_name
    }
    names = {j: name for name, j in by_name.items()}
    cache = dict(detail.saliency.cache)
    return CachedSaliency(detail.saliency_controls.method, cache, index, names)
