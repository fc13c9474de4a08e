"""Everything an audit report says, as plain data: built from the results alone, Qt-free.

The PDF renderer (inspector/render/pdf) only lays this out, so every number in the report is
checked here against inspector.core.metrics, the one place rates are defined. Accuracies
come with 95 % Wilson intervals over the evaluated examples; optional parts (checks,
certified curves, randomized smoothing) appear when the results carry them, saliency maps
when the caller gives a source for them (reporting/saliency.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from inspector import __version__
from inspector.core.attacks.registry import spec
from inspector.core.checks.result import finite_or_none
from inspector.core.data.base import ImageDataset
from inspector.core.intervals import count_of, wilson_interval
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.threat import NORM_SYMBOLS, ThreatModel, format_eps
from inspector.reporting.gallery import (
    Gallery,
    build_gallery,
    eps_index_for,
    needs_dataset,
    open_images,
)
from inspector.reporting.saliency import (
    GallerySaliency,
    SaliencyFn,
    as_gallery_saliency,
    saliency_caption,
    saliency_method_paragraph,
)
from inspector.reporting.text import limitations_paragraphs, method_paragraphs, step_rule

TITLE = "Robustness audit report"
SMOOTHING_LABELS = {"description": "Certificate", "seconds": "Time (s)"}
ADVERSARIAL_IN_AUDITS = (
    "Adversarial images are stored in audits only (.riaudit); this report was made from a "
    "results file, so the galleries show clean images and predictions."
)
SALIENCY_NOT_STORED = (
    "No saliency maps: audits store predictions and adversarial images, not saliency (the "
    "window computes it per example from the model)."
)


def format_rate(value: float) -> str:
    """A rate or accuracy as the report prints it (three decimals, like the CLI table)."""
    return f"{value:.3f}"


def format_interval(interval: tuple[float, float]) -> str:
    return f"{interval[0]:.3f}–{interval[1]:.3f}"


def format_date(iso: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (unchanged when it does not parse)."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or "unknown"
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    mono: bool = False  # hashes and paths: monospace


@dataclass(frozen=True)
class EpsRow:
    eps: float
    eps_label: str
    robust_accuracy: float  # an upper bound (attack-based)
    robust_interval: tuple[float, float]
    boundary_error_rate: float
    natural_error_rate: float
    certified_accuracy: float | None = None  # a lower bound, when exact


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "passed", "warning", "not informative", "skipped"
    explanation: str
    seconds: float | None = None  # what it cost, when recorded


@dataclass(frozen=True)
class Smoothing:
    """A randomized smoothing block, shown as its scalar settings and its curve table."""

    fields: list[Field]
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ModelSummary:
    index: int
    name: str
    identity: list[Field]
    n: int
    clean_accuracy: float
    clean_interval: tuple[float, float]
    rows: list[EpsRow]
    partial: bool
    checks: list[Check] = field(default_factory=list)
    smoothing: Smoothing | None = None
    notes: list[str] = field(default_factory=list)  # attack notes, which attack broke what
    classes: int = 0  # the model's class count (0: unknown), for the verdict's chance level

    @property
    def warned(self) -> bool:
        """A sanity check warns: every robust accuracy of this model carries the mark."""
        return any(c.status == "warning" for c in self.checks)

    @property
    def has_certified(self) -> bool:
        return any(r.certified_accuracy is not None for r in self.rows)

    def row_at(self, eps: float) -> EpsRow | None:
        return next((r for r in self.rows if r.eps == eps), None)


@dataclass(frozen=True)
class ReportData:
    title: str
    subtitle: str
    threat_line: str  # the threat model's one-line description: on every page
    threat_fields: list[Field]
    threat_brief: list[Field]  # the executive summary's threat model: norm, ε, attack, ...
    report_date: str
    evaluation_date: str
    tool_version: str
    source: str
    models: list[ModelSummary]
    dataset_fields: list[Field]
    environment_fields: list[Field]
    eps_grid: tuple[float, ...]
    gallery_eps: float
    galleries: list[Gallery]
    image_note: str | None
    method: list[str]
    limitations: list[str]
    has_saliency: bool = False
    partial: bool = False
    saliency_method: str = ""  # a key of core.saliency.METHODS ("" when not named)

    @property
    def saliency_note(self) -> str | None:
        """Why the galleries have no saliency column (None when they have one)."""
        return None if self.has_saliency else SALIENCY_NOT_STORED

    def saliency_caption(self, adversarial: bool) -> str:
        """The galleries' sentence on what their saliency panels show."""
        return saliency_caption(self.saliency_method, adversarial)


def _identity(m: ModelResult) -> list[Field]:
    i = m.info
    found = [
        Field("Path", i.path, mono=True),
        Field("SHA-256", i.sha256, mono=True),
        Field("Backend", i.backend),
        Field("Device", i.device),
    ]
    if i.providers:
        found.append(Field("ONNX providers", ", ".join(i.providers)))
    found.append(
        Field("Input", f"{'×'.join(map(str, i.input_shape))}, {len(i.class_names)} classes")
    )
    if i.mean is not None or i.std is not None:
        found.append(Field("Normalisation", f"mean {_floats(i.mean)}, std {_floats(i.std)}"))
    if m.sweep.onnx_max_abs_diff is not None:
        found.append(
            Field("Torch conversion", f"max rel. logit diff {m.sweep.onnx_max_abs_diff:.1g}")
        )
    if i.description:
        found.append(Field("Description", i.description))
    return found


def _floats(values: tuple[float, ...] | None) -> str:
    return "none" if values is None else "(" + ", ".join(f"{v:g}" for v in values) + ")"


def _rows(m: ModelResult) -> list[EpsRow]:
    """Per computed ε, the rates exactly as inspector.core.metrics defines them."""
    s, n = m.sweep, len(m.sweep.labels)
    certified = dict(s.certified_curve() or [])
    return [
        EpsRow(
            eps=r.eps,
            eps_label=format_eps(r.eps),
            robust_accuracy=r.robust_accuracy,
            robust_interval=wilson_interval(count_of(r.robust_accuracy, n), n),
            boundary_error_rate=r.boundary_error_rate,
            natural_error_rate=r.natural_error_rate,
            certified_accuracy=certified.get(r.eps),
        )
        for r in s.curve()
    ]


def _get(item: Any, key: str, default: Any = "") -> Any:
    return item.get(key, default) if isinstance(item, dict) else getattr(item, key, default)


def _checks(m: ModelResult) -> list[Check]:
    found = getattr(m, "checks", None) or []
    return [
        Check(
            str(_get(c, "name")),
            str(_get(c, "status")),
            str(_get(c, "explanation")),
            finite_or_none(_get(c, "seconds", None)),
        )
        for c in found
    ]


def _cell(value: Any, key: str = "") -> str:
    if isinstance(value, float):
        return format_rate(value) if key.endswith(("accuracy", "rate")) else f"{value:.4g}"
    return "–" if value is None else str(value)


def _smoothing_fields(block: dict[str, Any]) -> list[Field]:
    """Scalars (and small settings dicts) as fields; per-example lists are left out."""
    fields = []
    for key, value in block.items():
        if key == "spec" and "description" in block:
            continue  # the description says the same in words
        label = SMOOTHING_LABELS.get(key, key.replace("_", " ").capitalize())
        if key == "norm":
            value = NORM_SYMBOLS.get(str(value), value)
        if isinstance(value, dict):
            fields.append(Field(label, ", ".join(f"{k} {_cell(v, k)}" for k, v in value.items())))
        elif not isinstance(value, (list, tuple)):
            fields.append(Field(label, _cell(value, key)))
    return fields


def _smoothing(m: ModelResult) -> Smoothing | None:
    """A randomized smoothing record: its settings, and its curve (a list of records) as a table."""
    block = getattr(m, "smoothing", None)
    if not isinstance(block, dict) or not block:
        return None
    table = next(
        (v for v in block.values() if isinstance(v, list) and v and isinstance(v[0], dict)), []
    )
    columns = list(dict.fromkeys(k for row in table for k in row))
    rows = [[_cell(row.get(c), c) for c in columns] for row in table]
    names = [c.replace("_", " ") for c in columns]
    if "radius" in columns and "norm" in block:
        names[columns.index("radius")] = f"{NORM_SYMBOLS.get(block['norm'], block['norm'])} radius"
    return Smoothing(_smoothing_fields(block), names, rows)


def _notes(m: ModelResult, attack: str) -> list[str]:
    """How the attack ran for this model, and which member of an ensemble broke what."""
    s, found = m.sweep, []
    note = getattr(s, "attack_note", None)
    if note:
        found.append(f"Note: {note}.")
    if cert_note := getattr(s, "certificate_note", None):
        found.append(f"Note: {cert_note}.")
    counts = s.broken_by_counts() if getattr(s, "broken_by", None) is not None else {}
    ensemble = bool(attack) and spec(attack).is_ensemble
    if counts and s.eps_done and (ensemble or len(counts) > 1):
        eps = format_eps(s.eps[s.eps_done - 1])
        parts = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        found.append(f"Examples broken up to ε = {eps}, by the attack that broke them: {parts}.")
    return found


def model_summary(index: int, m: ModelResult, attack: str = "") -> ModelSummary:
    n = len(m.sweep.labels)
    clean = m.sweep.clean_accuracy
    return ModelSummary(
        index=index,
        name=m.info.name,
        identity=_identity(m),
        n=n,
        clean_accuracy=clean,
        clean_interval=wilson_interval(count_of(clean, n), n),
        rows=_rows(m),
        partial=m.sweep.partial,
        checks=_checks(m),
        smoothing=_smoothing(m),
        notes=_notes(m, attack),
        classes=len(m.info.class_names),
    )


def _threat_fields(results: EvaluationResults) -> list[Field]:
    t = results.threat
    return [
        Field("Norm", NORM_SYMBOLS.get(t.norm, t.norm)),
        Field("ε grid", ", ".join(format_eps(e) for e in t.eps)),
        Field("Attack", t.attack_label()),
        Field("Step size", step_rule(t)),
        Field("Seed", str(t.seed)),
        Field("Examples", "?" if t.num_examples is None else str(t.num_examples)),
    ]


def _budget(t: ThreatModel) -> tuple[str, str]:
    """Steps and restarts as the summary prints them (an attack without either: '–')."""
    attack = spec(t.attack)
    if attack.single_step:
        return "1 (one step of length ε)", "–"
    if attack.uses_queries and not attack.takes_steps:  # Square (an ensemble also has steps)
        return f"{t.queries} queries", "–"
    return str(t.steps), str(t.restarts)


def _threat_brief(results: EvaluationResults, eps: float) -> list[Field]:
    """Every part of the threat model an auditor must quote beside a robust accuracy."""
    t = results.threat
    steps, restarts = _budget(t)
    grid = f"{format_eps(t.eps[0])} to {format_eps(t.eps[-1])}, {len(t.eps)} values"
    return [
        Field("Norm", NORM_SYMBOLS.get(t.norm, t.norm)),
        Field("ε", f"{format_eps(eps)} here (grid {grid})"),
        Field("Attack", t.attack_label()),
        Field("Steps", steps),
        Field("Restarts", restarts),
        Field("Examples", "?" if t.num_examples is None else str(t.num_examples)),
        Field("Seed", str(t.seed)),
    ]


def _dataset_fields(results: EvaluationResults) -> list[Field]:
    d, n = results.dataset, results.threat.num_examples
    names = ", ".join(d.class_names[:10]) + (" …" if len(d.class_names) > 10 else "")
    evaluated = "all" if n is None or n >= d.size else f"{n} (class-stratified subset)"
    return [
        Field("Spec", d.spec, mono=True),
        Field("Kind", d.kind),
        Field("SHA-256", d.sha256, mono=True),
        Field("Size", f"{d.size} examples, evaluated: {evaluated}"),
        Field("Image shape", "×".join(map(str, d.shape)) + " (C×H×W)"),
        Field("Classes", f"{len(d.class_names)}: {names}"),
    ]


def _environment_fields(results: EvaluationResults) -> list[Field]:
    """The evaluation's device and software versions, compact (one line each)."""
    env = dict(results.environment or {})
    device = env.pop("device", None)
    found = [Field("Device", str(device))] if device else []
    if env:
        found.append(Field("Software", " · ".join(f"{k} {v}" for k, v in env.items())))
    return found


def _widest_half_interval(models: list[ModelSummary]) -> float:
    spans = [m.clean_interval for m in models] + [r.robust_interval for m in models for r in m.rows]
    return max(((hi - lo) / 2 for lo, hi in spans), default=0.0)


def _image_note(results: EvaluationResults, dataset_note: str | None) -> str | None:
    if all(m.sweep.adv_images is not None for m in results.models):
        return None
    note = ADVERSARIAL_IN_AUDITS
    if dataset_note:
        note += f" Clean images are not shown either: {dataset_note}."
    return note


def build_report_data(
    results: EvaluationResults,
    *,
    eps: float | None = None,
    source: str = "",
    dataset: ImageDataset | None = None,
    saliency: GallerySaliency | SaliencyFn | None = None,
    now: datetime | None = None,
) -> ReportData:
    """The report's content. `eps` picks the gallery ε (a computed grid point; default: the
    grid ε nearest the middle at which boundary errors exist). `dataset` supplies clean
    images when the results do not hold them (opened from the recorded spec if None).
    `saliency` gives maps for the boundary errors the galleries show (none if None)."""
    k = eps_index_for(results, eps)
    saliency = as_gallery_saliency(saliency)
    dataset_note = None
    if dataset is None and needs_dataset(results):
        dataset, dataset_note = open_images(results.dataset)
    models = [model_summary(i, m, results.threat.attack) for i, m in enumerate(results.models)]
    names = ", ".join(m.name for m in models)
    return ReportData(
        title=TITLE,
        subtitle=f"{names} on {results.dataset.spec}",
        threat_line=results.threat.describe(),
        threat_fields=_threat_fields(results),
        threat_brief=_threat_brief(results, results.threat.eps[k]),
        report_date=format_date((now or datetime.now(timezone.utc)).isoformat()),
        evaluation_date=format_date(results.created),
        tool_version=__version__,
        source=source,
        models=models,
        dataset_fields=_dataset_fields(results),
        environment_fields=_environment_fields(results),
        eps_grid=results.threat.eps,
        gallery_eps=results.threat.eps[k],
        galleries=[
            build_gallery(results, i, k, dataset, saliency) for i in range(len(results.models))
        ],
        image_note=_image_note(results, dataset_note),
        method=method_paragraphs(results) + saliency_method_paragraph(saliency),
        limitations=limitations_paragraphs(
            results, _widest_half_interval(models), saliency is not None
        ),
        has_saliency=saliency is not None,
        partial=results.partial,
        saliency_method="" if saliency is None else saliency.method,
    )
