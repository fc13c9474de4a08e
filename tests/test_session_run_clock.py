"""The run's clock: model k of n, this model's ETA and the whole run's, from progress events."""

from __future__ import annotations

from inspector.core.run_clock import RunClock, clock
from inspector.core.sweep import Progress


def test_estimates_follow_the_models():
    t = [100.0]
    run = RunClock(3, now=lambda: t[0])
    t[0] = 110.0  # 10 s into model 1: 25 of 100 done, 2.5/s
    e = run.update(Progress(0, "a", "attack", 0.1, 25, 100))
    assert (e.model, e.models, e.rate, e.eta) == (1, 3, 2.5, 30.0)
    assert e.total_eta == 30.0 + 2 * 40.0  # two more models of 40 s each
    assert e.text() == "model 1 of 3 · ETA 0:30 · run ETA 1:50"
    e = run.update(Progress(2, "c", "attack", 0.1, 0, 100))  # model 3 starts now
    assert (e.model, e.eta, e.total_eta) == (3, 0.0, 0.0)
    t[0] = 114.0
    e = run.update(Progress(2, "c", "attack", 0.1, 50, 100))
    assert (e.eta, e.total_eta) == (4.0, 4.0) and run.elapsed == 14.0


def test_clock_text():
    assert [clock(s) for s in (0, 59.4, 61, 3600, -3)] == ["0:00", "0:59", "1:01", "60:00", "0:00"]
