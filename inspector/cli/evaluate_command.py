"""`robustness-inspector evaluate`: run an evaluation, print the table, write the files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.cli.main import threat_from_args
from inspector.cli.progress import ProgressLine
from inspector.cli.table import summary_table
from inspector.core.demo import DEMO_DATA, DEMO_THREAT, demo_model_paths
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate
from inspector.core.export import write_csv
from inspector.core.results import EvaluationResults, save_results
from inspector.core.sweep import Progress
from inspector.core.threat import ThreatModel


def _overrides(args: argparse.Namespace) -> dict:
    found = {
        "class_names": tuple(n.strip() for n in args.class_names.split(","))
        if args.class_names
        else None,
        "input_shape": args.input_shape,
        "mean": args.mean,
        "std": args.std,
    }
    return {k: v for k, v in found.items() if v is not None}


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
        paths, data, base = args.model, args.data, ThreatModel(eps=(0.0, 2 / 255, 4 / 255, 8 / 255))
    if args.limit is not None and args.limit < 1:
        raise InspectorError(f"--limit must be at least 1, got {args.limit}")
    if args.batch_size < 1:
        raise InspectorError(f"--batch-size must be at least 1, got {args.batch_size}")
    for out in (args.out, args.csv):
        if out and Path(out).is_dir():
            raise InspectorError(f"{out} is a folder: give a file name")
    overrides = _overrides(args)
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
    )


def run_evaluate(args: argparse.Namespace) -> int:
    request = build_request(args)
    progress = ProgressLine(len(request.models))
    results: EvaluationResults | None = None
    for item in evaluate(request):
        if isinstance(item, EvaluationResults):
            results = item
        elif isinstance(item, Progress):
            progress.update(item)
    assert results is not None
    print(summary_table(results))
    if args.out:
        save_results(args.out, results)
        print(f"results written to {args.out}", file=sys.stderr)
    if args.csv:
        write_csv(args.csv, results)
        print(f"per-example table written to {args.csv}", file=sys.stderr)
    return 0
