"""One table of the attacks: name, label, budget defaults, needs, members, and a builder.

The CLI's `--attack` choices and defaults, the set-up panel's combo, the checks, the
report's wording and the threat model's validation all read `ATTACK_SPECS`; adding an
attack is its module plus one entry here (timm's and torchattacks' registries, not an
if-chain). The attack modules never import this one: it imports them, inside each builder,
so that naming an attack (`--help`, a `ThreatModel`) does not import torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from inspector.core.attacks import labels
from inspector.core.attacks.step_size import pgd_step_size
from inspector.core.errors import InspectorError

if TYPE_CHECKING:
    import torch

    from inspector.core.attacks.base import Attack, Forward
    from inspector.core.threat import ThreatModel

Builder = Callable[["ThreatModel", "torch.nn.Module | None", "Forward | None"], "Attack"]
DEFAULT_QUERIES = 1000  # Square's budget per example, alone or in an ensemble
APGD_T_TARGETS = 9  # APGD-T attacks the 9 most likely other classes (fewer if there are fewer)
FAST_TARGETS = 3  # the fast audit's APGD-T runs on the 3 best MALT-ranked classes


@dataclass(frozen=True)
class AttackSpec:
    """What the front ends, the checks and the report need to know of one attack."""

    name: str  # what --attack, the results file and `broken_by` say
    label: str  # short, as the summary table and the threat model's line show it
    note: str  # what sets it apart, in the window's combo: "Square (gradient-free)"
    description: str  # one line for --help
    prose: str  # the report's method sentence: what the attack is, with its paper
    build: Builder
    budget_label: Callable[[ThreatModel], str]  # the attack and its budget, on one line
    steps: int = 100  # default iterations when named without --steps
    restarts: int = 1  # default restarts when named without --restarts
    queries: int | None = None  # default Square queries, where it spends any
    gradient_free: bool = False  # runs on forward passes alone (ONNX without torch conversion)
    members: tuple[tuple[str, Builder], ...] = ()  # an ensemble's attacks, in the order run
    targets: int | None = None  # APGD-T's target classes (its own, or its member's)
    takes_steps: bool = True  # steps and restarts apply (not to FGSM, nor to Square)
    fixed_step: bool = False  # takes PGD's step size (2.5·ε/steps or --step-size)
    self_tuning: bool = False  # APGD chooses its own step sizes
    minimum_norm: bool = False  # a flipping radius per example, not a point at one ε
    single_step: bool = False  # one step of length ε from the clean point (FGSM)
    backstop: bool = False  # its gradient-free members run only where gradients look masked
    budget_note: str = ""  # why steps and restarts do not apply, where they do not

    @property
    def uses_queries(self) -> bool:
        return self.queries is not None

    @property
    def multi_step_gradient(self) -> bool:
        """A gradient attack with steps to spend: what the checks compare others with."""
        return self.takes_steps and not self.gradient_free

    @property
    def is_ensemble(self) -> bool:
        return bool(self.members)

    @property
    def runs_without_gradients(self) -> bool:
        """Runs on forward passes alone: gradient-free, or an ensemble reduced to those."""
        return self.gradient_free or self.is_ensemble

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.members)

    @property
    def entry(self) -> str:
        """The set-up panel's combo entry: the label, capitalised, and its note."""
        head = self.label[:1].upper() + self.label[1:]
        return f"{head} ({self.note})" if self.note else head


# -- builders: one per attack, each importing only its own module ------------------------


def _fgsm(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.fgsm import FGSM

    return FGSM(model, threat.norm)


def _pgd(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.pgd import PGD

    return PGD(model, threat.norm, steps=threat.steps, restarts=threat.restarts)


def _apgd_ce(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.apgd import APGD

    return APGD(model, threat.norm, steps=threat.steps, restarts=threat.restarts)


def _apgd_t(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.apgd import APGDT

    return APGDT(
        model, threat.norm, steps=threat.steps, restarts=threat.restarts, targets=APGD_T_TARGETS
    )


def _malt_apgd_t(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.fast import MaltAPGDT

    return MaltAPGDT(
        model, threat.norm, steps=threat.steps, restarts=threat.restarts, targets=FAST_TARGETS
    )


def _fast(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    """The fast audit in stages (fast.py); without a gradient path Square alone, as the
    ensemble does, under the audit's name."""
    if model is None:
        return _ensemble(threat, model, forward)
    from inspector.core.attacks.fast import fast_audit

    return fast_audit(
        model,
        threat.norm,
        steps=threat.steps,
        restarts=threat.restarts,
        queries=threat.queries,
        forward=forward,
        targets=FAST_TARGETS,
    )


def _square(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.square import Square

    if forward is None:
        raise InspectorError(f"{threat.attack} needs the model's forward pass or its module")
    return Square(forward, threat.norm, queries=threat.queries)


def _fmn(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    from inspector.core.attacks.fmn import FMN

    return FMN(model, threat.norm, steps=threat.steps)


def _ensemble(threat: ThreatModel, model: Any, forward: Forward | None) -> Attack:
    """The spec's members in order, each on the points the ones before left robust; without
    a gradient path only its gradient-free members (Square), under the ensemble's name."""
    from inspector.core.attacks.ensemble import Ensemble

    members = [
        (name, build(threat, model, forward))
        for name, build in spec(threat.attack).members
        if model is not None or spec(name).gradient_free
    ]
    ensemble = Ensemble(members)
    ensemble.name = threat.attack  # "fast" or "ensemble", also when reduced to Square
    return ensemble


ATTACK_SPECS: tuple[AttackSpec, ...] = (
    AttackSpec(
        "fgsm",
        "FGSM",
        "one step, fast",
        "one gradient-sign step of length ε, for teaching",
        "the fast gradient sign method (FGSM, Goodfellow et al. 2015): one step of length ε",
        _fgsm,
        labels.fgsm,
        steps=1,
        takes_steps=False,
        single_step=True,
        budget_note="FGSM is a single step of size ε: steps and restarts do not apply",
    ),
    AttackSpec(
        "pgd",
        "PGD",
        "",
        "projected gradient descent, step 2.5·ε/steps (fast, for teaching)",
        "projected gradient descent (PGD, Madry et al. 2018) on the cross-entropy loss",
        _pgd,
        labels.pgd,
        steps=10,
        fixed_step=True,
    ),
    AttackSpec(
        "apgd-ce",
        "APGD-CE",
        "",
        "Auto-PGD on the cross-entropy, choosing its own step size",
        "Auto-PGD on the cross-entropy loss (APGD-CE, Croce & Hein 2020)",
        _apgd_ce,
        labels.apgd_ce,
        self_tuning=True,
    ),
    AttackSpec(
        "apgd-t",
        "APGD-T",
        "targeted DLR",
        f"targeted Auto-PGD on the DLR loss, against the {APGD_T_TARGETS} most likely classes",
        "targeted Auto-PGD (APGD-T, Croce & Hein 2020), against the most likely other "
        "classes in turn",
        _apgd_t,
        partial(labels.apgd_t, targets=APGD_T_TARGETS),
        targets=APGD_T_TARGETS,
        self_tuning=True,
    ),
    AttackSpec(
        "square",
        "Square",
        "gradient-free",
        "gradient-free random search, which runs on ONNX through onnxruntime alone",
        "the Square attack (Andriushchenko et al. 2020), a gradient-free random search "
        "that needs forward passes only",
        _square,
        labels.square,
        queries=DEFAULT_QUERIES,
        gradient_free=True,
        takes_steps=False,
        budget_note="Square is budgeted in queries, not gradient steps",
    ),
    AttackSpec(
        "fmn",
        "FMN",
        "minimum norm",
        "fast minimum-norm attack: a flipping radius per example",
        "the fast minimum-norm attack (FMN, Pintor et al. 2021), which searches for the "
        "smallest flipping perturbation of each example",
        _fmn,
        labels.fmn,
        minimum_norm=True,
    ),
    AttackSpec(
        "ensemble",
        "ensemble",
        "APGD-CE, APGD-T, Square",
        "the default for audits: APGD-CE, then APGD-T, then Square on the points still robust",
        "an ensemble of parameter-free attacks after AutoAttack (Croce & Hein 2020): "
        "APGD-CE, then APGD-T, then Square, each on the points still robust, keeping the "
        "point-wise worst case",
        _ensemble,
        partial(labels.ensemble, targets=APGD_T_TARGETS),
        # Each APGD member runs twice: with one run it missed an example torchattacks'
        # AutoAttack found (digits_standard, ε = 0.15, 100 digits); with two it matched it
        # everywhere tested.
        restarts=2,
        queries=DEFAULT_QUERIES,
        members=(("apgd-ce", _apgd_ce), ("apgd-t", _apgd_t), ("square", _square)),
        targets=APGD_T_TARGETS,
        self_tuning=True,
    ),
    AttackSpec(
        "fast",
        "fast audit",
        "APGD-CE, MALT-ranked APGD-T, a second look, Square as backstop",
        f"APGD-CE, APGD-T on {FAST_TARGETS} MALT-ranked targets, near the boundary APGD on CE "
        "and 9 targets and FMN, Square only where gradients look masked: 0.12-0.26 of "
        "AutoAttack's time at its strength (README)",
        "a fast audit after AutoAttack and MALT (Melamed et al. 2024): APGD-CE, then "
        f"APGD-T against the {FAST_TARGETS} classes whose boundary a linear estimate puts "
        "nearest, each on the points still robust; near the boundary (relative margin below "
        "0.1) a second look, APGD on the cross-entropy and 9 ranked targets at once, then "
        "FMN; Square only where the gradients look masked (zero or not finite, or the margin "
        "barely moved); the point-wise worst case is kept",
        _fast,
        partial(labels.fast, targets=FAST_TARGETS),
        queries=DEFAULT_QUERIES,
        members=(("apgd-ce", _apgd_ce), ("apgd-t", _malt_apgd_t), ("square", _square)),
        targets=FAST_TARGETS,
        self_tuning=True,
        backstop=True,
    ),
)
_BY_NAME = {s.name: s for s in ATTACK_SPECS}
NAMES: tuple[str, ...] = tuple(_BY_NAME)


def spec(name: str) -> AttackSpec:
    """The spec of the attack called `name`; an unknown name says which ones there are."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise InspectorError(f"unknown attack {name!r}: choose one of {', '.join(NAMES)}") from None


def step_options(threat: ThreatModel, eps: float) -> dict[str, float]:
    """What the threat's attack takes in `perturb` besides x, y, ε: PGD its step size."""
    if not spec(threat.attack).fixed_step:
        return {}
    return {"step_size": pgd_step_size(eps, threat.steps, threat.step_size)}


def build_attack(
    threat: ThreatModel, model: torch.nn.Module | None, forward: Forward | None = None
) -> Attack:
    """The attack a threat model names, with its budget.

    `model` is the differentiable module, or None when the model has no gradient path; then
    only the gradient-free attacks run, through `forward` (e.g. onnxruntime), and an
    ensemble is its gradient-free members alone. `forward` defaults to the module itself.
    """
    s = spec(threat.attack)
    if forward is None and model is not None:
        from inspector.core.attacks.base import module_forward

        forward = module_forward(model)
    if model is None and not s.gradient_free:
        if not s.is_ensemble:
            raise InspectorError(f"{s.name} needs gradients, which this model cannot give")
        if forward is None:
            raise InspectorError(f"{s.name} needs the model's forward pass or its module")
    return s.build(threat, model, forward)


def make_attack(
    name: str,
    model: torch.nn.Module | None,
    norm: str,
    steps: int,
    restarts: int,
    *,
    queries: int = DEFAULT_QUERIES,
    forward: Forward | None = None,
) -> Attack:
    """`build_attack` for a name and a budget given one by one (the sweep, tests, benchmarks)."""
    from inspector.core.threat import ThreatModel

    spec(name)  # the registry's message for an unknown name, before any other check
    threat = ThreatModel(norm=norm, attack=name, steps=steps, restarts=restarts, queries=queries)
    return build_attack(threat, model, forward)
