"""Core messages speak the command line's language; the window says the same in its own.

The core's errors name flags (`--trust-code`, `--resize`, ...) because the CLI is where
they are fixed. In a dialog those flags mean nothing, so each is restated as what to do
from the window, naming the `gui` flag where starting the window with it is the way.
"""

from __future__ import annotations

import re

_PHRASES = (
    (
        "pass --trust-code only if you trust its source",
        "the window runs code from a file only when started from the command line with "
        "--trust-code (robustness-inspector gui --trust-code --model PATH); do that only if "
        "you trust its source",
    ),
    (
        "pass --resize to resize them, or use matching data",
        "open a dataset whose images match the model, or start the window with --resize "
        "(robustness-inspector gui --resize)",
    ),
    ("pass --input-shape C,H,W or put", "put"),
    ("use --device cpu (or auto)", "start the window with --device cpu (or auto)"),
)
_STATE_DICT = re.compile(r"to build the network pass --arch \S+ --trust-code")


def for_window(message: str) -> str:
    """The message as a dialog should say it."""
    for cli, window in _PHRASES:
        message = message.replace(cli, window)
    return _STATE_DICT.sub(
        "the window builds a network from weights alone only when started from the command "
        "line with --arch PKG.MODULE:FACTORY --trust-code; otherwise export the model as a "
        ".pt2 (torch.export) or .onnx file",
        message,
    )
