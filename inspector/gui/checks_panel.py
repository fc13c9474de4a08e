"""Sanity checks of the evaluation, per model: passed, warning or skipped, with the why.

A warning means the attack numbers themselves may be wrong (masked gradients, a softmax
output, a budget that has not converged); the panel puts them where the headline numbers
are read, one line per model, each check's explanation one click (or hover) away.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from inspector.core.results import EvaluationResults
from inspector.gui.colors import CHECK_COLORS as COLORS

MARKS = {"passed": "✓", "warning": "!", "skipped": "–"}
TIP = (
    "Checks run after each model's attack: is the model deterministic, are its outputs "
    "logits, are its input gradients usable, does accuracy reach ~0 at a huge ε, do weaker "
    "or gradient-free attacks stay weaker, has the attack budget converged, are all "
    "adversarial examples inside the ε-ball and [0, 1]. A warning means the robust-accuracy "
    "figure may be too optimistic; hover a check for what was measured."
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
            self.empty.setText("Sanity checks were off for this run (set-up panel).")
        elif results is None:
            self.empty.setText("Checks appear when a run finishes.")
        self.tree.setVisible(bool(models))
        for m in models:
            counts = {s: sum(c.status == s for c in m.checks) for s in MARKS}
            summary = f"{m.info.name}: {counts['passed']} passed"
            if counts["warning"]:
                summary += f", {counts['warning']} warning{'s' * (counts['warning'] > 1)}"
            if counts["skipped"]:
                summary += f", {counts['skipped']} skipped"
            top = QTreeWidgetItem([summary])
            worst = "warning" if counts["warning"] else "passed"
            top.setForeground(0, QBrush(QColor(COLORS[worst])))
            for check in m.checks:
                child = QTreeWidgetItem([f"{MARKS.get(check.status, '?')} {check.name}"])
                child.setForeground(0, QBrush(QColor(COLORS.get(check.status, "#808080"))))
                child.setToolTip(0, f"<p>{html.escape(check.explanation)}</p>")
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(bool(counts["warning"]))  # warnings open, all-clear folded
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

