"""The one exception type for mistakes the user can fix, and the hints that say how.

The CLI prints its message as one line and exits with code 2; the GUI shows it in a
dialog. Anything else escaping the core is a bug and keeps its traceback.

The core names no front end's controls, not even in a message: an error that one flag or
setting fixes carries a `Hint` saying which, and each front end words it its own way
(cli/hints.py as flags, gui/wording.py as what to do from the window). `str()` gives the
core's own wording, which names no flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum


class HintKind(Enum):
    """What fixes an error, by intent; the value is the core's own wording ({detail} filled)."""

    TRUST_CODE = "allow code to run only if you trust its source"
    TRUST_ARCH = "allow code to run too if you trust it"
    ARCH_FOR_STATE_DICT = (
        "to build the network name its factory (package.module:factory) and allow code to "
        "run (importing the module runs its code)"
    )
    CHECK_ARCH = "check the network factory given"
    SUPPORTED_FORMATS = (
        "supported: .pt2 (torch.export), .pt/.ts/.pth (TorchScript), .pt/.pth state_dict "
        "(with its network's package.module:factory, trusted), .onnx"
    )
    RESIZE = "resize them to the model's input, or use matching data"
    INPUT_SHAPE = (
        'give the input shape (C,H,W) or put "input_shape": [C, H, W] in a sidecar {detail}'
    )
    DEVICE_CPU = "use the cpu device (or auto)"
    EPS_LIST = "give e.g. 0,2/255,4/255,8/255"
    SHARD_PARTS = "merge only the parts of a sharded run"
    SAME_EXAMPLES = (
        "another subset size or shard: resume with the same options, or give another folder"
    )
    # a check's finding rather than an error: {mean} and {std} per channel (Hint.values)
    NORMALISATION = "set its normalisation (mean {mean}, std {std}, or mean/std in its metadata)"
    CHECK_NORMALISATION = "check its normalisation (mean/std in its metadata)"


@dataclass(frozen=True)
class Hint:
    """One way out of an error, with the one value some kinds need (a file name, numbers),
    and named values for kinds that need several (`values`: ("mean", "0,0,0"), ...)."""

    kind: HintKind
    detail: str = ""
    values: tuple[tuple[str, str], ...] = ()


class _Blank(dict):
    """Format values where a name the template uses is absent: blank, not a KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


Wording = Mapping[HintKind, str]
"""A front end's words for each hint kind: a template that may use {detail}."""

CORE_WORDS: Wording = {kind: kind.value for kind in HintKind}


def word_hint(hint: Hint, words: Wording) -> str:
    """The hint in one front end's words (the core's where that front end has none)."""
    template = words.get(hint.kind, CORE_WORDS[hint.kind])
    return template.format_map(_Blank(hint.values, detail=hint.detail))


class InspectorError(Exception):
    """A user-facing error: bad input, a refused action, a mismatch. Message says what to do.

    `message` says what went wrong; `hint`, when given, what fixes it (joined after "; ").
    """

    def __init__(self, message: str, hint: Hint | HintKind | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = Hint(hint) if isinstance(hint, HintKind) else hint

    def __str__(self) -> str:
        return self.worded(CORE_WORDS)

    def __reduce__(self):  # the hint survives pickling (worker processes, torchrun ranks)
        return (type(self), (self.message, self.hint))

    def worded(self, words: Wording) -> str:
        """The whole message with the hint in a front end's words."""
        if self.hint is None:
            return self.message
        return f"{self.message}; {word_hint(self.hint, words)}"
