"""How many examples an attack step may hold at once: the batch that fits the memory there is.

Why: a model with large activations ran the window out of memory (22.6 GB) at the user's
batch size. Before a model is attacked, one forward + backward pass at a small batch is
measured (on CUDA torch's own peak counter; on the CPU the tensors autograd keeps for the
backward pass, parameters excluded, since the process's resident size says little about
torch), and the batch is capped so that the attack's working set stays within a fraction
of the memory available now. The user's batch size stays the upper bound.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import torch

from inspector.core.attacks.base import Cancelled
from inspector.core.models.base import LoadedModel
from inspector.core.models.common import FixedBatch

MEMORY_FRACTION = 0.5  # of the memory available when a model's sweep starts
PROBE_BATCH = 8  # examples in the measured forward + backward pass
SAFETY = 2.0  # measured saved tensors → peak: transient outputs, the gradient itself
INPUT_COPIES = 16  # images an attack keeps per example besides activations (x, δ, best, grad…)
_DOES_NOT_FIT = 1 << 62  # the probe itself ran out of memory: one example at a time


@dataclass(frozen=True)
class BatchChoice:
    """The batch size chosen for one model, and what it was based on (for notes and logs)."""

    size: int
    requested: int
    per_example_bytes: int | None = None  # measured estimate; None: not measured
    available_bytes: int | None = None  # None: unknown on this system

    def describe(self) -> str:
        if self.per_example_bytes is None or self.available_bytes is None:
            return f"batch size {self.size} (memory not measured)"
        capped = f" (capped from {self.requested})" if self.size < self.requested else ""
        return (
            f"batch size {self.size}{capped}: about {_size(self.per_example_bytes)} per "
            f"example, {_size(self.available_bytes)} available"
        )


def _size(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


def _meminfo_available(path: Path = Path("/proc/meminfo")) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


def _cgroup_available(root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """What a container's memory limit leaves (cgroup v2), when there is a limit."""
    with contextlib.suppress(OSError, ValueError):
        limit = (root / "memory.max").read_text().strip()
        if limit != "max":
            return max(0, int(limit) - int((root / "memory.current").read_text().strip()))
    return None


def available_bytes(device: torch.device | str) -> int | None:
    """Memory free for new tensors on `device` now; None when the system does not say."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free + max(0, cached))
    if device.type != "cpu":
        return None
    found = [v for v in (_meminfo_available(), _cgroup_available()) if v is not None]
    return min(found) if found else None


def _probe_input(model: LoadedModel, batch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((batch, *model.info.input_shape), generator=gen)
    return x.to(model.info.device).requires_grad_(True)


def _saved_bytes(module: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors autograd saves for one backward pass (CPU measure)."""
    skip = {p.untyped_storage().data_ptr() for p in module.parameters()}
    skip |= {b.untyped_storage().data_ptr() for b in module.buffers()}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        with contextlib.suppress(RuntimeError):  # tensors without storage (e.g. sparse)
            storage = t.untyped_storage()
            if storage.data_ptr() not in skip:
                kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(x)
    torch.autograd.grad(out.float().sum(), x)
    return sum(kept.values()) + out.numel() * out.element_size()


def _cuda_peak_bytes(module: torch.nn.Module, x: torch.Tensor) -> int:
    device = x.device
    torch.cuda.synchronize(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    out = module(x)
    torch.autograd.grad(out.float().sum(), x)
    torch.cuda.synchronize(device)
    return max(0, torch.cuda.max_memory_allocated(device) - base)


def per_example_bytes(model: LoadedModel, batch: int = PROBE_BATCH) -> int | None:
    """Estimated attack memory per example; None when it cannot be measured (no module, or
    a forward pass that fails here: the sweep's own pass then reports the problem)."""
    module = model.module
    if module is None:
        return None
    x = _probe_input(model, batch)
    try:
        with torch.enable_grad():
            measured = _measure(module, x)
    except (MemoryError, torch.OutOfMemoryError):
        return _DOES_NOT_FIT
    except Cancelled:
        raise
    except Exception:  # a probe is never the place to report a model's faults
        return None
    image = x[0].numel() * x.element_size()
    return int(measured / batch) + INPUT_COPIES * image


def _measure(module: torch.nn.Module, x: torch.Tensor) -> float:
    if x.device.type == "cuda":
        return float(_cuda_peak_bytes(module, x))
    return SAFETY * _saved_bytes(module, x)


def fixed_batch(module: torch.nn.Module | None) -> int | None:
    """The batch a program was traced for (FixedBatch pads every call up to it), if any."""
    if module is None:
        return None
    return next((m.batch for m in module.modules() if isinstance(m, FixedBatch)), None)


def choose_batch_size(
    model: LoadedModel, requested: int, fraction: float = MEMORY_FRACTION
) -> BatchChoice:
    """The largest batch up to `requested` whose estimated memory fits `fraction` of what is
    available; at least 1 (a single example that does not fit has no smaller batch).

    One example is measured first, so that a model too large for the probe batch cannot
    exhaust memory in the probe itself; then PROBE_BATCH examples, when they fit, for an
    estimate less inflated by per-call constants. A program traced for a fixed batch is
    measured at that batch (smaller calls are padded up to it), and a batch above it is
    rounded down to a multiple of it.
    """
    available = available_bytes(model.info.device)
    traced = fixed_batch(model.module)
    probe = min(requested, traced) if traced else 1
    per_example = per_example_bytes(model, probe)
    if per_example is None or available is None or per_example <= 0:
        return BatchChoice(requested, requested, per_example, available)
    budget = int(fraction * available)
    wider = min(requested, PROBE_BATCH)
    if not traced and wider > probe and wider * per_example <= budget:
        per_example = per_example_bytes(model, wider) or per_example
    size = max(1, min(requested, budget // per_example))
    if traced and size > traced:
        size -= size % traced
    return BatchChoice(size, requested, per_example, available)
