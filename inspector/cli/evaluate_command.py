"""`robustness-inspector evaluate`: run an evaluation, print the table, write the files.

Its flags are in evaluate_parser.py, which imports no torch (so `--help` answers at once).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli import distributed, interrupts
from inspector.cli.progress import ProgressLine
from inspector.cli.run_options import (
    check_limit,
    model_overrides,
    threat_from_args,
)
from inspector.cli.table import summary_table
from inspector.cli.trust import smoothing_from_args, trust_lines
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

# The default for audits (no --demo): the fast audit (issue 18), measured no weaker than
# AutoAttack (standard and 100 iterations) on every model benchmarked, at 0.12-0.26 of its
# time (README, Benchmarks); `--attack ensemble` is the classic AutoAttack-like ensemble.
AUDIT_THREAT = ThreatModel(
    eps=(0.0, 2 / 255, 4 / 255, 8 / 255),
    attack="fast",
    steps=spec("fast").steps,
    restarts=spec("fast").restarts,
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
