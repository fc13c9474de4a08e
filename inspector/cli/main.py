"""`robustness-inspector`: evaluate models under attack from a script.

User errors (bad files, mismatches, bad flags) print one line on stderr and exit with
code 2; `--debug` shows the traceback. Ctrl-C at any moment, the imports below included,
prints "robustness-inspector: interrupted" and exits with code 130 (see interrupts.py).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from inspector.cli import interrupts

interrupts.install()  # this module is the console script's entry: its imports take seconds
with interrupts.exit_on_interrupt():
    from inspector import __version__
    from inspector.cli.desktop import add_desktop_arguments
    from inspector.cli.evaluate_parser import add_evaluate_parser
    from inspector.cli.gui_command import add_gui_parser
    from inspector.cli.hints import cli_message
    from inspector.cli.merge_command import add_merge_parser
    from inspector.cli.progress import ProgressLine
    from inspector.cli.report_command import add_report_parser
    from inspector.cli.run_options import threat_from_args
    from inspector.cli.saliency_command import add_saliency_parser
    from inspector.cli.table import summary_table
    from inspector.core.errors import InspectorError

EXIT_USER_ERROR = 2

WindowOpener = Callable[[argparse.Namespace], int]
"""Opens the window for `gui` (or no command); given by inspector.launch, above both front ends."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line, exit code 2, like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InspectorError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="robustness-inspector", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    add_desktop_arguments(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    add_evaluate_parser(sub)
    add_gui_parser(sub)
    add_report_parser(sub)
    add_saliency_parser(sub)
    add_merge_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None, open_window: WindowOpener | None = None) -> int:
    """Run one command; user errors exit 2, Ctrl-C exits 130, one line each.

    The command line does not import the window: `open_window` (inspector.launch's) does.
    """
    try:
        interrupts.install()
        return _run(list(sys.argv[1:] if argv is None else argv), open_window)
    except BaseException as exc:
        if isinstance(exc, SystemExit) or not interrupts.was_interrupted(exc):
            raise
        code = interrupts.report()
    if argv is None:  # the process's entry point (the console script): see exit_process
        interrupts.exit_process(code)
    return code


def _run(argv: list[str], open_window: WindowOpener | None) -> int:
    debug = "--debug" in argv
    try:
        return _dispatch(build_parser().parse_args(argv), open_window)
    except InspectorError as exc:
        if interrupts.was_interrupted(exc):  # e.g. a loader's message about a Ctrl-C
            raise
        if debug:
            traceback.print_exc()
        print(f"robustness-inspector: error: {cli_message(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR


def _dispatch(args: argparse.Namespace, open_window: WindowOpener | None) -> int:
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        from inspector.cli.desktop import run_desktop_entry

        return run_desktop_entry(install_it=args.install_desktop_entry)
    if args.command == "evaluate":
        from inspector.cli.evaluate_command import run_evaluate

        return run_evaluate(args)
    if args.command == "report":
        from inspector.cli.report_command import run_report

        return run_report(args)
    if args.command == "merge":
        from inspector.cli.merge_command import run_merge

        return run_merge(args)
    if args.command == "saliency":
        from inspector.cli.saliency_command import run_saliency

        return run_saliency(args)
    if open_window is None:
        raise InspectorError("the window opens from the robustness-inspector command")
    return open_window(args)


__all__ = ["ProgressLine", "build_parser", "main", "summary_table", "threat_from_args"]
