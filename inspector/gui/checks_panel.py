"""Sanity checks of the evaluation, per model: passed, warning, not informative or skipped.

A warning means the attack numbers themselves may be wrong (masked gradients, a softmax
output, a budget that has not converged); the panel puts them where the headline numbers
are read, one line per model, each check's explanation one click (or hover) away.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from inspector.core.checks import CheckResult
from inspector.core.results import EvaluationResults
from inspector.gui.wording import WINDOW_WORDS
from inspector.render.palette import CHECK_COLORS as COLORS

MARKS = {"passed": "✓", "warning": "!", "not informative": "○", "skipped": "–"}
TIP = (
    "Checks run after each model's attack: is the model deterministic, are its outputs "
    "logits, are its input gradients usable, does accuracy reach ~0 at a huge ε, do weaker "
    "or gradient-free attacks stay weaker, has the attack budget converged, are all "
    "adversarial examples inside the ε-ball and [0, 1]. A warning means the robust-accuracy "
    "figure may be too optimistic; \"not informative\" means a check had nothing to test; "
    "hover a check for what was measured and what it cost."
)


class ChecksPanel(QWidget):
    """One collapsible row per model with a count, its checks underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<b>Sanity checks</b>")
        self.title.setToolTip(TIP)
        self.tree = QTreeWidget(objectName="checksTree")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setWordWrap(True)
        self.tree.setToolTip(TIP)
        self.empty = QLabel("Checks appear when a run finishes.")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: gray;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addWidget(self.tree, 1)
        self.set_results(None)

    def set_results(self, results: EvaluationResults | None) -> None:
        self.tree.clear()
        models = [] if results is None else [m for m in results.models if m.checks]
        self.empty.setVisible(not models)
        if results is not None and not models:
            self.empty.setText(
                "No check finished before the run was cancelled."
                if results.partial
                else "Sanity checks were off for this run (set-up panel)."
            )
        elif results is None:
            self.empty.setText("Checks appear when a run finishes.")
        self.tree.setVisible(bool(models))
        for m in models:
            top = QTreeWidgetItem([model_summary(m.info.name, m.checks)])
            warned = any(c.status == "warning" for c in m.checks)
            top.setForeground(0, QBrush(QColor(COLORS["warning" if warned else "passed"])))
            for check in m.checks:
                child = QTreeWidgetItem([f"{MARKS.get(check.status, '?')} {check.name}"])
                child.setForeground(0, QBrush(QColor(COLORS.get(check.status, "#808080"))))
                child.setToolTip(0, check_tooltip(check))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(warned)  # warnings open, all-clear folded
        self.tree.setColumnCount(1)
        self.tree.header().setStretchLastSection(True)

    def summary(self) -> list[str]:
        """The rows as shown (tests, screenshots' text)."""
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            rows.append(top.text(0))
            rows += ["  " + top.child(j).text(0) for j in range(top.childCount())]
        return rows



def model_summary(name: str, checks: list[CheckResult]) -> str:
    """"digits: 6 passed, 1 warning, 1 not informative" (zero counts left out)."""
    counts = {s: sum(c.status == s for c in checks) for s in MARKS}
    parts = [f"{counts['passed']} passed"]
    if counts["warning"]:
        parts.append(f"{counts['warning']} warning{'s' * (counts['warning'] > 1)}")
    for status in ("not informative", "skipped"):
        if counts[status]:
            parts.append(f"{counts[status]} {status}")
    return f"{name}: {', '.join(parts)}"


def check_tooltip(check: CheckResult) -> str:
    """The explanation, then what the check cost (when recorded)."""
    cost = "" if check.seconds is None else f"<p><i>Took {check.seconds:.2f} s.</i></p>"
    return f"<p>{html.escape(check.worded(WINDOW_WORDS))}</p>{cost}"
