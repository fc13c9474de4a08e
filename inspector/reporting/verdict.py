"""A one-line verdict per model, derived from its numbers by one written rule.

A client reads the verdict before any table, so it must follow from the figures the report
prints and from nothing else; the rule, in the order it is applied:

1. a sanity check warns → "not informative": the robust accuracy may be too optimistic
   (masked gradients, a weak attack), so no level of robustness can be read from it;
2. the model has no result at ε (a run stopped early) → "not evaluated";
3. ε = 0 → "not informative": no perturbation was tested;
4. clean accuracy no better than CHANCE_FACTOR × chance → "not informative": a model
   that is bad on clean inputs looks robust for free;
5. otherwise, by the share of its clean accuracy the model keeps under attack
   (robust / clean accuracy, the robust accuracy an upper bound):
   below NO_ROBUSTNESS_BELOW → "no robustness", below FRAGILE_BELOW → "fragile",
   else "some robustness". Never "robust": an attack can only give an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.core.threat import format_eps

NO_ROBUSTNESS_BELOW = 0.10  # keeps under a tenth of its clean accuracy
FRAGILE_BELOW = 0.50  # keeps under half of it
CHANCE_FACTOR = 1.5  # clean accuracy at most 1.5 × 1/classes is near chance

NOT_INFORMATIVE = "not informative"
NOT_EVALUATED = "not evaluated"
NO_ROBUSTNESS = "no robustness"
FRAGILE = "fragile"
SOME_ROBUSTNESS = "some robustness"
LEVELS = (NOT_INFORMATIVE, NOT_EVALUATED, NO_ROBUSTNESS, FRAGILE, SOME_ROBUSTNESS)


@dataclass(frozen=True)
class Verdict:
    level: str  # one of LEVELS
    reason: str  # the figures behind it, in words

    @property
    def text(self) -> str:
        return f"{self.level}: {self.reason}"


def kept_share(clean: float, robust: float) -> float:
    """The share of clean accuracy left under attack (0 when the clean accuracy is 0)."""
    return robust / clean if clean > 0 else 0.0


def verdict(
    clean: float,
    robust: float | None,
    eps: float,
    classes: int = 0,
    warnings: tuple[str, ...] = (),
) -> Verdict:
    """The verdict for one model at ε; `warnings` names the sanity checks that warn."""
    at = f"ε = {format_eps(eps)}"
    if warnings:
        names = ", ".join(f"“{w}”" for w in warnings)
        check = "check" if len(warnings) == 1 else "checks"
        return Verdict(
            NOT_INFORMATIVE,
            f"the sanity {check} {names} warn{'s' if len(warnings) == 1 else ''}, so the "
            "robust accuracy may be too optimistic",
        )
    if robust is None:
        return Verdict(NOT_EVALUATED, f"the evaluation stopped before {at}")
    if eps == 0:
        return Verdict(NOT_INFORMATIVE, "ε = 0 tests no perturbation")
    if classes > 0 and clean <= CHANCE_FACTOR / classes:
        return Verdict(
            NOT_INFORMATIVE,
            f"clean accuracy {clean:.3f} is near chance ({1 / classes:.3f} for {classes} classes)",
        )
    kept = kept_share(clean, robust)
    figures = (
        f"at {at} robust accuracy ≤ {robust:.3f} keeps {kept * 100:.1f} % of clean accuracy "
        f"{clean:.3f}"
    )
    if kept < NO_ROBUSTNESS_BELOW:
        return Verdict(NO_ROBUSTNESS, f"{figures}: the attack breaks almost every example")
    if kept < FRAGILE_BELOW:
        return Verdict(FRAGILE, figures)
    return Verdict(SOME_ROBUSTNESS, f"{figures} (an upper bound: a stronger attack may lower it)")
