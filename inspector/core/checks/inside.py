"""Check that every adversarial image lies inside its ε-ball and the [0, 1] box.

Tolerances are in the units of the data: an attack computes x + δ in float32, so each pixel
may land up to one float32 ulp (of the pixel's value) away from the exact point, and ε
itself is rounded to float32; the sweep's stored images are float16, which adds half a
float16 ulp. Anything beyond that is a real overshoot, however small ε is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from inspector.core.checks.context import Context
from inspector.core.checks.result import CheckResult, finite_or_none, skipped, verdict
from inspector.core.data.base import ImageDataset
from inspector.core.sweep_record import ModelSweep

EPS_RELATIVE = 4 * float(np.finfo(np.float32).eps)  # ε rounded to float32, the L2 rescaling
CHUNK = 256
Points = tuple[float, np.ndarray, np.ndarray, np.ndarray]  # ε, x, x_adv, per-pixel slack


def float32_slack(x: np.ndarray, adv: np.ndarray) -> np.ndarray:
    """One float32 ulp of each pixel's larger magnitude: the rounding of x + δ."""
    top = np.maximum(np.abs(x), np.abs(adv)).astype(np.float32)
    return np.spacing(top).astype(np.float64)


def _excess(x: np.ndarray, adv: np.ndarray, eps: float, norm: str, slack: np.ndarray) -> float:
    """How far the points leave the ε-ball beyond the rounding allowed, ≤ 0 if not."""
    delta = (adv.astype(np.float64) - x.astype(np.float64)).reshape(len(x), -1)
    slack = slack.reshape(len(x), -1)
    allowed = eps * (1 + EPS_RELATIVE)
    if norm == "linf":
        return float((np.abs(delta) - slack).max(initial=-np.inf) - allowed)
    return float((np.linalg.norm(delta, axis=1) - np.linalg.norm(slack, axis=1) - allowed).max())


def sweep_points(
    dataset: ImageDataset, s: ModelSweep | None, columns: Iterable[int] | None = None
) -> Iterator[Points]:
    """The sweep's stored adversarial images (float16) at the given grid points (all done)."""
    if s is None or s.adv_images is None:
        return
    columns = list(range(s.eps_done) if columns is None else columns)
    for start in range(0, len(s.indices), CHUNK):
        x = np.asarray(dataset.load(s.indices[start : start + CHUNK]), dtype=np.float32)
        for k in columns:
            adv = s.adv_images[start : start + CHUNK, k]
            half16 = np.spacing(np.abs(adv)).astype(np.float64) / 2
            yield s.eps[k], x, adv, half16 + float32_slack(x, adv)


def judge(name: str, norm: str, points: Iterable[Points], before: dict | None = None):
    """The verdict over `points` (and, when given, the figures of an earlier verdict)."""
    old = before or {}  # an earlier verdict's figures, perhaps from a file: numbers or nothing
    ball = finite_or_none(old.get("ball_excess"))
    ball = -np.inf if ball is None else ball
    box, count = (
        finite_or_none(old.get("box_excess")) or 0.0,
        int(finite_or_none(old.get("points")) or 0),
    )
    for eps, x, adv, slack in points:
        ball = max(ball, _excess(x, adv, eps, norm, slack))
        outside = np.maximum(-adv, adv.astype(np.float64) - 1) - slack
        box = max(box, float(outside.max(initial=0.0)))
        count += len(x)
    if count == 0:
        return skipped(name, "no adversarial images were kept")
    warn = ball > 0 or box > 0
    if warn:
        text = (
            f"Some of {count} adversarial images leave the threat model (ε-ball exceeded by "
            f"{max(ball, 0):.2g}, [0, 1] box by {box:.2g}, beyond float rounding): the attack "
            "is cheating and its robust accuracy is too low; report this as a bug."
        )
    else:
        text = (
            f"All {count} adversarial images checked lie inside their ε-ball and the [0, 1] "
            "box (up to float32 rounding, and float16 for the stored ones)."
        )
    return verdict(name, warn, text, points=count, ball_excess=max(ball, 0.0), box_excess=box)


def check_in_threat_model(ctx: Context, name: str) -> CheckResult:
    """Every adversarial point (the sweep's and the checks' own) lies in the ε-ball and the box."""
    own = ((e, x, a, float32_slack(x, a)) for e, x, a in ctx.adversarial)
    return judge(name, ctx.threat.norm, (*own, *sweep_points(ctx.dataset, ctx.sweep)))
