"""The evented session model, without Qt: values, and how many times each change is told."""

from __future__ import annotations

from inspector.core.session import (
    IDLE_TEXT,
    LOADING_TEXT,
    READY_TEXT,
    EpsCursor,
    ExampleChoice,
    ExampleFilter,
    Session,
    grid_index,
)

GRID = (0.0, 0.1, 0.2, 0.3)


def recorder(session: Session) -> dict[str, list]:
    seen: dict[str, list] = {}
    for name in (
        "eps_changed",
        "eps_index_changed",
        "example_changed",
        "model_changed",
        "filter_changed",
        "files_changed",
        "running_changed",
        "status_changed",
    ):
        seen[name] = []
        getattr(session, name).connect(seen[name].append)
    return seen


def test_grid_index_is_the_point_at_or_below():
    assert [grid_index(GRID, v) for v in (0.0, 0.05, 0.1, 0.1 - 1e-14, 0.29, 0.3, 9.0)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
    ]


def test_grid_moves_emit_once_each():
    s = Session()
    s.set_grid(GRID, fine=False, index=2)
    seen = recorder(s)
    s.set_eps_index(1)
    assert s.eps == EpsCursor(1, 0.1, False)
    assert seen["eps_changed"] == [EpsCursor(1, 0.1, False)] and seen["eps_index_changed"] == [1]
    s.set_eps_index(1)  # no change: nothing told
    s.set_eps_index(7)  # outside the grid: ignored
    assert len(seen["eps_changed"]) == 1 and len(seen["eps_index_changed"]) == 1
    s.set_eps_value(0.25)  # on the grid, a value snaps to the point at or below
    assert s.eps == EpsCursor(2, 0.2, False) and seen["eps_index_changed"] == [1, 2]


def test_fine_move_across_a_grid_point_is_told_once():
    """The old window ran its ε-value handler twice when a fine move crossed a grid point."""
    s = Session()
    s.set_grid(GRID, fine=True, index=1)
    assert s.eps == EpsCursor(1, 0.1, True)
    seen = recorder(s)
    s.set_eps_value(0.15)  # inside the cell: the value moves, the grid point stays
    assert seen["eps_changed"] == [EpsCursor(1, 0.15, True)] and seen["eps_index_changed"] == []
    s.set_eps_value(0.22)  # crosses 0.2: one ε event and one grid-point event
    assert seen["eps_changed"] == [EpsCursor(1, 0.15, True), EpsCursor(2, 0.22, True)]
    assert seen["eps_index_changed"] == [2]


def test_new_results_keep_the_cursor():
    s = Session()
    s.set_grid(GRID, fine=True, index=0)
    s.set_eps_value(0.17)
    seen = recorder(s)
    s.set_grid(GRID, fine=True)  # a refresh with fine steps still possible: ε stays
    assert s.eps == EpsCursor(1, 0.17, True) and seen["eps_changed"] == []
    s.set_grid(GRID, fine=False)  # fine steps lost: back to the grid point at or below
    assert s.eps == EpsCursor(1, 0.1, False) and len(seen["eps_changed"]) == 1
    assert seen["eps_index_changed"] == []
    s.set_grid(GRID[:2], fine=False, index=3)  # clamped to a shorter grid
    assert s.eps == EpsCursor(1, 0.1, False)


def test_selection_model_and_filter_emit_on_change_only():
    s = Session()
    seen = recorder(s)
    s.set_example(4)
    s.set_example(4)
    s.set_example(4, hidden=True)
    s.set_example(None, hidden=True)  # no example cannot be hidden
    assert seen["example_changed"] == [
        ExampleChoice(4, False),
        ExampleChoice(4, True),
        ExampleChoice(None, False),
    ]
    s.set_model(0)
    s.set_model(2)
    assert seen["model_changed"] == [2] and s.model == 2
    s.set_filter(ExampleFilter(status="boundary_error"))
    s.set_filter(ExampleFilter(status="boundary_error"))
    assert seen["filter_changed"] == [ExampleFilter(status="boundary_error")]


def test_files_state_drives_the_status_line():
    s = Session()
    seen = recorder(s)
    assert s.status == IDLE_TEXT and not s.files.ready
    s.set_files(loading=True)
    s.set_files(models=1, has_data=True, loading=False)
    assert s.files.has_model and s.files.has_data and s.files.ready
    assert seen["status_changed"] == [LOADING_TEXT, READY_TEXT]
    assert len(seen["files_changed"]) == 2
    s.say("Audit saved to a.audit")
    s.set_files(loading=True)
    s.set_files(loading=False)  # opened: ready again, the old message is done
    assert s.status == READY_TEXT


def test_a_run_replaces_stale_status_text():
    s = Session()
    s.set_files(models=1, has_data=True)
    s.set_running(True, "Running: 2 models")
    assert s.status == "Running: 2 models"
    s.set_files(loading=True)  # a file opening during the run does not take the line
    s.set_files(loading=False)
    assert s.status == "Running: 2 models"
    s.say("Run partial (cancelled) in 1.0 s")
    s.set_running(False)
    assert s.status == "Run partial (cancelled) in 1.0 s"
    s.set_running(True)  # the next run: the old outcome is gone at once
    assert s.status == "Running…" and s.running


def test_disconnected_callbacks_are_not_called():
    s = Session()
    seen: list[int] = []
    s.model_changed.connect(seen.append)
    s.model_changed.disconnect(seen.append)
    s.model_changed.disconnect(seen.append)  # twice: harmless
    s.set_model(1)
    assert seen == []


class _Computed:
    """A view whose models have computed the first `done[i]` grid points."""

    def __init__(self, done: list[int]) -> None:
        self.eps, self.models, self.done = GRID, [object()] * len(done), done

    def eps_done(self, i: int) -> int:
        return self.done[i]

    def rates_between(self, i: int, eps: float) -> None:
        return None


def test_computed_eps_is_the_cursor_where_some_model_reached_it():
    s = Session()
    assert s.computed_eps() is None
    s.set_view(_Computed([1, 3]), eps_index=2)  # the second model has reached ε = 0.2
    assert s.eps == EpsCursor(2, 0.2, False) and s.computed_eps() == 0.2
    s.set_eps_index(3)  # no model has ε = 0.3 yet
    assert s.computed_eps() is None
