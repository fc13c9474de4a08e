"""The work behind one row of the saliency figure: predict, attack, attribute, score, draw."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import torch

from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.logits import softmax
from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, statuses
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import verify_gradients
from inspector.core.saliency import (
    METHODS,
    attribute,
    object_masks,
    overlay,
    resolve_target,
    score_kind,
    scores,
    to_display,
    uniform_scores,
)
from inspector.core.saliency.attribution import MethodUnavailable, no_gradient_reason
from inspector.core.saliency.concentration import (
    BASELINE_NOTE,
    CAVEAT,
    EDGE_CAVEAT,
    OBJECT_THRESHOLD,
)
from inspector.core.threat import NORM_SYMBOLS, ThreatModel, format_eps
from inspector.render.saliency_figure import Figure, FigureRow

TARGET_WORDS = {"true": "true label", "clean": "clean prediction", "adversarial": "adv. prediction"}


@dataclass
class Row:
    figure_row: FigureRow
    summary: str  # one line for stdout


def _probs(model: LoadedModel, x: np.ndarray) -> np.ndarray:
    return softmax(np.asarray(model.reference_logits(x), dtype=np.float64))


def attack_one(model: LoadedModel, x: np.ndarray, y: np.ndarray, threat: ThreatModel):
    """The attack's point for this example at the threat model's single ε (CPU numpy)."""
    from inspector.core.attacks.registry import make_attack, step_options

    device = torch.device(model.info.device)
    eps = threat.eps[0]
    attack = make_attack(
        threat.attack,
        model.module,
        threat.norm,
        threat.steps,
        threat.restarts,
        queries=threat.queries,
    )
    generator = torch.Generator(device=device)
    generator.manual_seed(threat.seed)
    kwargs = step_options(threat, eps)
    outcome = attack.perturb(
        torch.from_numpy(x).to(device),
        torch.from_numpy(y).to(device),
        eps,
        generator=generator,
        **kwargs,
    )
    return outcome.x_adv.detach().float().cpu().numpy()


def _label(model: LoadedModel, k: int, probs: np.ndarray) -> str:
    return f"{model.info.class_names[k]} ({probs[k]:.0%})"


STATUS_WORDS = {
    NATURAL_ERROR: "natural error (the clean prediction is already wrong)",
    BOUNDARY_ERROR: "boundary error (the attack flipped a correct prediction)",
}


def status_words(label: int, clean_pred: int, adv_pred: int | None, eps: float) -> str:
    """The example's status at ε, as the primer defines it (metrics.statuses)."""
    if adv_pred is None and clean_pred == label:
        return "correct (no attack)"
    broken = np.array([eps if adv_pred is not None and adv_pred != label else np.nan])
    status = statuses(np.array([clean_pred == label]), broken, eps)[0]
    return STATUS_WORDS.get(status, "robust (the attack found no flip)")


def score_text(value: float, digits: int = 2) -> str:
    """A score, or why there is none: an all-zero map scores nothing (never "nan")."""
    return f"{value:.{digits}f}" if np.isfinite(value) else "n/a (all-zero map)"


def model_row(
    model: LoadedModel,
    dataset: ImageDataset,
    index: int,
    args: argparse.Namespace,
    threat: ThreatModel | None,
    options: dict,
) -> Row:
    """Everything one model's row shows."""
    from inspector.core.evaluate import dataset_for

    view = dataset_for(model, dataset, args.resize)
    x, y = view.load(np.array([index])), np.array(view.labels[index : index + 1], np.int64)
    verify_gradients(model, x)  # before the attack takes gradients through a conversion
    model = model.gradient_model()  # no gradients through a conversion found unfaithful
    if model.module is None:
        raise MethodUnavailable(no_gradient_reason(model))
    if y[0] >= model.info.num_classes:
        raise InspectorError(
            f"example {index} has label {y[0]} but {model.info.name} has "
            f"{model.info.num_classes} classes; check that model and dataset belong together"
        )
    p_clean = _probs(model, x)
    x_adv = attack_one(model, x, y, threat) if threat is not None else None
    p_adv = _probs(model, x_adv) if x_adv is not None else None
    target = resolve_target(
        args.target,
        y,
        num_classes=model.info.num_classes,
        clean_pred=p_clean.argmax(axis=1),
        adv_pred=None if p_adv is None else p_adv.argmax(axis=1),
    )
    inputs = x if x_adv is None else np.concatenate([x, x_adv])
    result = attribute(
        model, inputs, np.repeat(target, len(inputs)), args.method, seed=args.seed, **options
    )
    signed = bool(args.signed and result.signed)
    shown = to_display(result.maps, signed)  # one scale for the row: clean and adv comparable
    kind = dataset.info.kind
    values = scores(result.maps, np.repeat(x, len(inputs), axis=0), kind)  # the clean object
    uniform = uniform_scores(x, kind)
    masks = object_masks(x, kind)
    eps = threat.eps[0] if threat is not None else 0.0
    status = status_words(int(y[0]), int(p_clean[0].argmax()), _argmax(p_adv), eps)
    lines = _row_lines(model, y, target, p_clean, p_adv, values, uniform, result, kind, status)
    row = FigureRow(
        title=model.info.name,
        lines=lines,
        image=x[0],
        overlay=overlay(x[0], shown.values[0], signed, args.opacity),
        scale=shown.scale,
        signed=signed,
        adv_image=None if x_adv is None else x_adv[0],
        adv_overlay=None
        if x_adv is None
        else overlay(x_adv[0], shown.values[1], signed, args.opacity),
        outline=None if masks is None else masks[0],
    )
    summary = _summary(model, p_clean, p_adv, values, uniform, kind, threat) + f"; {status}"
    return Row(row, summary)


def _argmax(probs: np.ndarray | None) -> int | None:
    return None if probs is None else int(probs[0].argmax())


def _row_lines(model, y, target, p_clean, p_adv, values, uniform, result, kind, status):
    k_clean = int(p_clean[0].argmax())
    names = model.info.class_names
    lines = [f"label {names[int(y[0])]}", f"clean: {_label(model, k_clean, p_clean[0])}"]
    if p_adv is not None:
        lines.append(f"adversarial: {_label(model, int(p_adv[0].argmax()), p_adv[0])}")
    lines.append(status.split(" (")[0])  # the primer's status; the summary line explains it
    lines.append(f"explains class {names[int(target[0])]}")
    measure = score_kind(kind)
    if values is not None and uniform is not None:
        word = "on digit" if measure == "object_share" else "edges"
        pair = " → ".join(score_text(v) for v in values)
        lines.append(f"{word}: {pair} (uniform {score_text(uniform[0])})")
    if result.delta is not None:
        lines.append("IG gap: " + ", ".join(f"{d:+.2g}" for d in result.delta))
    if "layer" in result.options:
        lines.append(f"layer {result.options['layer']}")
    return lines


def _summary(model, p_clean, p_adv, values, uniform, kind, threat) -> str:
    text = f"{model.info.name}: clean {_label(model, int(p_clean[0].argmax()), p_clean[0])}"
    if p_adv is not None and threat is not None:
        eps = f"{NORM_SYMBOLS[threat.norm]} ε={format_eps(threat.eps[0])}"
        text += f", adversarial {_label(model, int(p_adv[0].argmax()), p_adv[0])} at {eps}"
    if values is not None and uniform is not None:
        name = "share on the digit" if score_kind(kind) == "object_share" else "edge alignment"
        text += f"; {name} " + " → ".join(score_text(v, 3) for v in values)
        text += f" (uniform map {score_text(uniform[0], 3)})"
    return text


def build_figure(
    rows: list[Row],
    dataset: ImageDataset,
    index: int,
    args: argparse.Namespace,
    threat: ThreatModel | None,
) -> Figure:
    method = METHODS[args.method]
    target = TARGET_WORDS.get(args.target, f"class {args.target}")
    signed = any(r.figure_row.signed for r in rows)
    if args.method == "gradcam":
        shown = "ReLU of the weighted last-conv feature maps, upsampled bilinearly"
    else:
        shown = "signed map (sum over channels)" if signed else "|map| summed over channels"
    header = [
        f"Saliency: {method.label}, target {target}: {dataset.info.spec} example {index}",
        _threat_line(threat),
        f"{shown}; colour bar in {method.unit}; full colour = the row's 99th percentile or more",
    ]
    footer = [_score_rule(dataset.info.kind, signed, threat is not None)]
    if args.method == "integrated_gradients" and score_kind(dataset.info.kind) == "object_share":
        footer.append(f"Note: {BASELINE_NOTE}.")
    footer.append("Caveat: " + _caveat(dataset.info.kind))
    return Figure(header=header, rows=[r.figure_row for r in rows], footer=footer)


def _threat_line(threat: ThreatModel | None) -> str:
    if threat is None:
        return "no attack (pass --eps E to add the adversarial input and its map)"
    return (
        f"adversarial input: {NORM_SYMBOLS[threat.norm]} ε={format_eps(threat.eps[0])} · "
        f"{threat.attack_label()} · seed {threat.seed}"
    )


def _score_rule(kind: str, signed: bool, attacked: bool) -> str:
    measure = score_kind(kind)
    if measure == "object_share":
        pair = ", clean → adversarial" if attacked else ""
        return (
            f"on digit: share of |map| on the digit's pixels (grey > {OBJECT_THRESHOLD} in the "
            f"clean image, outlined in {'black' if signed else 'blue'}){pair}; a uniform map "
            "scores the digit's area"
        )
    if measure == "edge_alignment":
        return "edges: cosine similarity of |map| with the clean image's Sobel edge magnitude"
    return f"no concentration score for {kind} data (its pixels are features, not a picture)"


def _caveat(kind: str) -> str:
    return CAVEAT if score_kind(kind) == "object_share" else EDGE_CAVEAT
