"""A check's verdict, with an explanation, its figures and what it cost.

"passed" and "warning" are findings; "not informative" means the check ran but had nothing
to test (no example left robust, say), so it is no evidence either way; "skipped" means it
could not run (no gradients, an attack refused), with the reason.

A finding that one setting fixes carries a `Hint` (core/errors.py): the explanation ends
with the core's words for it, which name no flag, and `worded` swaps in a front end's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from inspector.core.errors import CORE_WORDS, Hint, HintKind, Wording, word_hint

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
    hint: Hint | None = None  # what fixes a warning; None in older files (text only)

    def worded(self, words: Wording) -> str:
        """The explanation with its hint in a front end's words (as it is, without one)."""
        if self.hint is None:
            return self.explanation
        core = f"; {word_hint(self.hint, CORE_WORDS)}."
        if not self.explanation.endswith(core):
            return self.explanation
        return f"{self.explanation[: -len(core)]}; {word_hint(self.hint, words)}."

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "status": self.status,
            "explanation": self.explanation,
            "figures": dict(self.figures),
            "seconds": self.seconds,
        }
        if self.hint is not None:  # files without hints stay as they were
            h = self.hint
            data["hint"] = {"kind": h.kind.name, "detail": h.detail, "values": dict(h.values)}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            str(data["name"]),
            str(data["status"]),
            str(data.get("explanation", "")),
            dict(data.get("figures") or {}),
            finite_or_none(data.get("seconds")),
            hint_from_dict(data.get("hint")),
        )


def hint_from_dict(data: Any) -> Hint | None:
    """A saved hint, or None when absent or not one this version knows (files may be
    hostile or newer: the explanation's own words still stand)."""
    if not isinstance(data, dict) or data.get("kind") not in HintKind.__members__:
        return None
    values = data.get("values") or {}
    if not isinstance(values, dict):
        return None
    pairs = tuple((str(k), str(v)) for k, v in values.items())
    return Hint(HintKind[data["kind"]], str(data.get("detail", "")), pairs)


def with_hint(message: str, hint: Hint) -> str:
    """A finding's explanation: `message`, then the hint in the core's words."""
    return f"{message}; {word_hint(hint, CORE_WORDS)}."


def finite_or_none(value: Any) -> float | None:
    """A finite number ≥ 0 from a file, else None (absent, text, NaN: files may be hostile)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def verdict(
    name: str, warn: bool, explanation: str, *, hint: Hint | None = None, **figures: Any
) -> CheckResult:
    """A passed or warning result (`hint`: what fixes the warning, in `explanation` too)."""
    return CheckResult(name, WARNING if warn else PASSED, explanation, figures, hint=hint)


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
