"""`robustness-inspector merge part_*.json --out R.json`: the parts of a sharded run as one.

For schedulers without torchrun (SLURM arrays, separate machines): each task runs
`evaluate --shard i/n --out part_i.json`, then `merge` checks that the parts belong to one
evaluation (threat model, seed, dataset hash, model hashes) and that none is missing.
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli.arguments import add_output_arguments
from inspector.core.errors import InspectorError


def add_merge_parser(sub) -> None:
    p = sub.add_parser("merge", help="merge the parts of a sharded evaluation into one file")
    p.add_argument("parts", nargs="+", metavar="PART.json", help="results of evaluate --shard")
    add_output_arguments(p, out_required=True)


def run_merge(args: argparse.Namespace) -> int:
    from inspector.cli.evaluate_command import write_outputs
    from inspector.core.results import load_results
    from inspector.core.shards import merge_results

    if len(set(args.parts)) != len(args.parts):
        raise InspectorError("a part is named twice: give each part file once")
    merged = merge_results([(path, load_results(path)) for path in args.parts])
    print(f"merged {len(args.parts)} parts", file=sys.stderr)
    return write_outputs(args, merged)
