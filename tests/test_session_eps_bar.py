"""The ε slider writes the session's cursor and every panel hears of a move once.

The old window ran its ε-value handler twice when a fine-step move (FMN radii) crossed a
grid point: once for the value, once more from the grid-point handler. A stub view stands
in for results here: only what the bar reads of a view is needed."""

from __future__ import annotations

from types import SimpleNamespace

from inspector.core.metrics import Rates
from inspector.core.session import EpsCursor, Session
from inspector.gui.eps_bar import FINE_STEPS, EpsBar

GRID = (0.0, 0.1, 0.2, 0.3)


class StubView:
    """Two models whose radii give rates at every ε (as FMN results do), or none."""

    def __init__(self, radii: bool) -> None:
        self.eps = GRID
        self.threat = SimpleNamespace(norm="linf")
        info = SimpleNamespace(name="m")
        self.models = [SimpleNamespace(info=info), SimpleNamespace(info=info)]
        self.radii = radii

    def rates(self, i: int, k: int) -> Rates:
        return Rates(GRID[k], 0.9, 0.9 - GRID[k], GRID[k], 0.1)

    def rates_between(self, i: int, eps: float) -> Rates | None:
        return Rates(eps, 0.9, 0.9 - eps, eps, 0.1) if self.radii else None

    def warning(self, i: int) -> None:
        return None


def counted(session: Session) -> tuple[list, list]:
    moves: list[EpsCursor] = []
    points: list[int] = []
    session.eps_changed.connect(moves.append)
    session.eps_index_changed.connect(points.append)
    return moves, points


def test_fine_steps_cross_a_grid_point_with_one_event_each(qtbot):
    session = Session()
    bar = EpsBar(session)
    qtbot.addWidget(bar)
    session.set_view(StubView(radii=True), eps_index=1)
    assert bar.fine and bar.slider.maximum() == FINE_STEPS
    assert bar.slider.value() == FINE_STEPS // 3  # ε = 0.1 of 0.3
    moves, points = counted(session)
    bar.slider.setValue(150)  # ε = 0.15: inside the cell
    assert [m.index for m in moves] == [1] and points == []
    assert abs(bar.eps_value - 0.15) < 1e-12 and bar.eps_index == 1
    bar.slider.setValue(220)  # ε = 0.22: past 0.2
    assert len(moves) == 2 and points == [2]
    assert "ε = 0.22" in bar.value_label.text() and "robust ≤ 68.0%" in bar.headline.text()


def test_grid_steps_and_set_eps_index_move_the_slider(qtbot):
    session = Session()
    bar = EpsBar(session)
    qtbot.addWidget(bar)
    session.set_view(StubView(radii=False))
    assert not bar.fine and bar.slider.maximum() == 3 and bar.eps_index == 2  # the middle
    moves, points = counted(session)
    bar.slider.setValue(3)
    assert moves == [EpsCursor(3, 0.3, False)] and points == [3]
    bar.set_eps_index(0)  # from the window (a restored audit): the slider follows
    assert bar.slider.value() == 0 and points == [3, 0] and len(moves) == 2
    bar.slider.setValue(0)  # where it is: nothing told
    assert len(moves) == 2
