"""The `evaluate` command's flags, apart from the command so that building the parser
(`--help`, a bad flag) imports neither torch nor the core's evaluation."""

from __future__ import annotations

from inspector.cli.arguments import add_device_argument, add_output_arguments, add_source_arguments
from inspector.cli.run_options import add_run_arguments
from inspector.cli.trust import add_trust_arguments


def add_evaluate_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="attack models over an ε grid and report the tradeoff")
    add_source_arguments(p, demo_help="the digits demo models on digits")
    add_run_arguments(p)
    p.add_argument(
        "--batch-size",
        type=int,
        default=128,
        help="examples per forward pass at most; fewer when the model's memory use needs it",
    )
    add_device_argument(p)
    add_output_arguments(p, out_required=False)
    add_trust_arguments(p)
    p.add_argument(
        "--audit",
        metavar="PATH.riaudit",
        default=None,
        help="write an audit file (results, probabilities, adversarial images) the window opens",
    )
    p.add_argument(
        "--shard",
        metavar="I/N",
        default=None,
        help="evaluate only part I (from 0) of N of the examples, for `merge` (SLURM arrays)",
    )
    p.add_argument(
        "--checkpoint",
        metavar="FOLDER",
        default=None,
        help="save each finished ε there (one file per shard or rank), for --resume",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run whose checkpoint is in --checkpoint FOLDER",
    )
