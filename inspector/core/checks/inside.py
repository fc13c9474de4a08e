"""Check that every adversarial image lies inside its ε-ball and the [0, 1] box."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from inspector.core.checks.context import Context
from inspector.core.checks.result import CheckResult, skipped, verdict


def _excess(x: np.ndarray, adv: np.ndarray, eps: float, norm: str, slack: np.ndarray) -> float:
    """How far the points leave the ε-ball (per-pixel rounding `slack` allowed), ≤ 0 if not."""
    delta = (adv.astype(np.float64) - x.astype(np.float64)).reshape(len(x), -1)
    slack = slack.reshape(len(x), -1)
    if norm == "linf":
        return float((np.abs(delta) - slack).max(initial=-np.inf) - eps)
    return float((np.linalg.norm(delta, axis=1) - np.linalg.norm(slack, axis=1) - eps).max())


def _sweep_points(ctx: Context) -> Iterator[tuple[float, np.ndarray, np.ndarray, np.ndarray]]:
    """The sweep's stored adversarial images (float16: half an ulp of slack per pixel)."""
    s = ctx.sweep
    if s is None or s.adv_images is None:
        return
    for start in range(0, len(s.indices), 256):
        x = np.asarray(ctx.dataset.load(s.indices[start : start + 256]), dtype=np.float32)
        for k in range(s.eps_done):
            adv = s.adv_images[start : start + 256, k]
            slack = np.spacing(np.abs(adv)).astype(np.float64) / 2
            yield s.eps[k], x, adv, slack


def check_in_threat_model(ctx: Context, name: str) -> CheckResult:
    """Every adversarial point (the sweep's and the checks' own) lies in the ε-ball and the box."""
    own = ((e, x, a, np.full(a.shape, 1e-6)) for e, x, a in ctx.adversarial)
    ball, box, points = -np.inf, 0.0, 0
    for eps, x, adv, slack in (*own, *_sweep_points(ctx)):
        ball = max(ball, _excess(x, adv, eps, ctx.threat.norm, slack))
        outside = np.maximum(-adv, adv.astype(np.float64) - 1) - slack
        box = max(box, float(outside.max(initial=0.0)))
        points += len(x)
    if points == 0:
        return skipped(name, "no adversarial images were kept")
    warn = ball > 0 or box > 0
    if warn:
        text = (
            f"Some of {points} adversarial images leave the threat model (ε-ball exceeded by "
            f"{max(ball, 0):.2g}, [0, 1] box by {box:.2g}): the attack is cheating and its "
            "robust accuracy is too low; report this as a bug."
        )
    else:
        text = (
            f"All {points} adversarial images checked lie inside their ε-ball and the [0, 1] "
            "box (float16 rounding allowed)."
        )
    return verdict(name, warn, text, points=points, ball_excess=max(ball, 0.0), box_excess=box)
