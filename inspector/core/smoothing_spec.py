"""What randomized smoothing is asked for (σ, samples, α): light, so parsers and panels can
name its defaults without importing torch or scipy (smoothing.py does the work)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from inspector.core.errors import InspectorError


@dataclass(frozen=True)
class SmoothingSpec:
    """Noise level σ (in [0, 1] pixel units, L2), selection and estimation samples, and α."""

    sigma: float = 0.25
    n0: int = 100
    n: int = 1000
    alpha: float = 0.001

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise InspectorError(f"the smoothing noise σ must be > 0, got {self.sigma}")
        if self.n0 < 1 or self.n < 1:
            raise InspectorError("randomized smoothing needs at least 1 sample (n0 and n)")
        if not 0 < self.alpha < 1:
            raise InspectorError(f"the smoothing confidence α must be in (0, 1), got {self.alpha}")

    def describe(self) -> str:
        """The label that goes with every certified number or curve."""
        return (
            f"certified (randomized smoothing, σ={self.sigma:g}, n0={self.n0}, n={self.n}, "
            f"α={self.alpha:g}), a lower bound for the smoothed classifier"
        )

    def max_radius(self) -> float:
        """The largest radius n samples can certify: all n agree, p_lower = α^(1/n)."""
        from scipy.stats import norm  # a second's import: only when a curve is drawn

        return float(self.sigma * norm.ppf(self.alpha ** (1.0 / self.n)))

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SmoothingSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
