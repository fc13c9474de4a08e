"""Statuses and rates, exactly as defined in the primer (shared/ROBUSTNESS.md).

Per example and ε exactly one status holds: natural_error (clean prediction wrong),
boundary_error (clean correct, the attack found a flip within ε), robust (clean correct,
no flip found). Rates over the evaluated examples add up to one, and
robust error = natural error + boundary error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NATURAL_ERROR = "natural_error"
BOUNDARY_ERROR = "boundary_error"
ROBUST = "robust"
STATUSES = (ROBUST, BOUNDARY_ERROR, NATURAL_ERROR)


@dataclass(frozen=True)
class Rates:
    """The aggregates at one ε; `robust_accuracy` from an attack is an upper bound."""

    eps: float
    clean_accuracy: float
    robust_accuracy: float
    boundary_error_rate: float
    natural_error_rate: float

    @property
    def robust_error(self) -> float:
        return 1.0 - self.robust_accuracy

    def to_dict(self) -> dict[str, float]:
        return {
            "eps": self.eps,
            "robust_accuracy": self.robust_accuracy,
            "boundary_error_rate": self.boundary_error_rate,
            "natural_error_rate": self.natural_error_rate,
        }


def broken_at(breaking_eps: np.ndarray, eps: float) -> np.ndarray:
    """Examples whose recorded breaking ε is at or below `eps` (NaN = never broken)."""
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(breaking_eps, nan=np.inf) <= eps


def statuses(clean_correct: np.ndarray, breaking_eps: np.ndarray, eps: float) -> np.ndarray:
    """The status of every example at `eps`, as strings from STATUSES."""
    out = np.full(len(clean_correct), ROBUST, dtype=object)
    out[clean_correct & broken_at(breaking_eps, eps)] = BOUNDARY_ERROR
    out[~clean_correct] = NATURAL_ERROR
    return out


def rates_from_counts(n: int, natural_errors: int, boundary_errors: int, eps: float) -> Rates:
    """Rates from counts; the primer's worked example 1 is 10, 1, 3 → 0.1, 0.4 robust risk, 0.3."""
    if n <= 0:
        raise ValueError("no examples to rate")
    natural = natural_errors / n
    boundary = boundary_errors / n
    return Rates(
        eps=eps,
        clean_accuracy=1.0 - natural,
        robust_accuracy=1.0 - natural - boundary,
        boundary_error_rate=boundary,
        natural_error_rate=natural,
    )


def rates_at(clean_correct: np.ndarray, breaking_eps: np.ndarray, eps: float) -> Rates:
    """Aggregate rates at one ε."""
    boundary = int((clean_correct & broken_at(breaking_eps, eps)).sum())
    return rates_from_counts(len(clean_correct), int((~clean_correct).sum()), boundary, eps)


def curve(clean_correct: np.ndarray, breaking_eps: np.ndarray, grid) -> list[Rates]:
    """Rates over the ε grid; monotone because an example once broken stays broken."""
    return [rates_at(clean_correct, breaking_eps, float(e)) for e in grid]
