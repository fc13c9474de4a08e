"""Confidence intervals for accuracies measured on a finite set of examples.

An accuracy from n examples is a binomial proportion; the Wilson score interval keeps its
coverage near the nominal level even at 0 or n successes, where the normal ("Wald")
interval collapses to a single point and claims certainty it does not have.
"""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for successes/n (95 % by default), clipped to [0, 1].

    Example: 0 of 10 gives (0, 0.278), not the Wald interval's (0, 0).
    """
    if n <= 0:
        raise ValueError("an interval needs at least one example")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, {n}], got {successes}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def count_of(rate: float, n: int) -> int:
    """The number of examples behind a rate computed over n (rates here are exact k/n)."""
    return round(rate * n)
