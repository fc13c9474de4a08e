"""The `robustness-inspector` console script: the command line's commands, and the window.

Above both front ends, so neither imports the other: the command line parses every
command and runs its own; for `gui` (or no command) it calls back here, and only then do
Qt and the window load. Ctrl-C is handled from the first line (see cli/interrupts.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from functools import partial
from typing import Any

from inspector.cli import interrupts

interrupts.install()  # the console script's entry: the imports below take seconds
with interrupts.exit_on_interrupt():
    from inspector.cli.main import main as run_command
    from inspector.cli.run_options import (
        check_limit,
        model_overrides,
        shapes_threat,
        threat_from_args,
    )


def gui_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `gui` command's flags as GuiOptions fields (Qt is not imported here)."""
    from inspector.gui.run_flags import RunFlags

    check_limit(args.limit)
    flags = RunFlags(
        trust_code=args.trust_code,
        arch=args.arch,
        overrides=model_overrides(args),
        resize=args.resize,
        limit=args.limit,
    )
    return {
        "models": args.model,
        "data": args.data,
        "demo": args.demo,
        "run": args.run,
        "screenshot": args.screenshot,
        "device": args.device,
        "audit": args.audit,
        "threat_flags": partial(threat_from_args, args) if shapes_threat(args) else None,
        "flags": flags,
    }


def open_window(args: argparse.Namespace) -> int:
    """`gui` with its flags, or the demo when no command was given."""
    from inspector.gui.app import GuiOptions, run_gui  # Qt only loads for the window

    if args.command == "gui":
        return run_gui(GuiOptions(**gui_options(args)))
    return run_gui(GuiOptions(demo=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command or open the window; user errors exit 2, Ctrl-C exits 130."""
    return run_command(argv, open_window=open_window)
