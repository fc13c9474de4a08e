"""The window's session state, held once and evented: Qt-free, so it is tested without a screen.

What several panels show lives here and nowhere else: the ε cursor (grid index and value,
fine steps included), the chosen example, the model in view, the table's filter, the loaded
files, and the run's status line. Panels subscribe and redraw themselves; nobody reads this
state back out of a widget. Each setter emits only when the value changes, and once.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from inspector.core.view import ResultsView

T = TypeVar("T")


class Event(Generic[T]):
    """A minimal signal: typed callbacks called in the order they were connected."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], object]] = []

    def connect(self, callback: Callable[[T], object]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], object]) -> None:
        with suppress(ValueError):
            self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            callback(value)


@dataclass(frozen=True)
class EpsCursor:
    """Where the ε slider stands: `index` is the grid point at or below `value`."""

    index: int = 0
    value: float = 0.0
    fine: bool = False  # per-example radii make every ε exact: the value moves freely


@dataclass(frozen=True)
class ExampleChoice:
    """The example shown in the detail panel (a row of the sweep arrays, or None)."""

    position: int | None = None
    hidden: bool = False  # the table's filters leave it out at this ε


@dataclass(frozen=True)
class ExampleFilter:
    """The examples table's filter: a status and class indices, None for any."""

    status: str | None = None
    true_class: int | None = None
    predicted_class: int | None = None


@dataclass(frozen=True)
class FilesState:
    """What is loaded: Run needs a model and a dataset, and no file still opening."""

    models: int = 0
    has_data: bool = False
    loading: bool = False

    @property
    def has_model(self) -> bool:
        return self.models > 0

    @property
    def ready(self) -> bool:
        return self.has_model and self.has_data and not self.loading


IDLE_TEXT = "Add a model and a dataset, then press Run."
LOADING_TEXT = "Opening files in the background…"
READY_TEXT = "Ready: press Run (Ctrl+R)."


def grid_index(grid: tuple[float, ...], value: float) -> int:
    """The grid point at or below ε = value (0 below the first)."""
    return max(0, bisect.bisect_right(grid, value + 1e-12) - 1)


def fine_possible(view: ResultsView | None) -> bool:
    """Every model carries per-example radii (FMN): robust accuracy is known at every ε."""
    return (
        view is not None
        and len(view.models) > 0
        and all(view.rates_between(i, 0.0) is not None for i in range(len(view.models)))
    )


class Session:
    """The state the window's panels share, with one event per kind of change."""

    def __init__(self) -> None:
        self.view: ResultsView | None = None
        self.grid: tuple[float, ...] = ()
        self.eps = EpsCursor()
        self.example = ExampleChoice()
        self.model = 0
        self.filter = ExampleFilter()
        self.files = FilesState()
        self.running = False
        self.status = IDLE_TEXT
        self._outcome: str | None = None  # the last run's or file's message, until the next
        self.view_changed: Event[ResultsView | None] = Event()  # other results, or none
        self.results_changed: Event[None] = Event()  # the same view got newer results
        self.eps_changed: Event[EpsCursor] = Event()  # any move of the slider, once
        self.eps_index_changed: Event[int] = Event()  # only when the grid point changes
        self.example_changed: Event[ExampleChoice] = Event()
        self.model_changed: Event[int] = Event()
        self.filter_changed: Event[ExampleFilter] = Event()
        self.files_changed: Event[FilesState] = Event()
        self.running_changed: Event[bool] = Event()
        self.status_changed: Event[str] = Event()

    # -- results ----------------------------------------------------------------------------

    def set_view(self, view: ResultsView | None, eps_index: int | None = None) -> None:
        """Show other results: the cursor goes to `eps_index` (default: the grid's middle)
        without being told, as every panel redraws at it on `view_changed`."""
        self.view = view
        grid = () if view is None else tuple(view.eps)
        k = len(grid) // 2 if eps_index is None else eps_index
        k = min(max(k, 0), len(grid) - 1) if grid else 0
        self.grid = grid
        self.eps = EpsCursor(k, grid[k] if grid else 0.0, fine_possible(view))
        self.view_changed.emit(view)

    def results_updated(self) -> None:
        """The view received newer results: fine steps may have become possible."""
        if self.view is not None:
            self.set_grid(tuple(self.view.eps), fine_possible(self.view))
        self.results_changed.emit(None)

    # -- ε ----------------------------------------------------------------------------------

    def set_grid(self, grid: tuple[float, ...], fine: bool, index: int | None = None) -> None:
        """New results: the ε grid and whether fine steps are possible. The cursor keeps its
        grid point (or goes to `index`), clamped to the grid."""
        self.grid = tuple(grid)
        k = self.eps.index if index is None else index
        k = min(max(k, 0), len(self.grid) - 1) if self.grid else 0
        if not fine or not self.grid:
            self._move(EpsCursor(k, self.grid[k] if self.grid else 0.0, False))
        elif self.eps.fine and index is None:  # fine already: ε itself stays
            self._move(EpsCursor(grid_index(self.grid, self.eps.value), self.eps.value, True))
        else:
            self._move(EpsCursor(k, self.grid[k], True))

    def computed_eps(self) -> float | None:
        """The cursor's grid ε where at least one model has computed it (a report's gallery
        shows it); None otherwise."""
        view, k = self.view, self.eps.index
        if view is not None and any(k < view.eps_done(i) for i in range(len(view.models))):
            return view.eps[k]
        return None

    def set_eps_index(self, k: int) -> None:
        """Go to grid point k (ignored outside the grid)."""
        if 0 <= k < len(self.grid):
            self._move(replace(self.eps, index=k, value=self.grid[k]))

    def set_eps_value(self, value: float) -> None:
        """Fine steps: go to ε itself; on the grid, to the grid point at or below it."""
        if not self.grid:
            return
        k = grid_index(self.grid, value)
        self._move(replace(self.eps, index=k, value=value if self.eps.fine else self.grid[k]))

    def step_eps(self, direction: int) -> None:
        """One grid point up (+1) or down (−1), clamped to the grid; from a fine ε between
        two grid points, to the neighbouring grid point on that side (the keyboard's steps)."""
        if not self.grid:
            return
        k, value = self.eps.index, self.eps.value
        if direction < 0 and self.eps.fine and value > self.grid[k] + 1e-12:
            target = k  # between grid points: down to the point below
        else:
            target = min(max(k + (1 if direction > 0 else -1), 0), len(self.grid) - 1)
        self._move(replace(self.eps, index=target, value=self.grid[target]))

    def _move(self, cursor: EpsCursor) -> None:
        old = self.eps
        if cursor == old:
            return
        self.eps = cursor
        self.eps_changed.emit(cursor)
        if cursor.index != old.index:
            self.eps_index_changed.emit(cursor.index)

    # -- selection --------------------------------------------------------------------------

    def set_example(self, position: int | None, hidden: bool = False) -> None:
        choice = ExampleChoice(position, bool(hidden) and position is not None)
        if choice != self.example:
            self.example = choice
            self.example_changed.emit(choice)

    def set_model(self, i: int) -> None:
        if i != self.model:
            self.model = i
            self.model_changed.emit(i)

    def set_filter(self, chosen: ExampleFilter) -> None:
        if chosen != self.filter:
            self.filter = chosen
            self.filter_changed.emit(chosen)

    # -- files and the run ------------------------------------------------------------------

    def set_files(self, models: int | None = None, has_data: bool | None = None,
                  loading: bool | None = None) -> None:  # fmt: skip
        files = FilesState(
            self.files.models if models is None else models,
            self.files.has_data if has_data is None else has_data,
            self.files.loading if loading is None else loading,
        )
        if files != self.files:
            if self.files.loading and files.ready:  # files opened: Run is what comes next
                self._outcome = None
            self.files = files
            self.files_changed.emit(files)
            self._restate()

    def set_running(self, running: bool, text: str = "Running…") -> None:
        """A run starts (its status replaces any earlier outcome) or ends."""
        if running:
            self._outcome = None
        if running != self.running:
            self.running = running
            self.running_changed.emit(running)
        if running:
            self.say(text)
        else:
            self._restate()

    def say(self, text: str) -> None:
        """A message the status line keeps until the state says something newer."""
        self._outcome = text
        self._show(text)

    def _restate(self) -> None:
        """The status line after a change of files: a run in progress keeps its message."""
        if self.running:
            return
        if self.files.loading:
            self._show(LOADING_TEXT)
        elif self._outcome is not None:
            self._show(self._outcome)
        else:
            self._show(READY_TEXT if self.files.ready else IDLE_TEXT)

    def _show(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)
