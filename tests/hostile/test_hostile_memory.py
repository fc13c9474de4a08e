"""Memory pressure and cancel: batches fit the memory there is; Cancel lands within a step.

A model with large activations once ran the window to 22.6 GB with Cancel pressed 68 s
before. Here the available memory is faked small (the batch must shrink, and the attack
must really run at the smaller batch), and a model that takes its time on every forward
pass is cancelled after its first batch (the sweep must stop within about a second).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import torch
from torch import nn

from inspector.core import certificate, memory
from inspector.core.attacks.base import Cancelled
from inspector.core.data import open_dataset, stratified_subset
from inspector.core.demo import DEMO_THREAT, demo_model_paths
from inspector.core.evaluate import EvaluationRequest, evaluate_models
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults
from inspector.core.sweep import BatchChosen, ModelSweep, sweep_model

THREAT = replace(DEMO_THREAT, eps=(0.0, 0.05, 0.1, 0.2), steps=50)
DELAY = 0.15  # seconds per forward pass of the slow model
MIB = 2**20


@cache
def digits():
    return open_dataset("digits")


@cache
def standard() -> LoadedModel:
    path = next(p for p in demo_model_paths() if p.stem == "digits_standard")
    return load_model(path, device="cpu")


class Watched(nn.Module):
    """The demo network behind a delay, recording the batch size of every forward pass.

    `cancel_at`: the forward call during which the user presses Cancel (its time is kept);
    the watched model is then its own cancel check, as the window's Cancel button is.
    """

    def __init__(self, inner: nn.Module, delay: float = 0.0, width: int = 0) -> None:
        super().__init__()
        self.inner, self.delay, self.batches = inner, delay, []
        self.cancel_at: int | None = None
        self.cancelled_at: float | None = None
        # optional wide activation (width × 8 × 8 floats per example) that changes nothing
        self.wide = nn.Conv2d(1, width, 3, padding=1) if width else None
        if self.wide is not None:
            self.wide.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches.append(int(x.shape[0]))
        if len(self.batches) == self.cancel_at:
            self.cancelled_at = time.perf_counter()
        if self.delay:
            time.sleep(self.delay)
        out = self.inner(x)
        if self.wide is not None:
            out = out + 0.0 * torch.relu(self.wide(x)).mean(dim=(1, 2, 3)).unsqueeze(1)
        return out

    def cancel(self) -> bool:
        return self.cancelled_at is not None


def watched(delay: float = 0.0, width: int = 0) -> LoadedModel:
    base = standard()
    module = Watched(base.module, delay, width)

    def reference(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(np.ascontiguousarray(x))).double().numpy()

    return LoadedModel(replace(base.info, name="watched"), module, reference)


def indices(n: int) -> np.ndarray:
    return stratified_subset(digits().labels, n, 0)


# Forward calls before the first attack step: the memory probe (1 example, then 8), the
# affine probe of linear.py (f(0), then the unit images), and the clean pass (40 examples
# in batches of 8)
PROBES = 2 + 2
BEFORE_ATTACK = PROBES + 5


# --- cancel -------------------------------------------------------------------------------


def test_cancel_inside_the_first_attack_batch_returns_within_a_step_with_partial_results():
    model = watched(DELAY)
    module = model.module
    module.cancel_at = BEFORE_ATTACK + 2  # the second step of the first attacked batch
    events = list(
        sweep_model(model, digits(), indices(40), THREAT, batch_size=8, cancel=module.cancel)
    )
    stopped = time.perf_counter()
    assert module.cancelled_at is not None
    assert stopped - module.cancelled_at < 1.0  # a step takes DELAY; the batch, 50 steps
    result = events[-1]
    assert isinstance(result, ModelSweep)
    assert result.partial and result.eps_done == 1  # ε = 0 finished, ε = 0.05 dropped
    assert np.isnan(result.breaking_eps).all()
    assert len(module.batches) <= BEFORE_ATTACK + 3


def test_cancel_after_the_first_clean_batch_stops_before_the_next():
    model = watched(DELAY)
    module = model.module
    module.cancel_at = PROBES + 1  # during the first clean batch
    with pytest.raises(Cancelled):
        for _ in sweep_model(
            model, digits(), indices(80), THREAT, batch_size=8, cancel=module.cancel
        ):
            pass
    assert time.perf_counter() - module.cancelled_at < 1.0
    assert len(module.batches) == module.cancel_at  # none of the 9 other clean batches ran


def test_evaluation_cancelled_mid_attack_ends_with_results_marked_partial():
    model = watched(DELAY)
    module = model.module
    module.cancel_at = BEFORE_ATTACK + 2
    request = EvaluationRequest(models=(), data="digits", threat=THREAT, limit=40, batch_size=8)
    events = list(evaluate_models([model], digits(), request, cancel=module.cancel))
    assert time.perf_counter() - module.cancelled_at < 1.0
    results = events[-1]
    assert isinstance(results, EvaluationResults)
    assert [m.sweep.partial for m in results.models] == [True]
    assert results.models[0].checks == []  # the checks did not start after Cancel


# --- batch size ---------------------------------------------------------------------------


def test_the_estimate_grows_with_the_activations():
    """A 256-channel 8×8 layer keeps 64 KiB per example for the backward pass; 16 keep 4 KiB."""
    small = memory.per_example_bytes(watched(width=16))
    large = memory.per_example_bytes(watched(width=256))
    assert small is not None and large is not None
    activation = 256 * 8 * 8 * 4
    assert large - small >= memory.SAFETY * (activation - 16 * 8 * 8 * 4) * 0.9
    assert large < 8 * activation


def test_a_small_memory_budget_shrinks_the_batch_and_the_attack_runs_at_it(monkeypatch):
    model = watched(width=256)
    per_example = memory.per_example_bytes(model, memory.PROBE_BATCH)
    budget = 2 * 12 * per_example  # half of it is usable: 12 examples
    monkeypatch.setattr(memory, "available_bytes", lambda device: budget)
    choice = memory.choose_batch_size(model, 128)
    assert choice.size == 12 and choice.requested == 128
    assert choice.per_example_bytes == per_example
    assert "capped from 128" in choice.describe()

    model.module.batches.clear()
    events = list(sweep_model(model, digits(), indices(40), THREAT, batch_size=128))
    chosen = next(e for e in events if isinstance(e, BatchChosen))
    assert chosen.choice.size == 12
    result = events[-1]
    assert isinstance(result, ModelSweep) and result.timings["batch_size"] == 12.0
    batches = model.module.batches
    assert batches[:2] == [1, memory.PROBE_BATCH]  # the measurement: 1, then 8 as they fit
    # certificate.py's affine probe: 3 × PROBE_POINTS points in one pass (small inputs only)
    assert batches[2] == 3 * certificate.PROBE_POINTS
    assert max(batches[3:]) == 12  # the clean pass and every attack step


def test_the_requested_batch_stays_the_upper_bound(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1 << 50)
    assert memory.choose_batch_size(watched(), 32).size == 32
    monkeypatch.setattr(memory, "available_bytes", lambda device: 1)
    assert memory.choose_batch_size(watched(), 32).size == 1  # never below one example


def test_unknown_memory_or_no_module_keeps_the_requested_batch(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda device: None)
    assert memory.choose_batch_size(watched(), 64).size == 64
    blind = replace(watched(), module=None)
    assert memory.choose_batch_size(blind, 64).describe() == "batch size 64 (memory not measured)"


def test_a_model_too_large_for_the_probe_batch_is_measured_on_one_example(monkeypatch):
    model = watched(width=256)
    one = memory.per_example_bytes(model, 1)
    monkeypatch.setattr(memory, "available_bytes", lambda device: 2 * 3 * one)
    model.module.batches.clear()
    assert memory.choose_batch_size(model, 128).size == 3
    assert model.module.batches == [1]  # 8 examples would not have fitted: never tried


def test_a_probe_that_fails_is_not_the_error_reported(monkeypatch):
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("shape mismatch")

    model = replace(watched(), module=Broken())
    assert memory.per_example_bytes(model) is None

    class Hungry(nn.Module):
        def forward(self, x):
            raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(memory, "available_bytes", lambda device: 1 << 40)
    assert memory.choose_batch_size(replace(watched(), module=Hungry()), 64).size == 1


def test_available_memory_reads_meminfo_and_cgroup(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable:    2048 kB\n")
    assert memory._meminfo_available(meminfo) == 2048 * 1024
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text("1048576\n")
    (cgroup / "memory.current").write_text("524288\n")
    assert memory._cgroup_available(cgroup) == 524288
    (cgroup / "memory.max").write_text("max\n")
    assert memory._cgroup_available(cgroup) is None
    assert memory._meminfo_available(tmp_path / "missing") is None
    found = memory.available_bytes(torch.device("cpu"))
    assert found is None or found > 0


def test_a_program_traced_for_a_fixed_batch_is_measured_and_cut_at_that_batch(monkeypatch):
    """FixedBatch pads every call to its batch: measuring 8 would count 16 examples' memory."""
    from inspector.core.models.common import FixedBatch

    inner = watched(width=256)
    model = replace(inner, module=FixedBatch(inner.module, 16))
    assert memory.fixed_batch(model.module) == 16
    per_example = memory.per_example_bytes(model, 16)
    assert per_example == memory.per_example_bytes(inner, 16)  # no padding at its own batch
    monkeypatch.setattr(memory, "available_bytes", lambda device: 2 * 40 * per_example)
    choice = memory.choose_batch_size(model, 128)
    assert inner.module.batches[-1] == 16  # probed at the traced batch
    assert choice.size == 32  # 40 fit; cut to whole padded calls


class Slow(nn.Module):
    """One layer of a deep model that takes its time; the third one is where Cancel comes."""

    def __init__(self, log: list[float], index: int) -> None:
        super().__init__()
        self.log, self.index = log, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.index == 2 and not self.log:
            self.log.append(time.perf_counter())  # the moment the user presses Cancel
        time.sleep(0.05)
        return x


def test_cancel_reaches_inside_one_long_forward_pass():
    """40 layers of 50 ms: a forward pass takes 2 s; Cancel must not wait for its end."""
    pressed: list[float] = []
    base = standard()
    deep = nn.Sequential(*[Slow(pressed, i) for i in range(40)], base.module)
    model = replace(base, module=deep, reference_logits=base.reference_logits)
    request = EvaluationRequest(models=(), data="digits", threat=THREAT, limit=20)
    hooks_before = [len(m._forward_pre_hooks) for m in deep.modules()]
    events = list(evaluate_models([model], digits(), request, cancel=lambda: bool(pressed)))
    assert time.perf_counter() - pressed[0] < 0.5
    results = events[-1]
    assert isinstance(results, EvaluationResults) and results.models == []
    assert [len(m._forward_pre_hooks) for m in deep.modules()] == hooks_before  # removed


def test_cancel_inside_leaves_other_threads_and_compiled_programs_alone():
    """The window may run saliency on the same module while an evaluation is cancelled."""
    import threading

    from inspector.core.cancellation import cancel_inside

    module = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    x = torch.zeros(2, 1, 8, 8)
    other: list[object] = []
    with cancel_inside(module, lambda: True):
        with pytest.raises(Cancelled):
            module(x)
        worker = threading.Thread(target=lambda: other.append(module(x).shape))
        worker.start()
        worker.join()
    assert other == [torch.Size([2, 10])]
    assert module(x).shape == (2, 10)  # the hooks are gone afterwards
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still met
        scripted = torch.jit.script(module)
    with cancel_inside(scripted, lambda: True):
        assert scripted(x).shape == (2, 10)  # no Python hooks there: per-step checks only
