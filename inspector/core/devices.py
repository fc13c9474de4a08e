"""Turn the user's device choice into a torch device and matching onnxruntime providers.

One place decides this so the torch module and the onnxruntime session of a model never
end up on different hardware by accident. How many CPU threads torch may use is decided
here too (see `leave_a_core_free`).
"""

from __future__ import annotations

import os
import re

import torch

from inspector.core.errors import HintKind, InspectorError

_CUDA_RE = re.compile(r"^cuda(?::(\d+))?$")
_CHOICES = "use auto, cpu, cuda or cuda:N"


def resolve_device(name: str) -> torch.device:
    """Map "auto", "cpu", "cuda" or "cuda:N" to a usable torch.device, or say why not."""
    text = name.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    match = _CUDA_RE.match(text)
    if match is None:
        raise InspectorError(f"unknown device {name!r}; {_CHOICES}")
    if not torch.cuda.is_available():
        raise InspectorError(
            f"device {name!r} asked for but torch sees no usable CUDA GPU here",
            HintKind.DEVICE_CPU,
        )
    if match.group(1) is None:
        return torch.device("cuda")
    index = int(match.group(1))
    count = torch.cuda.device_count()
    if index >= count:
        raise InspectorError(
            f"device {name!r} does not exist: this machine has {count} CUDA device(s), "
            f"use cuda:0..cuda:{count - 1}"
        )
    return torch.device("cuda", index)


def onnx_providers_for(device: torch.device | str) -> list[str]:
    """onnxruntime providers for a torch device: CUDA first when possible, CPU always last.

    onnxruntime-gpu lists CUDAExecutionProvider even on machines without a GPU, so it is
    requested only for a CUDA device; what the session really got is read back afterwards.
    """
    import onnxruntime

    device = torch.device(device)
    providers: list[str] = []
    if device.type == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        providers.append("CUDAExecutionProvider")
    providers.append("CPUExecutionProvider")
    return providers


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TORCH_NUM_THREADS")


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def leave_a_core_free() -> int:
    """Give torch one thread fewer than the usable cores; return the count it now uses.

    For the window: an attack on the CPU with one intra-op thread per core leaves the GUI
    thread to fight for a core. On a 2-core machine torch's default of 2 threads gave
    event-loop stalls of up to 150–200 ms during the demo run, and the run itself was
    slower (about 5 s against 4 s with 1 thread; benchmarks/gui_latency.py). A thread count
    the user set through the environment is left alone.
    """
    if any(os.environ.get(name) for name in THREAD_VARIABLES):
        return torch.get_num_threads()
    threads = max(1, usable_cores() - 1)
    if threads < torch.get_num_threads():
        torch.set_num_threads(threads)
    return torch.get_num_threads()
