"""Checks of the model itself: deterministic, logits rather than probabilities, usable gradients."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from inspector.core.checks.context import Context, no_gradients
from inspector.core.checks.result import CheckResult, verdict
from inspector.core.sweep_passes import module_logits

DETERMINISM_TOLERANCE = 1e-6  # max |Δlogit| / max(1, max |logit|) between two identical passes
BATCH_TOLERANCE = 1e-3  # the same, one example alone versus inside the batch (kernels differ)
BATCH_PROBES = 8  # examples re-run alone (catches BatchNorm left in training mode)
PROBABILITY_SUM_TOLERANCE = 1e-3  # a row "sums to one" within this
PROBABILITY_SHARE = 0.99  # warn when at least this share of rows look like probabilities
ZERO_GRADIENT_SHARE = 0.05  # warn above this share of examples with an all-zero input gradient


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(1.0, float(np.abs(a).max())))


def check_deterministic(ctx: Context, name: str) -> CheckResult:
    """Two passes over the same batch agree, and an example alone gives what it gave in a batch."""
    repeat = _relative_gap(ctx.logits, np.asarray(ctx.model.reference_logits(ctx.x)))
    if ctx.model.module is not None and ctx.model.info.backend == "onnx":  # a second path
        first = module_logits(ctx.model, ctx.x)
        repeat = max(repeat, _relative_gap(first, module_logits(ctx.model, ctx.x)))
    probes = range(min(BATCH_PROBES, ctx.n))
    alone = np.concatenate([ctx.model.reference_logits(ctx.x[i : i + 1]) for i in probes])
    batch_gap = _relative_gap(ctx.logits[: len(alone)], np.asarray(alone, dtype=np.float64))
    if repeat > DETERMINISM_TOLERANCE:
        text = (
            f"Two forward passes over the same {ctx.n} images differ (relative logit gap "
            f"{repeat:.2g}): the model is random at test time (dropout or noise left on?), so "
            "attacks chase a moving target; put it in eval mode or remove the randomness."
        )
    elif batch_gap > BATCH_TOLERANCE:
        text = (
            f"An image evaluated alone gets other logits than inside a batch (relative gap "
            f"{batch_gap:.2g}): the output depends on the batch (BatchNorm in training mode?); "
            "put the model in eval mode before exporting it."
        )
    else:
        text = (
            f"Repeated forward passes over {ctx.n} images agree (relative gap {repeat:.2g}) and "
            "do not depend on the batch: the model is deterministic."
        )
    return verdict(
        name,
        repeat > DETERMINISM_TOLERANCE or batch_gap > BATCH_TOLERANCE,
        text,
        repeat_gap=repeat,
        batch_gap=batch_gap,
    )


def check_logits(ctx: Context, name: str) -> CheckResult:
    """Rows in [0, 1] that sum to one are probabilities, whose cross-entropy gradients vanish."""
    z = ctx.logits
    in_unit = ((z >= -1e-6) & (z <= 1 + 1e-6)).all(axis=1)
    sums_one = np.abs(z.sum(axis=1) - 1.0) <= PROBABILITY_SUM_TOLERANCE
    share = float((in_unit & sums_one).mean())
    if share >= PROBABILITY_SHARE:
        text = (
            f"{share:.0%} of the output rows lie in [0, 1] and sum to one: the model ends in a "
            "softmax, so the attacks' cross-entropy sees saturated probabilities and its "
            "gradients vanish; export the model without its final softmax."
        )
    else:
        text = (
            f"The outputs are logits ({share:.0%} of the rows look like probabilities): "
            "the attacks' cross-entropy gets usable gradients."
        )
    return verdict(name, share >= PROBABILITY_SHARE, text, share=share)


def check_gradients(ctx: Context, name: str) -> CheckResult:
    """Input gradients of the cross-entropy are finite and not all zero, example by example."""
    if (early := no_gradients(ctx, name)) is not None:
        return early
    x = torch.from_numpy(ctx.x).to(ctx.device).requires_grad_(True)
    y = torch.from_numpy(ctx.labels).to(ctx.device)
    with torch.enable_grad():
        loss = F.cross_entropy(ctx.model.module(x), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
    flat = grad.detach().double().flatten(1)
    finite = torch.isfinite(flat).all(dim=1)
    zero = finite & (flat.abs().amax(dim=1) == 0)
    zero_share = float(zero.double().mean())
    bad_share = float((~finite).double().mean())
    warn = bad_share > 0 or zero_share > ZERO_GRADIENT_SHARE
    if warn:
        text = (
            f"The input gradient of the loss is zero for {zero_share:.0%} and NaN/Inf for "
            f"{bad_share:.0%} of {ctx.n} examples: gradient attacks cannot move there, so their "
            "robust accuracy is not trustworthy (masked gradients); use a gradient-free attack "
            "or remove the non-differentiable part."
        )
    else:
        text = (
            f"Input gradients are finite and non-zero for {1 - zero_share:.0%} of {ctx.n} "
            "examples: gradient attacks have a direction to follow."
        )
    return verdict(name, warn, text, zero_share=zero_share, nonfinite_share=bad_share)
