"""The threat model: one immutable value that travels with every number.

An attack-based robust accuracy means nothing without the norm, the ε, the attack
and its budget; `ThreatModel.describe()` renders all of it on one line so that no
figure is ever printed or saved without it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any

from inspector.core.attacks.registry import DEFAULT_QUERIES, spec
from inspector.core.attacks.step_size import pgd_step_size
from inspector.core.errors import HintKind, InspectorError

NORMS = ("linf", "l2")
NORM_SYMBOLS = {"linf": "L∞", "l2": "L2"}


def parse_eps(text: str) -> float:
    """Parse one ε: a decimal (`0.03`) or a fraction (`8/255`); negative or non-finite fails."""
    text = text.strip()
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise InspectorError(
            f"cannot read ε {text!r}: use a number such as 0.03 or 8/255"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InspectorError(f"ε must be a finite number ≥ 0, got {text!r}")
    return value


def parse_eps_list(text: str) -> tuple[float, ...]:
    """Parse a comma-separated ε grid such as `0,2/255,4/255,8/255`; returns it sorted, unique."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise InspectorError("the ε list is empty", HintKind.EPS_LIST)
    return tuple(sorted({parse_eps(p) for p in parts}))


def format_eps(eps: float) -> str:
    """Show ε as a short decimal when it has one (0.2, 0.025), else as k/255 (8/255)."""
    if eps == 0:
        return "0"
    if abs(round(eps, 4) - eps) < 1e-12:
        return f"{eps:g}"
    k = eps * 255
    if abs(k - round(k)) < 1e-9 and round(k) > 0:
        return f"{round(k)}/255"
    return f"{eps:.4g}"


@dataclass(frozen=True)
class ThreatModel:
    """Norm, ε grid and attack budget of an evaluation.

    `step_size` None means the per-ε default 2.5·ε/steps. `num_examples` is filled in
    once the evaluated subset is known. Restart 0 of PGD starts at the clean point,
    further restarts at a uniformly random point of the ε-ball. `queries` is the Square
    attack's budget (alone or in the ensemble); `steps` and `restarts` are APGD's in the
    ensemble (APGD-T: `restarts` per target class); the APGDs choose their own step sizes.
    `certificate` False skips the probe for the exact certificate of affine models.
    """

    norm: str = "linf"
    eps: tuple[float, ...] = (0.0,)
    attack: str = "pgd"
    steps: int = 10
    step_size: float | None = None
    restarts: int = 1
    seed: int = 0
    num_examples: int | None = None
    queries: int = DEFAULT_QUERIES
    certificate: bool = True  # try the exact affine certificate (a few batched passes)

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise InspectorError(f"unknown norm {self.norm!r}: choose one of {', '.join(NORMS)}")
        spec(self.attack)  # an unknown name says which ones there are
        if not self.eps:
            raise InspectorError("the ε grid is empty")
        if any(not math.isfinite(e) or e < 0 for e in self.eps):
            raise InspectorError(f"ε must be finite and ≥ 0, got {list(self.eps)}")
        if list(self.eps) != sorted(set(self.eps)):
            object.__setattr__(self, "eps", tuple(sorted(set(self.eps))))
        if self.steps < 1 or self.restarts < 1:
            raise InspectorError("steps and restarts must be at least 1")
        if self.queries < 1:
            raise InspectorError(f"the Square attack needs at least 1 query, got {self.queries}")
        if not isinstance(self.certificate, bool):
            raise InspectorError(f"certificate must be true or false, got {self.certificate!r}")
        if self.step_size is not None and not (self.step_size > 0):
            raise InspectorError(f"step size must be > 0, got {self.step_size}")

    def step_for(self, eps: float) -> float:
        """The step size used at this ε."""
        if spec(self.attack).single_step:
            return eps
        return pgd_step_size(eps, self.steps, self.step_size)

    def with_examples(self, n: int) -> ThreatModel:
        return replace(self, num_examples=n)

    def attack_label(self) -> str:
        """The attack and its whole budget (steps, restarts, queries, step size rule)."""
        return spec(self.attack).budget_label(self)

    def describe(self) -> str:
        """One line that goes with every printed or saved figure."""
        grid = ", ".join(format_eps(e) for e in self.eps)
        n = "? examples" if self.num_examples is None else f"{self.num_examples} examples"
        return (
            f"{NORM_SYMBOLS[self.norm]} ε ∈ {{{grid}}} · {self.attack_label()} · {n} · "
            f"seed {self.seed} · robust accuracy is an upper bound (attack-based)"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["eps"] = list(self.eps)
        data["eps_labels"] = [format_eps(e) for e in self.eps]
        data["description"] = self.describe()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThreatModel:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        fields["eps"] = tuple(float(e) for e in fields.get("eps", (0.0,)))
        return cls(**fields)
