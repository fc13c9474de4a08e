"""`robustness-inspector saliency`: one example's saliency maps per model, as a PNG.

For each model: the image and where the evidence for the target class sits, and with
--eps the same on the adversarial input found by the attack. The target class is the same
for both maps (true label, clean or adversarial prediction, or a fixed class).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from inspector.cli.arguments import (
    add_device_argument,
    add_loading_arguments,
    add_source_arguments,
)
from inspector.core.attacks.registry import ATTACK_SPECS, spec
from inspector.core.errors import InspectorError
from inspector.core.threat import NORMS

METHOD_CHOICES = ("gradient", "smoothgrad", "integrated_gradients", "gradcam")
# FMN gives radii, not one ε's point: every other attack can draw the map at its point.
SALIENCY_ATTACKS = tuple(s.name for s in ATTACK_SPECS if not s.minimum_norm)
DEMO_EPS = 0.1  # --demo without --eps: the demo's headline ε


def add_saliency_parser(sub) -> None:
    """The `saliency` subcommand's flags (called from inspector.cli.main.build_parser)."""
    p = sub.add_parser("saliency", help="draw saliency maps of one example for each model (PNG)")
    add_source_arguments(p, demo_help=f"the digits demo models (ε {DEMO_EPS})")
    p.add_argument("--index", type=int, required=True, help="position of the example (from 0)")
    p.add_argument("--method", choices=METHOD_CHOICES, default="gradient")
    p.add_argument(
        "--target",
        default="true",
        help="class to explain: true (label), clean or adversarial (prediction), or N",
    )
    p.add_argument("--eps", default=None, help="also attack at this ε (e.g. 0.1 or 8/255)")
    p.add_argument("--attack", choices=SALIENCY_ATTACKS, default="pgd")
    p.add_argument("--norm", choices=NORMS, default="linf")
    p.add_argument("--steps", type=int, default=None, help="attack steps (attack's default)")
    p.add_argument("--restarts", type=int, default=None, help="default: the attack's own")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--signed", action="store_true", help="keep the sign (default: |map|)")
    p.add_argument("--opacity", type=float, default=0.65, help="map over image, 0..1")
    p.add_argument("--ig-steps", type=int, default=None, help="Integrated Gradients steps (50)")
    p.add_argument("--noise-samples", type=int, default=None, help="SmoothGrad samples (25)")
    p.add_argument("--noise-sigma", type=float, default=None, help="SmoothGrad σ (0.15)")
    add_device_argument(p)
    add_loading_arguments(p)
    p.add_argument("--out", metavar="PNG", required=True)


@dataclass(frozen=True)
class Request:
    paths: list[str]
    data: str
    index: int
    eps: float | None


def _request(args: argparse.Namespace) -> Request:
    from inspector.core.demo import DEMO_DATA, demo_model_paths
    from inspector.core.threat import parse_eps

    if args.demo:
        paths, data = [str(p) for p in demo_model_paths()], args.data or DEMO_DATA
    else:
        if not args.model:
            raise InspectorError("no model given: pass --model PATH (or --demo)")
        if not args.data:
            raise InspectorError("no dataset given: pass --data digits|tsipras|PATH (or --demo)")
        paths, data = args.model, args.data
    eps = parse_eps(args.eps) if args.eps is not None else (DEMO_EPS if args.demo else None)
    if not 0.0 <= args.opacity <= 1.0:
        raise InspectorError(f"--opacity must lie in [0, 1], got {args.opacity}")
    if args.target == "adversarial" and not eps:
        raise InspectorError("--target adversarial needs an attack: pass --eps E (> 0)")
    if not args.out.lower().endswith(".png"):
        raise InspectorError(f"--out must name a .png file, got {args.out}")
    return Request(paths, data, args.index, eps)


def _options(args: argparse.Namespace) -> dict:
    found = {
        "integrated_gradients": {"steps": args.ig_steps},
        "smoothgrad": {"samples": args.noise_samples, "sigma": args.noise_sigma},
    }.get(args.method, {})
    return {k: v for k, v in found.items() if v is not None}


def run_saliency(args: argparse.Namespace) -> int:
    from inspector.cli.saliency_rows import build_figure, model_row
    from inspector.core.data import open_dataset
    from inspector.core.saliency.attribution import MethodUnavailable
    from inspector.render.saliency_figure import save_png

    request = _request(args)
    dataset = open_dataset(request.data)
    size = len(dataset.labels)
    if not 0 <= request.index < size:
        raise InspectorError(
            f"--index {request.index} is out of range: {request.data} has {size} examples "
            f"(0..{size - 1})"
        )
    threat = _threat(args, request.eps)
    rows, skipped, reasons = [], [], []
    for path in request.paths:
        model = _load(args, path, dataset)
        try:
            rows.append(model_row(model, dataset, request.index, args, threat, _options(args)))
        except MethodUnavailable as exc:  # one model the method cannot serve: a note
            reasons.append(str(exc))
            skipped.append(f"{model.info.name} skipped: {exc}")
    if not rows:
        raise InspectorError(reasons[0] if len(reasons) == 1 else "; ".join(skipped))
    figure = build_figure(rows, dataset, request.index, args, threat)
    figure.footer.extend(f"Note: {line}." for line in skipped)
    width, height = save_png(figure, args.out)
    for row in rows:
        print(row.summary)
    for line in skipped:
        print(line)
    print(f"saliency figure ({width}×{height}) written to {args.out}", file=sys.stderr)
    return 0


def _load(args: argparse.Namespace, path: str, dataset):
    from inspector.core.models import load_model

    return load_model(
        path,
        device=args.device,
        trust_code=args.trust_code,
        arch=args.arch,
        fallback_input_shape=dataset.info.shape,
    )


def _threat(args: argparse.Namespace, eps: float | None):
    """The attack as a one-ε threat model (None without --eps or at ε = 0)."""
    from inspector.core.threat import ThreatModel

    if not eps:
        return None
    defaults = spec(args.attack)
    steps = args.steps if args.steps is not None else defaults.steps
    return ThreatModel(
        norm=args.norm,
        eps=(eps,),
        attack=args.attack,
        steps=steps,
        restarts=defaults.restarts if args.restarts is None else args.restarts,
        seed=args.seed,
        num_examples=1,
    )
