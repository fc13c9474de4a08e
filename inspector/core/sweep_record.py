"""The per-model record of a sweep: what a results file keeps (and, in memory, more).

`ModelSweep` is the record one model's sweep fills: per example its clean and adversarial
predictions over the ε grid and the first grid ε at which it broke. The worker fills it in
place (eps_loop.py); what leaves the worker is a `snapshot()`, fenced by the ε finished.
Every curve is monotone by construction: an example broken at ε stays broken at every
larger ε, since the balls are nested.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inspector.core.metrics import Rates, curve

# every array with one row per example (a results file's rows; shards concatenate them)
PER_EXAMPLE = (
    "indices",
    "labels",
    "clean_pred",
    "clean_conf",
    "adv_pred",
    "adv_conf",
    "breaking_eps",
    "certified_radius",
    "broken_by",
    "min_norm_radius",
    "clean_probs",
    "adv_probs",
    "adv_images",
)
_CHANGING = ("breaking_eps", "broken_by", "min_norm_radius")  # per example, during each ε
# the rest the worker fills column by column ([n, ε, ...]) or before any ε (the clean pass)
_COLUMNS_LATER = tuple(name for name in PER_EXAMPLE if name not in _CHANGING)


def _read_only(value: object) -> object:
    """A view of an array that cannot be written through (the array itself still can)."""
    if not isinstance(value, np.ndarray):
        return value
    view = value.view()
    view.flags.writeable = False
    return view


@dataclass
class ModelSweep:
    """Per-example results of one model over the ε grid (positions follow `indices`)."""

    eps: tuple[float, ...]
    indices: np.ndarray  # dataset indices of the evaluated examples
    labels: np.ndarray
    clean_pred: np.ndarray
    clean_conf: np.ndarray
    adv_pred: np.ndarray  # [n, len(eps)]
    adv_conf: np.ndarray  # [n, len(eps)]
    breaking_eps: np.ndarray  # first grid ε at which the attack flipped it; NaN = never
    eps_done: int = 0  # grid points finished; fewer than len(eps) means partial
    certified_radius: np.ndarray | None = None  # exact, when the model is proven affine
    certificate_note: str | None = None  # why a model that looked affine got no certificate
    onnx_max_abs_diff: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # Per example, the attack that broke it ("" where none did; the ensemble names its member);
    # None for results files written before it was recorded.
    broken_by: np.ndarray | None = None  # object array of str
    # FMN only: per example the smallest perturbation norm found that flips it, confirmed by
    # the model's prediction at that point (inf: none found; 0: a natural error).
    min_norm_radius: np.ndarray | None = None
    attack_note: str | None = None  # how the attack differed for this model, e.g. Square alone
    # Kept in memory for the window's detail view, not written to the results file:
    clean_probs: np.ndarray | None = None  # [n, classes]
    adv_probs: np.ndarray | None = None  # [n, len(eps), classes]
    adv_images: np.ndarray | None = None  # float16 [n, len(eps), C, H, W]; None when too large

    def copy(self) -> ModelSweep:
        """A deep copy, free to change (a refine widens one); streaming uses `snapshot`."""
        fields_ = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}
        fields_["timings"] = dict(self.timings)
        return ModelSweep(**fields_)

    def snapshot(self, *, fence: bool = True) -> ModelSweep:
        """These results as they stand, safe to hand to another thread without a deep copy.

        The [n, ε, ...] arrays (up to 128 MB of images) are read-only views: the worker only
        writes columns at or after `eps_done`, and readers look only at columns before it.
        The per-example arrays the worker still changes (breaking ε, who broke it, FMN's
        radius; n values each) are copied; with `fence`, a breaking ε after the last
        finished one is dropped from the copy, so the snapshot is the record of a run
        stopped there. A checkpoint in the middle of an ε passes `fence=False`: it keeps
        the rows of the ε in flight (the worker is paused while it is written).
        """
        fields_ = {k: _read_only(v) if k in _COLUMNS_LATER else v for k, v in vars(self).items()}
        for name in _CHANGING:
            value = getattr(self, name)
            fields_[name] = None if value is None else value.copy()
        fields_["timings"] = dict(self.timings)
        shot = ModelSweep(**fields_)
        if fence and shot.partial:
            shot.drop_from(shot.eps[shot.eps_done])
        return shot

    def drop_from(self, eps: float) -> None:
        """Forget every breaking ε at or above `eps` (not finished): a stopped run's record."""
        with np.errstate(invalid="ignore"):
            unfinished = self.breaking_eps >= eps
        self.breaking_eps[unfinished] = np.nan
        if self.broken_by is not None:
            self.broken_by[unfinished] = ""

    @property
    def partial(self) -> bool:
        return self.eps_done < len(self.eps)

    @property
    def clean_correct(self) -> np.ndarray:
        return self.clean_pred == self.labels

    @property
    def clean_accuracy(self) -> float:
        return float(self.clean_correct.mean())

    def curve(self) -> list[Rates]:
        return curve(self.clean_correct, self.breaking_eps, self.eps[: self.eps_done])

    def broken_by_counts(self, k: int | None = None) -> dict[str, int]:
        """How many examples each attack broke at grid point k (default: the last one done)."""
        if self.broken_by is None or self.eps_done == 0:
            return {}
        eps = self.eps[self.eps_done - 1 if k is None else k]
        with np.errstate(invalid="ignore"):
            broken = self.clean_correct & (np.nan_to_num(self.breaking_eps, nan=np.inf) <= eps)
        names, counts = np.unique(self.broken_by[broken].astype(str), return_counts=True)
        return {str(a): int(c) for a, c in zip(names, counts, strict=True)}

    def certified_curve(self) -> list[tuple[float, float]] | None:
        if self.certified_radius is None:
            return None
        ok = self.clean_correct
        return [(e, float((ok & (self.certified_radius > e)).mean())) for e in self.eps]
