"""The core's hints as the window says them: what to do from the window.

The core's errors name no front end's controls; an error that one setting fixes carries
a hint (core/errors.py). The window words it as a menu action or a set-up control where
it has one; it has none for trust, architecture, resizing or device, so for those its
words name starting the window with the flag that sets them.
"""

from __future__ import annotations

from inspector.core.errors import HintKind, InspectorError, Wording

_ARCH = "robustness-inspector gui --arch PKG.MODULE:FACTORY --trust-code --model PATH"

WINDOW_WORDS: Wording = {
    HintKind.TRUST_CODE: (
        "the window runs code from a file only when started from the command line with "
        "--trust-code (robustness-inspector gui --trust-code --model PATH); do that only if "
        "you trust its source"
    ),
    HintKind.TRUST_ARCH: (
        f"the window imports a network factory only when started with --trust-code ({_ARCH}); "
        "do that only if you trust it"
    ),
    HintKind.ARCH_FOR_STATE_DICT: (
        "the window builds a network from weights alone only when started from the command "
        "line with --arch PKG.MODULE:FACTORY --trust-code; otherwise export the model as a "
        ".pt2 (torch.export) or .onnx file"
    ),
    HintKind.CHECK_ARCH: f"check the factory the window was started with ({_ARCH})",
    HintKind.SUPPORTED_FORMATS: (
        "supported: .pt2 (torch.export), .pt/.ts/.pth (TorchScript), .onnx, and a .pt/.pth "
        "state_dict when the window is started with --arch PKG.MODULE:FACTORY --trust-code"
    ),
    HintKind.RESIZE: (
        "open a dataset whose images match the model (File ▸ Open Dataset…), or start the "
        "window with --resize (robustness-inspector gui --resize)"
    ),
    HintKind.INPUT_SHAPE: (
        'put "input_shape": [C, H, W] in a sidecar {detail}, or start the window with '
        "--input-shape C,H,W"
    ),
    HintKind.DEVICE_CPU: "start the window with --device cpu (or auto)",
    HintKind.EPS_LIST: "set the ε maximum and the ε grid points in the set-up panel",
    HintKind.SHARD_PARTS: "merge only the parts a sharded run wrote (robustness-inspector merge)",
    HintKind.SAME_EXAMPLES: (
        "another subset size or shard: resume with the same options, or give another folder"
    ),
    HintKind.NORMALISATION: (
        "set its normalisation: start the window with --mean {mean} --std {std}, or "
        "put mean/std in its metadata"
    ),
    HintKind.CHECK_NORMALISATION: (
        "check its normalisation: start the window with --mean and --std, or put mean/std "
        "in its metadata"
    ),
}


def for_window(error: BaseException | str) -> str:
    """An error (or a message already worded) as a dialog should say it."""
    if isinstance(error, InspectorError):
        return error.worded(WINDOW_WORDS)
    return str(error)
