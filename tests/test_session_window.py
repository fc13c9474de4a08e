"""The window's one status line, told by the session: no stale text from an earlier state.

Before the session model, "Ready: press Run" could replace a running run's line (a file
finished opening) and the set-up panel kept "Run partial (cancelled)." into the next run.
"""

from __future__ import annotations

from gui_support import (  # noqa: F401  (fixtures are used by name)
    SLOW,
    SMALL,
    _no_leaked_widgets,
    _private_settings,
    demo_window,
)

from inspector.core.session import READY_TEXT


def test_status_line_follows_the_run_not_an_earlier_state(qtbot):
    window = demo_window(qtbot)
    seen: list[str] = []
    window.statusBar().messageChanged.connect(lambda text: text and seen.append(text))
    assert window.statusBar().currentMessage() == READY_TEXT
    window.setup.set_threat(SLOW)
    with qtbot.waitSignal(window.runner.epsFinished, timeout=120_000):
        window.run()
    window.session.set_files(loading=True)  # a file opening during the run...
    window.session.set_files(loading=False)  # ...and done: the run keeps the line
    assert window.statusBar().currentMessage().startswith("Running: ")
    qtbot.waitUntil(lambda: "model 1 of 3" in window.statusBar().currentMessage(), timeout=30_000)
    with qtbot.waitSignal(window.runner.runningChanged, timeout=5000):
        window.cancel()
    assert window.statusBar().currentMessage().startswith("Run partial (cancelled) in ")
    assert window.setup.progress_text.text() == "Run partial (cancelled)."
    assert READY_TEXT not in seen[1:]  # never while a run was going on
    seen.clear()
    window.setup.set_threat(SMALL)
    with qtbot.waitSignal(window.runner.runningChanged, timeout=5000):
        window.run()
    # the next run: its own line at once, and the panel's old outcome is gone
    assert "partial" not in window.statusBar().currentMessage()
    assert window.setup.progress_text.text() != "Run partial (cancelled)."
    qtbot.waitUntil(lambda: not window.runner.running, timeout=120_000)
    assert window.statusBar().currentMessage().startswith("Run complete in ")
    assert not any("partial" in text for text in seen)
