"""The executive summary: what page 1 says, so a client who reads nothing else reads this.

Per model the headline figures at the report's ε (clean accuracy and robust accuracy with
their 95 % intervals), its verdict (inspector.reporting.verdict), and every sanity-check
warning in full: a warning must never hide on a later page.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.core.threat import format_eps
from inspector.reporting.data import Field, ModelSummary, ReportData
from inspector.reporting.verdict import Verdict, verdict

NO_CHECKS = (
    "The sanity checks were not run for this evaluation: nothing here rules out masked "
    "gradients or a too weak attack, so every robust accuracy may be too optimistic."
)
NO_WARNINGS = "No sanity check warns."
PARTIAL = (
    "The evaluation was stopped early: some models lack results for the larger ε values "
    "(marked partial in section 2)."
)


@dataclass(frozen=True)
class Headline:
    name: str
    index: int
    clean_accuracy: float
    clean_interval: tuple[float, float]
    robust_accuracy: float | None  # an upper bound (attack-based); None: not evaluated at ε
    robust_interval: tuple[float, float] | None
    warned: bool
    verdict: Verdict


@dataclass(frozen=True)
class Warning:
    model: str
    check: str
    explanation: str


@dataclass(frozen=True)
class Summary:
    eps: float
    eps_label: str
    threat: list[Field]
    headlines: list[Headline]
    warnings: list[Warning]
    checks_ran: bool
    partial: bool = False

    @property
    def checks_note(self) -> str | None:
        """What to say when there is no warning to list."""
        if self.warnings:
            return None
        return NO_WARNINGS if self.checks_ran else NO_CHECKS


def _warning_names(m: ModelSummary) -> tuple[str, ...]:
    return tuple(c.name for c in m.checks if c.status == "warning")


def headline(m: ModelSummary, eps: float) -> Headline:
    row = m.row_at(eps)
    robust = None if row is None else row.robust_accuracy
    return Headline(
        name=m.name,
        index=m.index,
        clean_accuracy=m.clean_accuracy,
        clean_interval=m.clean_interval,
        robust_accuracy=robust,
        robust_interval=None if row is None else row.robust_interval,
        warned=m.warned,
        verdict=verdict(m.clean_accuracy, robust, eps, m.classes, _warning_names(m)),
    )


def build_summary(data: ReportData) -> Summary:
    """The summary at the report's ε (the ε of the glance table and the galleries)."""
    eps = data.gallery_eps
    warnings = [
        Warning(m.name, c.name, c.explanation)
        for m in data.models
        for c in m.checks
        if c.status == "warning"
    ]
    return Summary(
        eps=eps,
        eps_label=format_eps(eps),
        threat=data.threat_brief,
        headlines=[headline(m, eps) for m in data.models],
        warnings=warnings,
        checks_ran=any(m.checks for m in data.models),
        partial=data.partial or any(m.partial for m in data.models),
    )
