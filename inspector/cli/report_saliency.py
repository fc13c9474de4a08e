"""`report --saliency METHOD`: saliency maps for the galleries' examples, on by default.

The methods and their default are the `saliency` command's. The models are opened by
cli/report_models.py (files beside the results or passed with --model, code only with
--trust-code); each model the maps cannot come from is named on stderr and in its gallery.
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli.arguments import add_device_argument
from inspector.cli.saliency_command import METHOD_CHOICES

DEFAULT_METHOD = "gradient"  # the saliency command's default


def add_report_saliency_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("saliency in the galleries")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--saliency",
        metavar="METHOD",
        choices=METHOD_CHOICES,
        default=DEFAULT_METHOD,
        help="maps of the boundary errors shown, clean and adversarial: "
        f"{', '.join(METHOD_CHOICES)} (default {DEFAULT_METHOD}; needs the model files: "
        "beside the results, or --model)",
    )
    choice.add_argument(
        "--no-saliency",
        dest="saliency",
        action="store_const",
        const=None,
        help="galleries without saliency maps (no model is opened)",
    )
    group.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="a model file of the results, found by its SHA-256 (repeatable); else models "
        "are opened only from the folder of the results or audit",
    )
    add_device_argument(group)  # type: ignore[arg-type]  # a group takes add_argument too
    group.add_argument(
        "--trust-code", action="store_true", help="allow models that run code (pickles, --arch)"
    )
    group.add_argument("--arch", metavar="PKG.MODULE:FACTORY", default=None)


def gallery_saliency(results, args: argparse.Namespace):
    """The maps' source for build_report_data (None with --no-saliency)."""
    if args.saliency is None:
        return None
    from inspector.cli.report_models import results_model_opener
    from inspector.reporting.saliency_maps import ModelSaliency

    opener = results_model_opener(results, args.source, args)
    return ModelSaliency(results, opener, method=args.saliency)


def print_saliency_notes(data) -> None:
    """After the report is written: each model whose gallery has no maps, and why."""
    for g in data.galleries:
        if data.has_saliency and g.saliency_note:
            print(f"note: {g.saliency_note}", file=sys.stderr)
