"""The examples table (`model`: rows read on demand, filtered and sorted with numpy) and its
panel (`panel`: filters, selection, and what it tells the session)."""

from inspector.gui.examples.model import (
    ADV,
    BREAKING,
    CLEAN,
    COLUMNS,
    DISAGREE,
    INDEX,
    STATUS,
    THUMB,
    TRUE,
    ExamplesModel,
)
from inspector.gui.examples.panel import STATUS_FILTERS, ExamplesPanel

__all__ = [
    "ADV",
    "BREAKING",
    "CLEAN",
    "COLUMNS",
    "DISAGREE",
    "INDEX",
    "STATUS",
    "STATUS_FILTERS",
    "THUMB",
    "TRUE",
    "ExamplesModel",
    "ExamplesPanel",
]
