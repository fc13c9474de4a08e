"""Resumable runs: each shard's finished ε values, saved atomically, picked up by --resume.

A checkpoint is an audit file (audit.py: results plus the probabilities, confidences and
adversarial images at full precision, read back checked) per shard in the folder given,
rewritten after every finished ε and every finished model, and within an ε after a batch
when the last write is `every` seconds old (the examples attacked there so far go to a
small `.progress.json` beside it). A crash or a pre-emption loses at most the batch in
flight plus those seconds; since every example draws from its own random stream,
continuing from a checkpoint gives the results of an uninterrupted run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from inspector.core.atomic import atomic_write_text
from inspector.core.audit import Audit, load_audit, save_audit
from inspector.core.data.base import DatasetInfo
from inspector.core.errors import HintKind, InspectorError
from inspector.core.results import EvaluationResults
from inspector.core.safe_files import Refused, read_bounded
from inspector.core.shards import Shard, check_same_run, run_identity
from inspector.core.threat import ThreatModel


class Checkpoint:
    """This shard's checkpoint file in `folder` (one file per shard: parts never collide)."""

    def __init__(self, folder: str | Path, shard: Shard | None, every: float = 30.0) -> None:
        self.folder, self.every = Path(folder), every
        name = f"shard-{shard.index}-of-{shard.count}" if shard is not None else "run"
        self.path = self.folder / f"{name}.riaudit"
        self.progress_path = self.folder / f"{name}.progress.json"
        self.written = time.monotonic()

    def save(self, results: EvaluationResults, in_flight: tuple[int, int, list] | None = None):
        """Write the results; `in_flight`: (model, ε index, positions attacked there)."""
        if self.folder.exists() and not self.folder.is_dir():
            raise InspectorError(f"the checkpoint folder {self.folder} is a file: give a folder")
        save_audit(self.path, Audit(results))
        model, eps_index, done = in_flight if in_flight is not None else (-1, -1, [])
        record = {"model": model, "eps_index": eps_index, "done": [int(i) for i in done]}
        atomic_write_text(self.progress_path, json.dumps(record))
        self.written = time.monotonic()

    def due(self) -> bool:
        """Whether a batch's end should write (the last write is `every` seconds old)."""
        return time.monotonic() - self.written >= self.every

    def in_flight(self, saved: EvaluationResults) -> np.ndarray | None:
        """Positions attacked at the ε in flight of the last saved model (None: unknown).

        A record that does not fit the saved results (a write between the two files cut
        short, or a forged one) is ignored: those examples are attacked again, as good."""
        try:
            record = json.loads(read_bounded(self.progress_path, 64 << 20, "the progress file"))
        except (OSError, Refused, ValueError, RecursionError):
            return None
        if not isinstance(record, dict) or not saved.models:
            return None
        sweep = saved.models[-1].sweep
        done = record.get("done")
        where = (record.get("model"), record.get("eps_index"))
        if where != (len(saved.models) - 1, sweep.eps_done):
            return None
        n = len(sweep.indices)
        if not isinstance(done, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in done
        ):
            return None
        return np.unique(np.asarray(done, dtype=np.int64))

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
                    f"{self.path} evaluated other examples than this run",
                    HintKind.SAME_EXAMPLES,
                )
        return saved


def _identity_of(results: EvaluationResults) -> dict:
    return run_identity(results.threat, results.dataset, [m.info for m in results.models])
