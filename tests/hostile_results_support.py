"""Genuine small results and audits to build hostile ones from (tests/hostile/, results area).

One quick demo evaluation (two models, FGSM, 16 digits, three ε) is saved as a results
file and as an audit with every array; the hostile tests edit copies of them.
"""

from __future__ import annotations

import copy
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector.core.audit import Audit, save_audit
from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.results import EvaluationResults, results_to_json
from inspector.core.threat import ThreatModel


def genuine_results() -> EvaluationResults:
    """Two demo models, FGSM at ε ∈ {0, 0.05, 0.1} on 16 digits (about a second)."""
    threat = ThreatModel(eps=(0.0, 0.05, 0.1), attack="fgsm", seed=0)
    models = tuple(ModelRequest(str(p)) for p in demo_model_paths()[:2])
    request = EvaluationRequest(models, "digits", threat, limit=16, device="cpu", checks=False)
    return run_to_end(request)


def results_data(results: EvaluationResults) -> dict[str, Any]:
    """A fresh, editable copy of the results file's JSON."""
    return copy.deepcopy(json.loads(json.dumps(results_to_json(results))))


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def save_genuine_audit(path: Path, results: EvaluationResults, view: dict | None = None) -> Path:
    save_audit(path, Audit(results=results, view=view or {"eps_index": 1}))
    return path


def rewrite_audit(
    source: Path, target: Path, edit: Callable[[str, bytes], bytes | None], extra=()
) -> Path:
    """A copy of an audit with each member passed through `edit` (None drops it) and
    `extra` (name, bytes) members appended."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = edit(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)
        for name, data in extra:
            new.writestr(name, data)
    return target


def edit_json(member: str, change: Callable[[dict], None]) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        parsed = json.loads(data)
        change(parsed)
        return json.dumps(parsed).encode()

    return edit


def set_declared_size(path: Path, member: str, size: int) -> None:
    """Make the central directory claim `size` uncompressed bytes for `member` (a lie)."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    at = raw.rfind(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if bytes(raw[at + 46 : at + 46 + length]) == name:
            struct.pack_into("<I", raw, at + 24, size)
            path.write_bytes(bytes(raw))
            return
        at = raw.rfind(b"PK\x01\x02", 0, at)
    raise AssertionError(f"{member} not in the central directory of {path}")
