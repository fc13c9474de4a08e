"""Ctrl-C, from the very first import to the last write: one line, exit code 130.

Why a handler of our own: torch can turn a KeyboardInterrupt raised inside a TorchScript
call into a RuntimeError, and a loader may wrap that in an `InspectorError`, so the
exception alone does not always say that the user pressed Ctrl-C. The handler behaves
like Python's default (it raises KeyboardInterrupt) and also records that SIGINT came.
This module imports nothing heavy, so the entry points can install it before torch loads.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import NoReturn

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a process ended by Ctrl-C
MESSAGE = "robustness-inspector: interrupted"

_state = {"interrupted": False, "reporting": False}


def _on_sigint(signum, frame) -> None:
    _state["interrupted"] = True
    if not _state["reporting"]:  # once the line is being printed, more Ctrl-C change nothing
        raise KeyboardInterrupt


def install() -> None:
    """Record every SIGINT from now on (and raise KeyboardInterrupt, as Python does).

    Leaves a handler someone else installed (e.g. SIG_IGN in a background job) alone,
    and does nothing off the main thread, where signals cannot be handled.
    """
    _state["interrupted"] = _state["reporting"] = False
    if threading.current_thread() is not threading.main_thread():
        return
    current = signal.getsignal(signal.SIGINT)
    if current in (signal.default_int_handler, _on_sigint):
        signal.signal(signal.SIGINT, _on_sigint)


def was_interrupted(exc: BaseException) -> bool:
    """Did `exc` come from Ctrl-C: SIGINT recorded, or a KeyboardInterrupt in its chain?"""
    if _state["interrupted"]:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def interrupted() -> bool:
    """Has SIGINT come since `install()`? (Work that swallowed the exception checks this.)"""
    return _state["interrupted"]


def report() -> int:
    """Print the one line and give the exit code; a second Ctrl-C here changes nothing."""
    _state["reporting"] = True
    with contextlib.suppress(BaseException):
        sys.stderr.write(MESSAGE + "\n")
        sys.stderr.flush()
    return EXIT_INTERRUPTED


def exit_process(code: int = EXIT_INTERRUPTED) -> NoReturn:
    """End the process with `code` after the exit handlers, bypassing the interpreter's exit.

    Why not sys.exit: once a KeyboardInterrupt has passed through code that an extension
    module ran from C during its import, CPython kills itself with SIGINT at exit, however
    the exception was handled; the shell then sees a signal (-2) instead of 130.
    """
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    os._exit(code)


@contextlib.contextmanager
def exit_on_interrupt() -> Iterator[None]:
    """Around module-level imports: Ctrl-C there exits with the one line, not a traceback."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, SystemExit) or not was_interrupted(exc):
            raise
        exit_process(report())
