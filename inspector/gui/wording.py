"""The core's hints as the window says them: what to do from the window, with no flags.

The core's errors name no front end's controls; an error that one setting fixes carries
a hint (core/errors.py). The window words it as a menu action or a set-up control where
it has one. For trust, a network factory, resizing and the device it has none: those are
chosen when the window is started, so its words say that in plain language and leave the
flags to the command line's own help (a dialog is no place to type `--trust-code`).
Every dialog the window shows goes through `for_window`: wording lives here only.
"""

from __future__ import annotations

from inspector.core.errors import HintKind, InspectorError, Wording

_EXPORT = "or export the model as .pt2 (torch.export) or .onnx and open that"
_FACTORY = (
    "start the window from the command line naming the network's factory "
    "(package.module:factory) and allowing code to run"
)

WINDOW_WORDS: Wording = {
    HintKind.TRUST_CODE: (
        "the window runs code from a file only when it was started from the command line "
        f"with code allowed to run; do that only if you trust its source, {_EXPORT}"
    ),
    HintKind.TRUST_ARCH: (
        "the window imports a network factory only when it was started from the command line "
        "with code allowed to run; do that only if you trust the factory's source"
    ),
    HintKind.ARCH_FOR_STATE_DICT: (
        f"weights alone need their network's code: {_FACTORY}, only if you trust it; {_EXPORT}"
    ),
    HintKind.CHECK_ARCH: "check the network factory the window was started with",
    HintKind.SUPPORTED_FORMATS: (
        "the window opens .pt2 (torch.export), .pt/.ts/.pth (TorchScript) and .onnx models; "
        f"weights alone (a state_dict) only when you {_FACTORY}"
    ),
    HintKind.RESIZE: (
        "open a dataset whose images match the model (File ▸ Open Dataset), or start the "
        "window from the command line with resizing allowed"
    ),
    HintKind.INPUT_SHAPE: (
        'put "input_shape": [C, H, W] in a sidecar {detail} and open the model again'
    ),
    HintKind.DEVICE_CPU: "start the window on the cpu device (or auto) from the command line",
    HintKind.EPS_LIST: "set the ε maximum and the ε grid points in the set-up panel",
    HintKind.SHARD_PARTS: "merge only the parts a sharded run wrote (the merge command)",
    HintKind.SAME_EXAMPLES: (
        "another subset size or shard: resume with the same options, or give another folder"
    ),
    HintKind.NORMALISATION: (
        "set its normalisation to mean {mean}, std {std}: put them in its metadata "
        '("mean", "std" in a sidecar) and open the model again'
    ),
    HintKind.CHECK_NORMALISATION: (
        "check its normalisation: the mean and std in its metadata (a sidecar)"
    ),
}


def one_line(text: str) -> str:
    """A dialog's message on one line: a hostile file's name or text may hold newlines."""
    return " ".join(text.split())


def for_window(error: BaseException | str) -> str:
    """An error (or a message already worded) as a dialog should say it: one line."""
    if isinstance(error, InspectorError):
        return one_line(error.worded(WINDOW_WORDS))
    return one_line(str(error))
