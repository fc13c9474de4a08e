"""Splitting one evaluation's examples across processes, and merging the parts back.

A shard is a contiguous, disjoint share of the evaluated examples (no padding with
duplicates, unlike torch's DistributedSampler). Since every example draws its attack
randomness from its own stream (attacks/streams.py), a part's per-example results are those
the one-process run computes for the same examples, and concatenating the parts in shard
order gives the one-process results. Merging refuses parts of different evaluations.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from inspector.core.data.base import DatasetInfo
from inspector.core.errors import HintKind, InspectorError
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.sweep_record import PER_EXAMPLE, ModelSweep
from inspector.core.threat import ThreatModel

MAX_SHARDS = 100_000
_ROWS = PER_EXAMPLE  # per-example arrays of a sweep, concatenated in shard order (None in
# any part: None)


@dataclass(frozen=True)
class Shard:
    """Part `index` (from 0) of `count` equal contiguous shares of the examples."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 < self.count <= MAX_SHARDS or not 0 <= self.index < self.count:
            raise InspectorError(
                f"shard {self.index}/{self.count} does not exist: give i/n with 0 ≤ i < n "
                f"≤ {MAX_SHARDS:,} (parts are numbered from 0, as SLURM array tasks)"
            )

    def take(self, indices: np.ndarray) -> np.ndarray:
        """This part's examples: contiguous, disjoint across parts, together all of them."""
        return np.array_split(indices, self.count)[self.index]

    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def record(self, total: int) -> dict[str, int]:
        """What a part's results file says about its place in the whole evaluation."""
        return {"index": self.index, "count": self.count, "examples": total}


def parse_shard(text: str) -> Shard:
    """'i/n' → Shard(i, n)."""
    found = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", text)
    if not found:
        raise InspectorError(f"shard {text!r} is not i/n (e.g. 0/4 for the first of four parts)")
    return Shard(int(found.group(1)), int(found.group(2)))


def shard_from_record(record: Any, source: str) -> tuple[Shard, int]:
    """A part's shard and the whole evaluation's example count, checked (files may be hostile)."""
    if not isinstance(record, dict):
        raise InspectorError(f"{source} is not a part of a sharded run", HintKind.SHARD_PARTS)
    values = [record.get(k) for k in ("index", "count", "examples")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InspectorError(f"{source} has a damaged shard record; re-run that part")
    index, count, total = values
    if not 0 <= total <= 10**9:
        raise InspectorError(f"{source} has a damaged shard record; re-run that part")
    try:
        return Shard(index, count), total
    except InspectorError:
        raise InspectorError(f"{source} has a damaged shard record; re-run that part") from None


def run_identity(threat: ThreatModel, dataset: DatasetInfo, infos) -> dict[str, Any]:
    """What must agree between parts of one run (and a run and its checkpoint): the threat
    model (its example count aside), the dataset and every model's file hash."""
    data = threat.to_dict()
    data.pop("num_examples", None)
    data.pop("description", None)
    models = [(i.name, i.sha256) for i in infos]
    return {"threat": data, "dataset": asdict(dataset), "models": models}


def _identity(results: EvaluationResults) -> dict[str, Any]:
    return run_identity(results.threat, results.dataset, [m.info for m in results.models])


def check_same_run(first: str, a: dict, name: str, b: dict) -> None:
    """Refuse `name` unless its identity `b` is that of `first` (seed named first)."""
    if a["threat"].get("seed") != b["threat"].get("seed"):
        raise InspectorError(
            f"{name} was run with seed {b['threat'].get('seed')}, {first} with seed "
            f"{a['threat'].get('seed')}: parts of one evaluation share the seed"
        )
    for key, what in (("threat", "threat model"), ("dataset", "dataset (hash)")):
        if a[key] != b[key]:
            raise InspectorError(f"{name} has another {what} than {first}: not the same run")
    if [n for n, _ in a["models"]] != [n for n, _ in b["models"]]:
        raise InspectorError(f"{name} evaluated other models than {first}: not the same run")
    if a["models"] != b["models"]:
        raise InspectorError(f"{name} has another model file (hash) than {first}: not the same run")


def _order(parts: list[tuple[str, EvaluationResults]]) -> list[tuple[str, EvaluationResults]]:
    """The parts in shard order; a missing or repeated part is named."""
    shards = [(shard_from_record(r.shard, name), name, r) for name, r in parts]
    count, total = shards[0][0][0].count, shards[0][0][1]
    by_index: dict[int, tuple[str, EvaluationResults]] = {}
    for (shard, examples), name, results in shards:
        if shard.count != count or examples != total:
            raise InspectorError(
                f"{name} is part {shard.label()} of {examples:,} examples, {shards[0][1]} "
                f"part {shards[0][0][0].label()} of {total:,}: not the same split"
            )
        if shard.index in by_index:
            raise InspectorError(f"{by_index[shard.index][0]} and {name} are both part "
                                 f"{shard.label()}: give each part once")
        by_index[shard.index] = (name, results)
    missing = [i for i in range(count) if i not in by_index]
    if missing:
        shown = ", ".join(f"{i}/{count}" for i in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise InspectorError(f"part {shown} missing: merge needs all {count} parts")
    return [by_index[i] for i in range(count)]


def merge_sweeps(sweeps: list[ModelSweep]) -> ModelSweep:
    """One model's sweep from its parts' sweeps, in shard order."""
    first = sweeps[0]
    merged = {}
    for name in _ROWS:
        values = [getattr(s, name) for s in sweeps]
        merged[name] = None if any(v is None for v in values) else np.concatenate(values)
    timings = {"batch_size": first.timings.get("batch_size", 0.0)}
    for s in sweeps:  # parts run side by side: the slowest part's time is the wall time
        for key, value in s.timings.items():
            if "seconds" in key:
                timings[key] = max(timings.get(key, 0.0), value)
    timings["parts"] = float(len(sweeps))
    diffs = [s.onnx_max_abs_diff for s in sweeps if s.onnx_max_abs_diff is not None]
    return ModelSweep(
        eps=first.eps,
        eps_done=min(s.eps_done for s in sweeps),
        certificate_note=next((s.certificate_note for s in sweeps if s.certificate_note), None),
        onnx_max_abs_diff=max(diffs) if diffs else None,
        attack_note=next((s.attack_note for s in sweeps if s.attack_note), None),
        timings=timings,
        **merged,
    )


def merge_results(parts: list[tuple[str, EvaluationResults]]) -> EvaluationResults:
    """The whole evaluation from its parts (name, results); refuses parts of other runs."""
    if not parts:
        raise InspectorError("no parts to merge")
    ordered = _order(parts)
    first_name, first = ordered[0]
    identity = _identity(first)
    for name, results in ordered[1:]:
        check_same_run(first_name, identity, name, _identity(results))
    n_models = min(len(r.models) for _, r in ordered)  # a stopped part may lack later models
    models = []
    for i in range(n_models):
        sweeps = [r.models[i].sweep for _, r in ordered]
        models.append(ModelResult(first.models[i].info, merge_sweeps(sweeps)))
    total = sum(len(m.sweep.indices) for m in models[:1]) or 0
    threat = first.threat.with_examples(total) if models else first.threat
    incomplete = any(r.incomplete for _, r in ordered) or n_models < len(first.models)
    return replace(first, threat=threat, models=models, shard=None, incomplete=incomplete)
