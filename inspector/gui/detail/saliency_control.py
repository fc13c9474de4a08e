"""The detail panel's saliency orchestration: what to ask for, and where an answer goes.

The service (gui/saliency_view.py) computes maps in the background and caches them; this
controller turns the panel's example, ε and controls into requests, shows cached maps at
once, and routes a late answer to its column only if that column still wants it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject

from inspector.core.view import ResultsView
from inspector.gui.detail.column import ModelColumn
from inspector.gui.detail.text import eps_text
from inspector.gui.saliency_view import SaliencyControls, SaliencyRequest, SaliencyService


class SaliencyController(QObject):
    """Saliency for the columns of one detail panel."""

    def __init__(
        self,
        controls: SaliencyControls,
        columns: Callable[[], list[ModelColumn]],
        clean_image: Callable[[int, int], np.ndarray | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.controls = controls
        self.service = SaliencyService(self)
        self._columns, self._clean_image = columns, clean_image
        self.view: ResultsView | None = None
        self.position: int | None = None
        self.eps_index = 0
        self.running = False
        self._loaded: list = []
        self.service.ready.connect(self._arrived)
        self.service.failed.connect(self._failed)
        self.service.concentrationReady.connect(self._concentration_arrived)
        controls.computeChanged.connect(self.update)
        controls.displayChanged.connect(self.update)

    def set_view(self, view: ResultsView | None) -> None:
        """Other results: the loaded models are matched to them by name."""
        self.view = view
        self._match_models()

    def show(self, position: int | None, eps_index: int) -> None:
        """The panel shows another example or ε: update the maps."""
        self.position, self.eps_index = position, eps_index
        self.update()

    def set_running(self, running: bool) -> None:
        """While an attack runs, the concentration score (a pass over every example, which
        competes with the attack and the event loop for the interpreter) waits."""
        self.running = running
        if not running:
            self.update()

    def set_models(self, models: list) -> None:
        """The loaded models (LoadedModel), matched to the view's models by name."""
        self._loaded = list(models)
        self._match_models()
        self.update()

    def _match_models(self) -> None:
        # matched by name, with the results' recorded conversion verdict (core/view.py)
        self.service.set_models([] if self.view is None else self.view.loaded_models(self._loaded))

    def _requests(self) -> list[tuple[int, SaliencyRequest | str]]:
        """Per model column: what to show (a request) or why nothing can be shown."""
        view, position, k = self.view, self.position, self.eps_index
        if view is None or position is None:
            return []
        controls = self.controls
        found: list[tuple[int, SaliencyRequest | str]] = []
        for i in range(len(self._columns())):
            s = view.sweep(i)
            if s is None or not 0 <= position < len(s.labels):
                continue
            clean = self._clean_image(i, position)
            if clean is None:
                found.append((i, "image not available"))
                continue
            done = s.eps_done > 0 and k < s.eps_done
            adv_pred = int(s.adv_pred[position, k]) if done else int(s.clean_pred[position])
            target = {
                "true": int(s.labels[position]),
                "clean": int(s.clean_pred[position]),
                "adversarial": adv_pred,
            }[controls.target]
            adversarial = view.adversarial_image(i, position, k) if done else None
            request = SaliencyRequest(
                i, int(s.indices[position]), k, controls.method, target, clean, adversarial
            )
            found.append((i, request))
        return found

    def update(self) -> None:
        """Show cached maps at once; ask the service for the rest (in the background)."""
        if self.view is None:
            return
        method, service, columns = self.controls.method, self.service, self._columns()
        wanted = []
        for i, request in self._requests():
            column = columns[i]
            if isinstance(request, str):
                column.show_saliency_message(request)
                continue
            maps = service.maps(request)
            if maps is not None:
                column.show_saliency(request, maps, self.controls, self._eps_label())
            elif request.key in service.failures:
                column.show_saliency_message(service.failures[request.key])
            else:
                column.show_saliency_message("computing…")
                wanted.append(request)
            s = self.view.sweep(i)
            if s is not None and not self.running:  # a whole-set pass: not beside an attack
                service.request_concentration(i, method, self.view.dataset, s.indices)
            waiting = "after the run" if self.running else "computing…"
            column.show_concentration(service.concentration.get((i, method), waiting))
        service.request(wanted)

    def _eps_label(self) -> str:
        return "" if self.view is None else eps_text(self.view.eps[self.eps_index])

    def _is_current(self, request: SaliencyRequest) -> bool:
        current = dict(self._requests()).get(request.model_index)
        return isinstance(current, SaliencyRequest) and current.key == request.key

    def _arrived(self, request: SaliencyRequest) -> None:
        if self._is_current(request):
            self._columns()[request.model_index].show_saliency(
                request, self.service.maps(request), self.controls, self._eps_label()
            )

    def _failed(self, request: SaliencyRequest, reason: str) -> None:
        if self._is_current(request):
            self._columns()[request.model_index].show_saliency_message(reason)

    def _concentration_arrived(self, index: int, method: str, summary) -> None:
        columns = self._columns()
        if method == self.controls.method and 0 <= index < len(columns):
            columns[index].show_concentration(summary)
