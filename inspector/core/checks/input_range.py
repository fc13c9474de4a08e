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
from inspector.core.checks.result import CheckResult, verdict, with_hint
from inspector.core.errors import Hint, HintKind
from inspector.core.linear import logit_spread

JUMP = 0.2  # warn when a rescaled input gains at least this much clean accuracy ...
JUMP_FLOOR = 0.5  # ... and reaches at least this much
FLAT_LOGITS = 1e-6  # logits that move by less than this share of their size across images


def _normalisation(mean: float, std: str, channels: int) -> Hint:
    """The per-channel mean and std that fit, as a hint each front end words (its flags)."""
    means = ",".join([f"{mean:g}"] * channels)
    values = (("mean", means), ("std", ",".join([std] * channels)))
    return Hint(HintKind.NORMALISATION, values=values)


def _candidates(x: np.ndarray) -> list[tuple[str, np.ndarray, Hint]]:
    """(what the model may expect, the images as it would want them, the setting that does it)."""
    c = x.shape[1]
    return [
        ("0-255 pixels", x * 255.0, _normalisation(0, "1/255", c)),
        (
            "standardised inputs (about (x − 0.5)/0.25; ImageNet models: the ImageNet mean "
            "and std)",
            (x - 0.5) / 0.25,
            _normalisation(0.5, "0.25", c),
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
        ((_accuracy(ctx, scaled), what, hint) for what, scaled, hint in _candidates(ctx.x)),
        key=lambda item: item[0],
    )
    size = max(1.0, float(np.abs(ctx.logits).max()))
    flat = ctx.n > 1 and logit_spread(ctx.logits) <= FLAT_LOGITS * size
    jumped = best[0] >= clean + JUMP and best[0] >= JUMP_FLOOR
    hint = None
    if jumped:
        hint = best[2]
        text = with_hint(
            f"Clean accuracy on {ctx.n} images jumps from {clean:.2f} to {best[0]:.2f} when "
            f"they are given as {best[1]}: the model was built for other inputs than [0, 1] "
            "images, so every number here is wrong",
            hint,
        )
    elif flat:
        hint = Hint(HintKind.CHECK_NORMALISATION)
        text = with_hint(
            f"The logits do not move from one image to another over {ctx.n} images: the "
            "inputs may be outside the range the model was built for",
            hint,
        )
    else:
        text = (
            f"Clean accuracy {clean:.2f} does not improve when the images are rescaled (best "
            f"{best[0]:.2f}, as {best[1]}): [0, 1] images suit the model."
        )
    figures = {"clean_accuracy": clean, "rescaled_accuracy": best[0]}
    return verdict(name, jumped or flat, text, hint=hint, **figures)
