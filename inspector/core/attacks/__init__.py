"""Attacks: each its own module, each `Attack(model, norm, ...).perturb(x, y, eps)`.

The names below load on first use (PEP 562), so that `inspector.core.attacks.registry`,
which the threat model and `--help` read, can be imported without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "APGD": "apgd",
    "APGDT": "apgd",
    "Attack": "base",
    "AttackResult": "base",
    "Cancelled": "base",
    "Ensemble": "ensemble",
    "FGSM": "fgsm",
    "PGD": "pgd",
    "build_attack": "registry",
    "make_attack": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
