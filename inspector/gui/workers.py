"""Starting a superqt worker for one function call, and letting go of it afterwards.

A closure connected to a worker's signal refers back to the worker through Qt, a cycle
Python's collector cannot see: without `release` every finished worker (and the window its
closures name) would stay in memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from superqt.utils import FunctionWorker, create_worker


def start_worker(
    function: Callable,
    *args: Any,
    returned: Callable[[Any], None],
    errored: Callable[[BaseException], None],
    finished: Callable[[], None],
) -> FunctionWorker:
    """Run `function(*args)` on the thread pool; the callbacks run on the GUI thread."""
    worker = create_worker(function, *args, _start_thread=False, _ignore_errors=True)
    worker.returned.connect(returned)
    worker.errored.connect(errored)
    worker.finished.connect(finished)
    worker.start()
    return worker


def release(worker: FunctionWorker | None) -> None:
    """Disconnect a finished worker's signals (see the module docstring)."""
    if worker is None or getattr(worker, "_released", False):
        return
    worker._released = True
    for signal in (worker.returned, worker.errored, worker.finished):
        with contextlib.suppress(RuntimeError, TypeError):
            signal.disconnect()
