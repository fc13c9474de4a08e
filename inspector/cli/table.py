"""The summary table printed after an evaluation, headed by the threat model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.core.attacks.registry import spec
from inspector.core.threat import format_eps

if TYPE_CHECKING:  # the results module imports torch: not for building the parser
    from inspector.core.results import EvaluationResults


def _identity(m) -> str:
    """Name, backend, device, file hash; for ONNX the providers granted and the conversion gap."""
    i = m.info
    parts = [i.backend, i.device, f"sha256 {i.sha256[:12]}…"]
    if i.providers:
        parts.append("providers " + "+".join(i.providers))
    if m.sweep.onnx_max_abs_diff is not None:
        parts.append(f"torch conversion max rel. logit diff {m.sweep.onnx_max_abs_diff:.1g}")
    return f"{i.name} ({', '.join(parts)})"


def _broken_by_lines(results: EvaluationResults) -> list[str]:
    """For the ensemble: per model, how many examples each member broke (at the largest ε)."""
    lines = []
    for m in results.models:
        s = m.sweep
        if s.attack_note:
            lines.append(f"{m.info.name}: {s.attack_note}")
        if s.certificate_note:
            lines.append(f"{m.info.name}: {s.certificate_note}")
        members = spec(results.threat.attack).member_names
        if not members or s.broken_by is None or s.eps_done == 0:
            continue
        counts = s.broken_by_counts()
        shown = [f"{spec(a).label} {counts.get(a, 0)}" for a in members]
        shown += [f"{a} {c}" for a, c in counts.items() if a not in members]
        eps = format_eps(s.eps[s.eps_done - 1])
        lines.append(f"{m.info.name}: broken at ε ≤ {eps} by " + ", ".join(shown))
    return ["", *lines] if lines else []


def summary_table(results: EvaluationResults) -> str:
    """Per model and ε: clean, robust (an upper bound), boundary error, natural error; certified
    (a lower bound) where the model is affine and the certificate exact."""
    d = results.dataset
    lines = [
        f"Threat model: {results.threat.describe()}",
        f"Dataset: {d.spec} ({results.threat.num_examples} of {d.size} examples, "
        f"{'×'.join(map(str, d.shape))}, "
        f"{len(d.class_names)} classes, sha256 {d.sha256[:12]}…)",
    ]
    lines += [f"Model: {_identity(m)}" for m in results.models]
    lines.append("")
    any_certified = any(m.sweep.certified_radius is not None for m in results.models)
    width = max([len("model")] + [len(m.info.name) for m in results.models])
    header = (
        f"{'model':<{width}}  {'ε':>8}  {'clean':>6}  {'robust':>6}  {'boundary':>8}  "
        f"{'natural':>7}"
    )
    lines += [
        header + ("  certified" if any_certified else ""),
        "-" * (len(header) + 11 * any_certified),
    ]
    for m in results.models:
        certified = dict(m.sweep.certified_curve() or [])
        for r in m.sweep.curve():
            row = (
                f"{m.info.name:<{width}}  {format_eps(r.eps):>8}  {r.clean_accuracy:6.3f}  "
                f"{r.robust_accuracy:6.3f}  {r.boundary_error_rate:8.3f}  "
                f"{r.natural_error_rate:7.3f}"
            )
            if any_certified:
                row += f"  {certified[r.eps]:9.3f}" if r.eps in certified else f"  {'–':>9}"
            lines.append(row)
        if m.sweep.partial:
            lines.append(
                f"{m.info.name:<{width}}  (partial: stopped after {m.sweep.eps_done} ε values)"
            )
    lines += _broken_by_lines(results)
    lines += [
        "",
        "robust = accuracy under the attack: an upper bound on the true robust accuracy.",
    ]
    if any_certified:
        lines.append(
            "certified = exact robust accuracy of an affine model without the [0, 1] box "
            "(a lower bound)."
        )
    return "\n".join(lines)
