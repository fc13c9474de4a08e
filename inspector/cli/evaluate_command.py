"""`robustness-inspector evaluate`: run an evaluation, print the table, write the files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli import distributed, interrupts
from inspector.cli.arguments import add_device_argument, add_output_arguments, add_source_arguments
from inspector.cli.progress import ProgressLine
from inspector.cli.run_options import (
    add_run_arguments,
    check_limit,
    model_overrides,
    threat_from_args,
)
from inspector.cli.table import summary_table
from inspector.cli.trust import add_trust_arguments, smoothing_from_args, trust_lines
from inspector.core.attacks.registry import spec
from inspector.core.audit import Audit, save_audit
from inspector.core.demo import DEMO_DATA, DEMO_THREAT, demo_model_paths
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate
from inspector.core.export import save_summary_json, write_csv
from inspector.core.results import EvaluationResults, save_results
from inspector.core.shards import parse_shard
from inspector.core.sweep import BatchChosen, Progress
from inspector.core.threat import ThreatModel

# The default for audits (no --demo): the attack ensemble at its papers' budget.
AUDIT_THREAT = ThreatModel(
    eps=(0.0, 2 / 255, 4 / 255, 8 / 255),
    attack="ensemble",
    steps=spec("ensemble").steps,
    restarts=spec("ensemble").restarts,
)


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


def build_request(args: argparse.Namespace) -> EvaluationRequest:
    """Turn flags into a request, checking what can be checked before any work starts."""
    if args.demo:
        paths, data, base = (
            [str(p) for p in demo_model_paths()],
            args.data or DEMO_DATA,
            DEMO_THREAT,
        )
    else:
        if not args.model:
            raise InspectorError("no model given: pass --model PATH (or --demo)")
        if not args.data:
            raise InspectorError("no dataset given: pass --data digits|tsipras|PATH (or --demo)")
        paths, data, base = args.model, args.data, AUDIT_THREAT
    check_limit(args.limit)
    if args.batch_size < 1:
        raise InspectorError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.resume and not args.checkpoint:
        raise InspectorError("--resume needs --checkpoint FOLDER: the folder the run saved to")
    for out in (args.out, args.csv, args.summary_json, args.audit):
        if out and Path(out).is_dir():
            raise InspectorError(f"{out} is a folder: give a file name")
    overrides = model_overrides(args)
    models = tuple(ModelRequest(path=p, arch=args.arch, overrides=overrides) for p in paths)
    return EvaluationRequest(
        models=models,
        data=data,
        threat=threat_from_args(args, base),
        limit=args.limit,
        batch_size=args.batch_size,
        device=args.device,
        trust_code=args.trust_code,
        resize=args.resize,
        checks=not args.no_checks,
        smoothing=smoothing_from_args(args),
        shard=parse_shard(args.shard) if getattr(args, "shard", None) else None,
        checkpoint=args.checkpoint,
        resume=args.resume,
    )


def run_evaluate(args: argparse.Namespace) -> int:
    request = build_request(args)
    if distributed.world_size() > 1:
        if request.shard is not None:
            raise InspectorError("--shard splits a run by hand; under torchrun each rank "
                                 "takes its share itself: drop --shard")
        return distributed.run_distributed(request, args, write_outputs)
    progress = ProgressLine(len(request.models))
    results: EvaluationResults | None = None
    # Ctrl-C raises KeyboardInterrupt; should some library swallow it, the run still stops
    # at its next check, and nothing is written (a partial result is not what was asked).
    for item in evaluate(request, cancel=interrupts.interrupted):
        if isinstance(item, EvaluationResults):
            results = item
        elif isinstance(item, Progress):
            progress.update(item)
        elif isinstance(item, BatchChosen) and item.choice.size < item.choice.requested:
            print(f"{item.model_name}: {item.choice.describe()}", file=sys.stderr)
    if interrupts.interrupted():
        raise KeyboardInterrupt
    assert results is not None
    return write_outputs(args, results)


def write_outputs(args: argparse.Namespace, results: EvaluationResults) -> int:
    """The table on stdout, then every file asked for (each written atomically)."""
    print(summary_table(results))
    if trust := trust_lines(results):
        print(trust)
    if args.out:
        save_results(args.out, results)
        print(f"results written to {args.out}", file=sys.stderr)
    if args.csv:
        write_csv(args.csv, results)
        print(f"per-example table written to {args.csv}", file=sys.stderr)
    if args.summary_json:
        save_summary_json(args.summary_json, results)
        print(f"summary written to {args.summary_json}", file=sys.stderr)
    if getattr(args, "audit", None):
        save_audit(args.audit, Audit(results))
        print(f"audit written to {args.audit}", file=sys.stderr)
    return 0
