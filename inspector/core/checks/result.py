"""A check's verdict: passed, warning or skipped, with an explanation and its figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASSED, WARNING, SKIPPED = "passed", "warning", "skipped"
STATUSES = (PASSED, WARNING, SKIPPED)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: `status` is "passed", "warning" or "skipped" (with the reason)."""

    name: str
    status: str
    explanation: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "explanation": self.explanation,
            "figures": dict(self.figures),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            str(data["name"]),
            str(data["status"]),
            str(data.get("explanation", "")),
            dict(data.get("figures") or {}),
        )


def verdict(name: str, warn: bool, explanation: str, **figures: Any) -> CheckResult:
    """A passed or warning result."""
    return CheckResult(name, WARNING if warn else PASSED, explanation, figures)


def skipped(name: str, reason: str) -> CheckResult:
    """A check that could not run, and why (one sentence, no final full stop needed)."""
    return CheckResult(name, SKIPPED, f"Skipped: {reason.rstrip('.')}.", {})
