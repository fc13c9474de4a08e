"""Are the images in the range the model was built for? Otherwise every number is wrong.

A model trained on 0-255 pixels (or on standardised ones) that is given [0, 1] images sees
near-black inputs: it reports a low clean accuracy and the same robust accuracy at every ε
(nothing moves it), and only the very-large-ε check fires, blaming masked gradients. This
check feeds the subset rescaled the common ways and warns when the clean accuracy jumps,
naming the normalisation that fits; it also warns when the logits do not move at all from
one image to another.
"""

from __future__ import annotations

import numpy as np

from inspector.core.checks.context import Context
from inspector.core.checks.result import CheckResult, verdict
from inspector.core.linear import logit_spread

JUMP = 0.2  # warn when a rescaled input gains at least this much clean accuracy ...
JUMP_FLOOR = 0.5  # ... and reaches at least this much
FLAT_LOGITS = 1e-6  # logits that move by less than this share of their size across images


def _flags(mean: float, std: str, channels: int) -> str:
    means = ",".join([f"{mean:g}"] * channels)
    return f"--mean {means} --std {','.join([std] * channels)}"


def _candidates(x: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
    """(what the model may expect, the images as it would want them, the flags that do it)."""
    c = x.shape[1]
    return [
        ("0-255 pixels", x * 255.0, _flags(0, "1/255", c)),
        (
            "standardised inputs (about (x − 0.5)/0.25)",
            (x - 0.5) / 0.25,
            _flags(0.5, "0.25", c) + " (ImageNet models: the ImageNet mean and std)",
        ),
    ]


def _accuracy(ctx: Context, x: np.ndarray) -> float:
    logits = np.asarray(ctx.model.reference_logits(x.astype(np.float32)), dtype=np.float64)
    if not np.isfinite(logits).all():
        return 0.0
    return float((logits.argmax(axis=1) == ctx.labels).mean())


def check_input_range(ctx: Context, name: str) -> CheckResult:
    """Clean accuracy on [0, 1] images against the same images rescaled."""
    clean = float(ctx.correct.mean())
    best = max(
        ((_accuracy(ctx, scaled), what, flags) for what, scaled, flags in _candidates(ctx.x)),
        key=lambda item: item[0],
    )
    size = max(1.0, float(np.abs(ctx.logits).max()))
    flat = ctx.n > 1 and logit_spread(ctx.logits) <= FLAT_LOGITS * size
    jumped = best[0] >= clean + JUMP and best[0] >= JUMP_FLOOR
    if jumped:
        text = (
            f"Clean accuracy on {ctx.n} images jumps from {clean:.2f} to {best[0]:.2f} when "
            f"they are given as {best[1]}: the model was built for other inputs than [0, 1] "
            f"images, so every number here is wrong; set its normalisation ({best[2]}, or "
            "mean/std in its metadata)."
        )
    elif flat:
        text = (
            f"The logits do not move from one image to another over {ctx.n} images: the "
            "inputs may be outside the range the model was built for; check its "
            "normalisation (--mean and --std, or mean/std in its metadata)."
        )
    else:
        text = (
            f"Clean accuracy {clean:.2f} does not improve when the images are rescaled (best "
            f"{best[0]:.2f}, as {best[1]}): [0, 1] images suit the model."
        )
    return verdict(
        name, jumped or flat, text, clean_accuracy=clean, rescaled_accuracy=best[0]
    )
