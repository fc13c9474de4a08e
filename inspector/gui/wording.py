"""Core messages speak the command line's language; the window says the same in its own.

The core's errors name flags (`--trust-code`, `--resize`, ...) because the CLI is where
they are fixed. In a dialog those flags mean nothing, so each is restated as what to do
from the window, keeping the flag only where the command line is the one way to do it.
"""

from __future__ import annotations

import re

_PHRASES = (
    (
        "pass --trust-code only if you trust its source",
        "the window never runs code from a file; if you trust its source, evaluate it from "
        "the command line (robustness-inspector evaluate --trust-code)",
    ),
    (
        "pass --resize to resize them, or use matching data",
        "open a dataset whose images match the model (the command line can resize them: "
        "robustness-inspector evaluate --resize)",
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
        "the window cannot build a network from weights alone: export the model as a .pt2 "
        "(torch.export) or .onnx file, or evaluate it from the command line with --arch and "
        "--trust-code",
        message,
    )
