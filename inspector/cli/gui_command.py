"""`robustness-inspector gui`: the window's flags (the window itself opens in launch.py).

The command line parses `gui` like any command but never imports the window (the layers
contract forbids it): inspector.launch, above both front ends, opens it with these flags.
"""

from __future__ import annotations

from inspector.cli.arguments import add_device_argument, add_source_arguments
from inspector.cli.run_options import add_run_arguments


def add_gui_parser(sub) -> None:
    p = sub.add_parser("gui", help="open the window (the default with no command)")
    p.add_argument(
        "audit",
        nargs="?",
        default=None,
        metavar="AUDIT",
        help="a saved audit (.riaudit) or results .json to reopen as it was",
    )
    add_source_arguments(p, demo_help="load the digits demo models")
    p.add_argument("--run", action="store_true", help="start the evaluation at once")
    p.add_argument(
        "--screenshot",
        metavar="PATH",
        default=None,
        help="save a PNG of the window once its files are open (with --run: when the run "
        "ends), then exit",
    )
    add_device_argument(p)
    add_run_arguments(p)
