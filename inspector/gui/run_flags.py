"""How the window opens models and sizes a run when started with the command line's flags.

`robustness-inspector gui` takes every flag of `evaluate` that shapes a run; the threat
model goes to the set-up panel, the rest lives here for the loads and runs of the session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunFlags:
    """Trust, architecture and metadata for every model; resizing and subset for every run."""

    trust_code: bool = False
    arch: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # class_names, input_shape, ...
    resize: bool = False
    limit: int | None = None
