"""Flag groups that several commands take, each defined once.

`evaluate`, `gui` and `saliency` all name models and data, a device and how to load
files that run code; `evaluate` and `merge` write the same result files. A command adds
a group with one call, so the same flag means the same thing (and help) everywhere.
"""

from __future__ import annotations

import argparse


def add_source_arguments(p: argparse.ArgumentParser, demo_help: str) -> None:
    """--demo, --model (repeatable), --data: what to evaluate, on what."""
    p.add_argument("--demo", action="store_true", help=demo_help)
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="model file (.pt2, .pt/.ts TorchScript, .onnx, state_dict); repeatable",
    )
    p.add_argument(
        "--data",
        metavar="SPEC",
        default=None,
        help="digits, tsipras[:n=..,p=..,seed=..], or a path (image folder, .npz, "
        "CIFAR-10 batches, MNIST IDX)",
    )


def add_device_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def add_loading_arguments(p: argparse.ArgumentParser) -> None:
    """Trust, the network factory for a state_dict, resizing the images to each model."""
    p.add_argument(
        "--trust-code",
        action="store_true",
        help="allow loading files that run code (pickled modules, --arch factories)",
    )
    p.add_argument(
        "--arch",
        metavar="PKG.MODULE:FACTORY",
        default=None,
        help="architecture for a plain state_dict (needs --trust-code)",
    )
    p.add_argument(
        "--resize",
        action="store_true",
        help="resize images (and convert channels) to each model's input shape",
    )


def add_output_arguments(p: argparse.ArgumentParser, out_required: bool) -> None:
    """--out results, --csv per-example table, --summary-json: what write_outputs writes."""
    p.add_argument("--out", metavar="RESULTS.json", default=None, required=out_required)
    p.add_argument("--csv", metavar="PER_EXAMPLE.csv", default=None)
    p.add_argument(
        "--summary-json",
        metavar="PATH",
        default=None,
        help="write the per-model, per-ε summary (rates, threat model, file hashes) as JSON",
    )
