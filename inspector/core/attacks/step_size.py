"""The one step-size rule of PGD: 2.5·ε/steps unless a step size is given (Madry et al.).

PGD's own default, the threat model's `step_for`, the registry's `step_options` (what the
sweep, the checks and the saliency command pass to PGD) and the huge-ε check all call
`pgd_step_size`, so a change of rule cannot reach one of them and not the others.
Torch-free: the threat model and the report's wording import it.
"""

from __future__ import annotations

DEFAULT_STEP_FACTOR = 2.5  # Madry et al.: step = 2.5·ε/steps reaches the ball's far side


def pgd_step_size(eps: float, steps: int, step_size: float | None = None) -> float:
    """The step PGD takes at this ε: `step_size` when given, else 2.5·ε/steps."""
    if step_size is not None:
        return step_size
    return DEFAULT_STEP_FACTOR * eps / steps
