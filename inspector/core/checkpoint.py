"""Resumable runs: each shard's finished ε values, saved atomically, picked up by --resume.

A checkpoint is an audit file (audit.py: results plus the probabilities, confidences and
adversarial images at full precision, read back checked) per shard in the folder given,
rewritten after every finished ε and every finished model. A crash or a pre-emption loses
at most the ε in flight of the model in flight; since every example draws from its own
random stream, continuing from a checkpoint gives the results of an uninterrupted run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.core.audit import Audit, load_audit, save_audit
from inspector.core.data.base import DatasetInfo
from inspector.core.errors import InspectorError
from inspector.core.results import EvaluationResults
from inspector.core.shards import Shard, check_same_run, run_identity
from inspector.core.threat import ThreatModel


class Checkpoint:
    """This shard's checkpoint file in `folder` (one file per shard: parts never collide)."""

    def __init__(self, folder: str | Path, shard: Shard | None) -> None:
        self.folder = Path(folder)
        name = f"shard-{shard.index}-of-{shard.count}" if shard is not None else "run"
        self.path = self.folder / f"{name}.riaudit"

    def save(self, results: EvaluationResults) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise InspectorError(f"the checkpoint folder {self.folder} is a file: give a folder")
        save_audit(self.path, Audit(results))

    def start(
        self, resume: bool, threat: ThreatModel, dataset: DatasetInfo, infos, indices
    ) -> EvaluationResults | None:
        """What an earlier run of this very evaluation finished (None: start afresh)."""
        if not self.path.exists():
            return None
        if not resume:
            raise InspectorError(
                f"{self.path} holds a checkpoint of an earlier run: resume it, or give "
                "another checkpoint folder"
            )
        saved = load_audit(self.path).results
        expected = run_identity(threat, dataset, list(infos)[: len(saved.models)])
        check_same_run("this run", expected, str(self.path), _identity_of(saved))
        for m in saved.models:
            if not np.array_equal(m.sweep.indices, indices):
                raise InspectorError(
                    f"{self.path} evaluated other examples than this run (another --limit "
                    "or shard): resume with the same options, or give another folder"
                )
        return saved


def _identity_of(results: EvaluationResults) -> dict:
    return run_identity(results.threat, results.dataset, [m.info for m in results.models])
