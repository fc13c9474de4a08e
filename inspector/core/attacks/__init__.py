"""Attacks: each its own module, each `Attack(model, norm, ...).perturb(x, y, eps)`."""

from inspector.core.attacks.apgd import APGD, APGDT
from inspector.core.attacks.base import Attack, AttackResult, Cancelled, make_attack
from inspector.core.attacks.ensemble import Ensemble
from inspector.core.attacks.fgsm import FGSM
from inspector.core.attacks.pgd import PGD

__all__ = [
    "APGD",
    "APGDT",
    "FGSM",
    "PGD",
    "Attack",
    "AttackResult",
    "Cancelled",
    "Ensemble",
    "make_attack",
]
