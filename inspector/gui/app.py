"""Starting the window: a display or offscreen, the demo or given files, and automation.

`robustness-inspector gui --demo --run --screenshot PATH` runs the demo to the end, saves
a PNG of the window and exits 0. With no display (no DISPLAY / WAYLAND_DISPLAY) the window
runs offscreen, does the same with a default screenshot path, and says so.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inspector.core.threat import ThreatModel
from inspector.gui.run_flags import RunFlags

HEADLESS_SCREENSHOT = Path(tempfile.gettempdir()) / "robustness-inspector" / "demo-window.png"


@dataclass
class GuiOptions:
    models: list[str] = field(default_factory=list)
    data: str | None = None
    demo: bool = False
    run: bool = False
    screenshot: str | None = None
    device: str = "auto"
    audit: str | None = None  # a saved audit or results file to reopen
    # the command line's threat flags, applied over the window's starting threat model
    threat_flags: Callable[[ThreatModel], ThreatModel] | None = None
    flags: RunFlags = field(default_factory=RunFlags)  # trust, model metadata, subset


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def prepare_headless(options: GuiOptions) -> GuiOptions:
    """No screen: say so, run offscreen, and leave a screenshot whose path is printed."""
    if has_display() or os.environ.get("QT_QPA_PLATFORM"):
        return options
    print(
        "robustness-inspector: no display (DISPLAY and WAYLAND_DISPLAY are unset): running "
        "offscreen to the end and saving a screenshot",
        file=sys.stderr,
    )
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    options.run = True
    options.demo = options.demo or not (options.models or options.audit)
    options.screenshot = options.screenshot or str(HEADLESS_SCREENSHOT)
    return options


def run_gui(options: GuiOptions) -> int:
    """A first window at once, the engine imported behind it, then the main window.

    Qt alone loads in well under a second; torch and the core take several (7 s for torch
    on a loaded machine). So the splash is painted first, those imports run on a
    background thread (engine.py), and the main window is built once they are in.
    """
    options = prepare_headless(options)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from inspector.gui.engine import EngineImport
    from inspector.gui.splash import StartupSplash

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Robustness Inspector")
    set_app_icon(app)
    splash = StartupSplash()
    engine = EngineImport(app)
    exit_code: dict = {"code": 0}

    def show_window() -> None:
        try:
            _show_window(app, splash, options, exit_code)
        except BaseException as exc:  # raised below, out of Qt's loop, as before the splash
            exit_code["error"] = exc
            app.quit()

    engine.ready.connect(show_window)
    engine.failed.connect(lambda message, details: _engine_failed(app, splash, message, exit_code))
    splash.painted.connect(engine.start)
    QTimer.singleShot(500, engine.start)  # should a platform never paint the splash
    engine.ready.connect(_ctrl_c_ends_start_up(app))
    splash.show()
    code = app.exec()
    if "error" in exit_code:  # e.g. a bad flag the window refused: the CLI words it
        raise exit_code["error"]
    return exit_code["code"] or code


def _ctrl_c_ends_start_up(app) -> Callable[[], None]:
    """Until the main window is up, Ctrl-C in the terminal ends the process at once with
    the command line's one line and exit code 130, as it did while the imports ran before
    the window; returns the function that gives SIGINT back to its previous handler.

    Qt's event loop runs no Python code of its own, so a timer wakes the interpreter five
    times a second to let the handler run. Nothing is saved yet at this stage.
    """
    import signal
    import threading

    from PySide6.QtCore import QTimer

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(_signum, _frame) -> None:
        with contextlib.suppress(BaseException):
            sys.stderr.write("robustness-inspector: interrupted\n")
            sys.stderr.flush()
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        os._exit(130)  # the engine thread may be inside an import: no interpreter shutdown

    signal.signal(signal.SIGINT, on_sigint)
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)

    def restore() -> None:
        wake.stop()
        wake.deleteLater()
        signal.signal(signal.SIGINT, previous)

    return restore


def _engine_failed(app, splash, message: str, exit_code: dict) -> None:
    """torch or the core would not import: say it in the terminal and in the splash."""
    text = f"The evaluation engine could not be loaded: {message}"
    print(f"robustness-inspector: error: {text}", file=sys.stderr)
    exit_code["code"] = 2
    splash.failed(text + "\nClose this window; run with --debug in a terminal for details.")
    if not has_display():  # offscreen: nobody can close it
        app.quit()


def _show_window(app, splash, options: GuiOptions, exit_code: dict) -> None:
    """The engine is in: build the main window, open the files, drop the splash."""
    from inspector.gui import startup_trace
    from inspector.gui.splash import BUILDING_WINDOW

    splash.say(BUILDING_WINDOW)
    from inspector.gui.main_window import MainWindow
    from inspector.gui.theme import apply_theme

    apply_theme(app)
    window = MainWindow(device=options.device)
    window.flags = options.flags
    keep_collections_short(window)
    _open_initial(window, options)
    if options.screenshot:
        window.resize(1600, 1000)  # the same framing for every automated screenshot
    window.show()
    splash.close()
    splash.deleteLater()
    startup_trace.mark("main_window_shown")
    _when_loaded(window, lambda: startup_trace.mark("files_loaded"))
    if options.run:
        _automate(app, window, options, exit_code)
    elif options.screenshot:
        _screenshot_when_loaded(app, window, options, exit_code)


def _when_loaded(window, then: Callable[[], None]) -> None:
    """Call `then` once the files asked for at start are open (at once if none is pending)."""
    from PySide6.QtCore import QTimer

    if not window.loader.busy:
        QTimer.singleShot(0, then)
        return

    def once() -> None:
        window.loader.idle.disconnect(once)
        then()

    window.loader.idle.connect(once)


def _when_settled(window, then: Callable[[], None], waited_ms: int = 0) -> None:
    """Call `then` once the selected example's saliency maps and scores have arrived (at
    most 30 s): a screenshot shows them, and quitting never leaves their worker running."""
    from PySide6.QtCore import QTimer

    if window.detail.saliency.busy and waited_ms < 30_000:
        QTimer.singleShot(200, lambda: _when_settled(window, then, waited_ms + 200))
    else:
        then()


def _screenshot_when_loaded(app, window, options: GuiOptions, exit_code: dict) -> None:
    """`gui --screenshot PATH` without --run: the window once its files are open, then exit."""
    from PySide6.QtCore import QTimer

    def load_failed(_job, message: str, _details: str) -> None:
        print(f"robustness-inspector: error: {message}", file=sys.stderr)
        exit_code["code"] = 2

    def save_and_quit() -> None:
        _save_screenshot(window, options.screenshot)
        app.quit()

    def shoot() -> None:  # a reopened audit's models compute the selected example's maps
        QTimer.singleShot(200, lambda: _when_settled(window, save_and_quit))

    def failed(message: str, _details: str = "") -> None:
        load_failed(None, message, _details)
        app.quit()

    window.loader.failed.connect(load_failed)
    if options.audit:  # the audit's saved results show once its sources are checked
        window.documents.failed.connect(failed)
        window.documents.sourcesChecked.connect(lambda _statuses: _when_loaded(window, shoot))
    else:
        _when_loaded(window, shoot)


def _save_screenshot(window, screenshot: str | None) -> None:
    if screenshot:
        path = Path(screenshot)
        path.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path))
        print(f"screenshot written to {path}")


def set_app_icon(app) -> None:
    """The hand-drawn icon (SVG + rendered PNGs) for every window; the desktop id lets a
    Wayland desktop match the window to its installed entry (--install-desktop-entry)."""
    from PySide6.QtGui import QIcon

    from inspector.core.package_data import APP_ID, ICON_SIZES, icon_file

    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(icon_file(size)))
    app.setWindowIcon(icon)
    app.setDesktopFileName(APP_ID)


def keep_collections_short(window) -> None:
    """Keep what startup and file loading created out of the garbage collector's full passes.

    With the demo loaded the interpreter tracks ~530,000 objects (modules, Qt wrappers, the
    models' graphs), and a full collection of them took 380-410 ms: a frozen window
    whenever one fell due, during a run or a slider drag. Objects alive when the process
    starts or a load finishes are frozen (gc.freeze), so later collections scan only what
    came after. The cost: reference cycles among frozen objects are never collected (a
    model removed later may keep a few kilobytes). Not done in tests, whose leak checks
    need the collector to see every window's cycles.
    """
    gc.freeze()
    window.loader.idle.connect(gc.freeze)


def _open_initial(window, options: GuiOptions) -> None:
    from inspector.core.demo import DEMO_THREAT

    # automated runs and screenshots are reproducible; interactive sessions resume the last
    # threat model and offer a crashed session's results
    automated = options.run or bool(options.screenshot)
    threat = DEMO_THREAT if automated else (window.saved_threat() or DEMO_THREAT)
    if options.threat_flags is not None:  # the command line wins
        threat = options.threat_flags(threat)
    window.setup.set_threat(threat)
    if options.audit:
        window.documents.open_path(options.audit)
        return
    if options.demo or (not options.models and not options.data):
        window.load_demo(threat)
        if not automated:
            window.documents.offer_recovery()
        return
    if options.data:
        window.open_data(options.data)
    for path in options.models:
        window.add_model(path)


def _automate(app, window, options: GuiOptions, exit_code: dict) -> None:
    """After the run: screenshot, print where it is, quit; a failure exits with code 2."""
    from PySide6.QtCore import QTimer

    def save_and_quit() -> None:
        _save_screenshot(window, options.screenshot)
        app.quit()

    def finish(_results=None) -> None:
        QTimer.singleShot(200, lambda: _when_settled(window, save_and_quit))

    def failed(message: str, _details: str = "") -> None:
        print(f"robustness-inspector: error: {message}", file=sys.stderr)
        exit_code["code"] = 2
        app.quit()

    if options.audit:  # reopen, show, screenshot: nothing is recomputed

        def shown(_statuses) -> None:
            if window.loader.busy:
                window.loader.idle.connect(finish)
            else:
                finish()

        window.documents.sourcesChecked.connect(shown)
        window.documents.failed.connect(failed)
        return

    def load_failed(_job, message: str, _details: str) -> None:
        print(f"robustness-inspector: error: {message}", file=sys.stderr)
        exit_code["code"] = 2

    def check_loaded() -> None:
        if not window.models or window.dataset is None:
            exit_code["code"] = 2
            print(
                "robustness-inspector: error: nothing to run (no model or no dataset)",
                file=sys.stderr,
            )
            app.quit()
        elif exit_code["code"]:  # a file failed to open: do not run a part of what was asked
            app.quit()
        else:
            window.run()

    window.runner.finished.connect(finish)
    window.runner.failed.connect(failed)
    window.loader.failed.connect(load_failed)
    if window.loader.busy:
        window.loader.idle.connect(check_loaded)
    else:
        QTimer.singleShot(0, check_loaded)
