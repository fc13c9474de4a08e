"""The core's hints as the command line's flags: what to pass to fix an error.

The core's errors name no flag (core/errors.py); this table says each hint as the flags
that fix it, so the one-line message is as precise as when the core named them itself.
"""

from __future__ import annotations

from inspector.core.errors import HintKind, InspectorError, Wording

CLI_WORDS: Wording = {
    HintKind.TRUST_CODE: "pass --trust-code only if you trust its source",
    HintKind.TRUST_ARCH: "pass --trust-code with --arch only if you trust it",
    HintKind.ARCH_FOR_STATE_DICT: (
        "to build the network pass --arch package.module:factory --trust-code "
        "(importing the module runs its code)"
    ),
    HintKind.CHECK_ARCH: "check --arch",
    HintKind.SUPPORTED_FORMATS: (
        "supported: .pt2 (torch.export), .pt/.ts/.pth (TorchScript), .pt/.pth state_dict "
        "(with --arch package.module:factory --trust-code), .onnx"
    ),
    HintKind.RESIZE: "pass --resize to resize them, or use matching data",
    HintKind.INPUT_SHAPE: (
        'pass --input-shape C,H,W or put "input_shape": [C, H, W] in a sidecar {detail}'
    ),
    HintKind.DEVICE_CPU: "use --device cpu (or auto)",
    HintKind.EPS_LIST: "give e.g. --eps 0,2/255,4/255,8/255",
    HintKind.SHARD_PARTS: "merge only --shard parts",
    HintKind.SAME_EXAMPLES: (
        "another --limit or --shard? resume with the same options, or give another folder"
    ),
    HintKind.NORMALISATION: (
        "set its normalisation (--mean {mean} --std {std}, or mean/std in its metadata)"
    ),
    HintKind.CHECK_NORMALISATION: (
        "check its normalisation (--mean and --std, or mean/std in its metadata)"
    ),
}


def cli_message(exc: BaseException) -> str:
    """An error as the command line prints it: its hint, if any, as flags."""
    return exc.worded(CLI_WORDS) if isinstance(exc, InspectorError) else str(exc)
