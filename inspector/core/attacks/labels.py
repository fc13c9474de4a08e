"""Each attack with its whole budget, as the threat model's one line shows it.

`PGD-10 (step 2.5·ε/10, 1 restart)`, `Square (1000 queries)`, the ensemble with each
member's budget: one function per attack, named in its registry entry, so that a new
attack brings its own label and `ThreatModel.attack_label` never lists names.
Torch-free, like the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.core.attacks.step_size import DEFAULT_STEP_FACTOR

if TYPE_CHECKING:
    from inspector.core.threat import ThreatModel


def _restarts(t: ThreatModel) -> str:
    return f"{t.restarts} restart" + ("s" if t.restarts != 1 else "")


def _targets(t: ThreatModel, targets: int) -> str:
    return f"top-{targets} targets × {t.steps} steps, {_restarts(t)} each"


def fgsm(t: ThreatModel) -> str:
    return "FGSM"


def pgd(t: ThreatModel) -> str:
    step = (
        f"step {t.step_size:.4g}"
        if t.step_size is not None
        else f"step {DEFAULT_STEP_FACTOR:g}·ε/{t.steps}"
    )
    return f"PGD-{t.steps} ({step}, {_restarts(t)})"


def apgd_ce(t: ThreatModel) -> str:
    return f"APGD-CE ({t.steps} steps, {_restarts(t)})"


def apgd_t(t: ThreatModel, targets: int) -> str:
    return f"APGD-T ({_targets(t, targets)})"


def square(t: ThreatModel) -> str:
    return f"Square ({t.queries} queries)"


def fmn(t: ThreatModel) -> str:
    return f"FMN ({t.steps} steps, minimum norm)"


def ensemble(t: ThreatModel, targets: int) -> str:
    """APGD-CE; APGD-T on the most likely `targets` classes; Square."""
    return (
        f"ensemble (APGD-CE {t.steps} steps, {_restarts(t)}; APGD-T {_targets(t, targets)}; "
        f"Square {t.queries} queries)"
    )


def fast(t: ThreatModel, targets: int) -> str:
    """APGD-CE; APGD-T on `targets` MALT-ranked classes; the second look; Square as backstop."""
    return (
        f"fast audit (APGD-CE {t.steps} steps, {_restarts(t)}; APGD-T MALT-ranked "
        f"{_targets(t, targets)}; near the boundary APGD on CE and 9 ranked targets, FMN; "
        f"Square {t.queries} queries where gradients look masked)"
    )
