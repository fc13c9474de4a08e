"""A check's verdict, with an explanation, its figures and what it cost.

"passed" and "warning" are findings; "not informative" means the check ran but had nothing
to test (no example left robust, say), so it is no evidence either way; "skipped" means it
could not run (no gradients, an attack refused), with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

PASSED, WARNING, NOT_INFORMATIVE, SKIPPED = "passed", "warning", "not informative", "skipped"
STATUSES = (PASSED, WARNING, NOT_INFORMATIVE, SKIPPED)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict (one of STATUSES) and, once it ran, its time in seconds."""

    name: str
    status: str
    explanation: str
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None  # None in files written before it was recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "explanation": self.explanation,
            "figures": dict(self.figures),
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            str(data["name"]),
            str(data["status"]),
            str(data.get("explanation", "")),
            dict(data.get("figures") or {}),
            finite_or_none(data.get("seconds")),
        )


def finite_or_none(value: Any) -> float | None:
    """A finite number ≥ 0 from a file, else None (absent, text, NaN: files may be hostile)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def verdict(name: str, warn: bool, explanation: str, **figures: Any) -> CheckResult:
    """A passed or warning result."""
    return CheckResult(name, WARNING if warn else PASSED, explanation, figures)


def not_informative(name: str, explanation: str, **figures: Any) -> CheckResult:
    """A check that ran but had nothing to test; `explanation` says what would change that."""
    return CheckResult(name, NOT_INFORMATIVE, explanation, figures)


def skipped(name: str, reason: str) -> CheckResult:
    """A check that could not run, and why (one sentence, no final full stop needed)."""
    return CheckResult(name, SKIPPED, f"Skipped: {reason.rstrip('.')}.", {})


WARNING_MARK = "⚠"  # next to a robust accuracy whose model has a sanity-check warning


def warning_note(checks: list[CheckResult] | tuple[CheckResult, ...]) -> str | None:
    """The warnings' explanations, one per line, for a tooltip or a footnote; None if none."""
    found = [f"{c.name}: {c.explanation}" for c in checks if c.status == WARNING]
    if not found:
        return None
    return "Sanity-check warning — " + "\n".join(found)
