"""Cancel that reaches inside one forward pass, for models built of torch submodules.

Why: the sweep checks `cancel` before every batch and attack step, but a single forward
pass of a large model can take a minute (and chunked forwards loop inside it), so Cancel
could wait that long. While an evaluation works on a model, a forward pre-hook on each of
its submodules raises `Cancelled` once cancel is asked for. Only in the thread that runs
the evaluation: the window may use the same module elsewhere (saliency) at the same time.
Compiled programs (TorchScript) take no Python hooks; they keep the per-step checks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

from inspector.core.attacks.base import CancelCheck, Cancelled


@contextlib.contextmanager
def cancel_inside(module: torch.nn.Module | None, cancel: CancelCheck | None) -> Iterator[None]:
    """While the block runs, every submodule call in this thread first checks `cancel`."""
    if module is None or cancel is None:
        yield
        return
    owner = threading.get_ident()

    def check(_module, _inputs) -> None:
        if threading.get_ident() == owner and cancel():
            raise Cancelled()

    handles = []
    for sub in module.modules():
        if isinstance(sub, torch.jit.ScriptModule):
            continue
        with contextlib.suppress(RuntimeError):
            handles.append(sub.register_forward_pre_hook(check))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
