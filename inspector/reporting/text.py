"""The report's prose: how the numbers were made (method) and what they do not say (limitations).

Plain strings built from the results alone, so the same words go into the PDF, a test, or any
other view; every figure quoted here comes from the results or from inspector.core.metrics.
"""

from __future__ import annotations

from inspector.core.attacks.registry import spec
from inspector.core.attacks.step_size import DEFAULT_STEP_FACTOR
from inspector.core.results import EvaluationResults
from inspector.core.threat import NORM_SYMBOLS, ThreatModel, format_eps


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def step_rule(threat: ThreatModel) -> str:
    """The step size rule in words: fixed, or proportional to ε."""
    attack = spec(threat.attack)
    if attack.single_step:
        return "one step of length ε from the clean point"
    if attack.self_tuning:  # the APGDs choose their own step sizes
        return "chosen by APGD itself (a step-size schedule with checkpoints, halved on stalls)"
    if attack.uses_queries:  # Square: the ensembles, which spend queries too, tune above
        return f"random square updates, {getattr(threat, 'queries', '?')} queries per example"
    if threat.step_size is not None:
        return f"{threat.step_size:.4g} at every ε (fixed)"
    return (
        f"{DEFAULT_STEP_FACTOR:g}·ε/{threat.steps} at each ε (Madry et al.: enough to cross "
        "the ball)"
    )


def attack_paragraph(threat: ThreatModel) -> str:
    attack = spec(threat.attack)
    name = attack.prose
    ball = f"the {NORM_SYMBOLS.get(threat.norm, threat.norm)} ball of radius ε"
    text = f"Attack: {name} ({threat.attack_label()}), within {ball}, inputs kept in [0, 1]."
    if attack.fixed_step:  # PGD: its steps, step rule and restarts in full
        text += (
            f" {_plural(threat.steps, 'step')}, step size {step_rule(threat)}; "
            f"{_plural(threat.restarts, 'restart')}: restart 0 starts at the clean point, "
            "later restarts at a uniformly random point of the ε-ball. Each example keeps the "
            "first adversarial point found at any step or restart."
        )
    elif not attack.single_step:
        text += f" Step size: {step_rule(threat)}."
    return text + f" Random seed {threat.seed}."


def sweep_paragraph(results: EvaluationResults) -> str:
    grid = ", ".join(format_eps(e) for e in results.threat.eps)
    return (
        f"ε grid: {{{grid}}}, in pixel units of images scaled to [0, 1] (normalisation, if "
        "any, is part of the model). The grid is swept in increasing order and each ε attacks "
        "only the examples still robust at the previous one, so an example's breaking ε is the "
        "smallest grid ε at which the attack flipped it, and every curve is monotone in ε."
    )


def examples_paragraph(results: EvaluationResults) -> str:
    d, n = results.dataset, results.threat.num_examples
    devices = ", ".join(sorted({m.info.device for m in results.models})) or "unknown"
    if n is None or n >= d.size:
        subset = f"all {d.size} examples of {d.spec}"
    else:
        subset = (
            f"{n} of the {d.size} examples of {d.spec}, a class-stratified subset drawn "
            f"with seed {results.threat.seed}"
        )
    return f"Examples: {subset}. Device: {devices}."


def definitions_paragraph() -> str:
    return (
        "Definitions (per example, exactly one holds at each ε): a natural error is "
        "misclassified without attack; a boundary error is classified correctly but flipped by "
        "the attack within ε; otherwise the example counts as robust. Clean accuracy = 1 − "
        "natural-error rate; robust accuracy = clean accuracy − boundary-error rate. Intervals "
        "are 95 % Wilson score intervals over the evaluated examples."
    )


def method_paragraphs(results: EvaluationResults) -> list[str]:
    """What was done, in enough detail to repeat it."""
    return [
        attack_paragraph(results.threat),
        sweep_paragraph(results),
        examples_paragraph(results),
        definitions_paragraph(),
    ]


def limitations_paragraphs(
    results: EvaluationResults, widest_half_interval: float, saliency: bool = False
) -> list[str]:
    """What the numbers do not say: upper bound, untested threats, sampling error, partial runs."""
    t = results.threat
    norm = NORM_SYMBOLS.get(t.norm, t.norm)
    n = t.num_examples if t.num_examples is not None else results.dataset.size
    paragraphs = [
        "Robust accuracy here is measured by an attack, so it is an upper bound on the true "
        "robust accuracy under this threat model: a stronger attack (more steps, restarts or "
        "other attacks) can only lower it. Only certified figures, where shown, are lower bounds.",
        f"Only {norm} perturbations with ε up to {format_eps(max(t.eps))} were tested. Other "
        "threat models (other norms or radii, patches, rotations, colour shifts, natural "
        "corruptions) are untested, and robustness under one does not carry over to another.",
        f"All figures come from {n} examples; with that many, a 95 % interval on an accuracy "
        f"is up to ±{widest_half_interval:.3f} wide (see the intervals in the tables), so "
        "differences between models smaller than that may be sampling noise.",
    ]
    if results.partial:
        paragraphs.append(
            "The evaluation was stopped early: some models lack results for the larger ε "
            "values (marked partial)."
        )
    if saliency:
        paragraphs.append(
            "Saliency maps show where a model's gradient is large; a human-aligned map is not "
            "evidence of robustness or safety."
        )
    return paragraphs
