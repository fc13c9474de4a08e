"""`torchrun --nproc-per-node N -m inspector evaluate …`: one evaluation over N processes.

Each rank (RANK of WORLD_SIZE, from torchrun's environment) sweeps its own contiguous share
of the examples on its own device (cuda:LOCAL_RANK with nccl when CUDA is there, else the
CPU with gloo); rank 0 gathers the parts, merges them (shards.py), runs the sanity checks
and smoothing once on the merged data, and alone writes the table and the files. Progress
comes from rank 0: its share scaled to the whole (shares differ by at most one example).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace

from inspector.cli import interrupts
from inspector.cli.progress import ProgressLine
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, dataset_for, evaluate_models, open_models
from inspector.core.results import EvaluationResults
from inspector.core.shards import Shard, merge_results
from inspector.core.sweep import Progress


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "")
    if not text:
        return default
    if not text.isdigit():
        raise InspectorError(f"the environment variable {name}={text!r} is not a whole number")
    return int(text)


def world_size() -> int:
    """How many processes torchrun started (1 outside torchrun)."""
    return _env_int("WORLD_SIZE", 1)


def _device_and_backend(asked: str) -> tuple[str, str]:
    import torch

    if asked in ("auto", "cuda") and torch.cuda.is_available():
        local = _env_int("LOCAL_RANK", 0)
        torch.cuda.set_device(local)
        return f"cuda:{local}", "nccl"
    if asked.startswith("cuda"):
        raise InspectorError("under torchrun each rank takes cuda:LOCAL_RANK: pass --device auto")
    return "cpu", "gloo"


def run_distributed(
    request: EvaluationRequest,
    args: argparse.Namespace,
    write_outputs: Callable[[argparse.Namespace, EvaluationResults], int],
) -> int:
    """This rank's share; on rank 0 the merge, the checks and every output."""
    import torch.distributed as dist

    rank, world = _env_int("RANK", 0), world_size()
    device, backend = _device_and_backend(request.device)
    dist.init_process_group(backend)
    try:
        part = replace(request, shard=Shard(rank, world), device=device)
        results, models, dataset = _run_share(part, rank, world)
        gathered: list | None = [None] * world if rank == 0 else None
        dist.gather_object(results, gathered, dst=0)
        code = 0
        if rank == 0:
            assert gathered is not None
            merged = merge_results([(f"rank {i}", r) for i, r in enumerate(gathered)])
            _assess(merged, models, dataset, request)
            code = write_outputs(args, merged)
        dist.barrier()
        return code
    finally:
        dist.destroy_process_group()


def _run_share(request: EvaluationRequest, rank: int, world: int):
    from inspector.core.data import open_dataset

    dataset = open_dataset(request.data)
    models = open_models(request, dataset)
    progress = ProgressLine(len(models)) if rank == 0 else None
    results = None
    for item in evaluate_models(models, dataset, request, cancel=interrupts.interrupted):
        if isinstance(item, EvaluationResults):
            results = item
        elif isinstance(item, Progress) and progress is not None:
            progress.update(replace(item, done=item.done * world, total=item.total * world))
    if interrupts.interrupted():
        raise KeyboardInterrupt
    assert results is not None
    if rank == 0:
        print(f"rank 0 of {world}: share done, gathering the others", file=sys.stderr)
    return results, models, dataset


def _assess(merged: EvaluationResults, models, dataset, request: EvaluationRequest) -> None:
    """The checks and smoothing, once, on the merged examples (as a one-process run)."""
    from inspector.core.assess import assess_model

    for i, result in enumerate(merged.models):
        if result.sweep.partial:
            return
        view = dataset_for(models[i], dataset, request.resize)
        for _ in assess_model(
            models[i],
            view,
            result.sweep.indices,
            merged.threat,
            result,
            checks=request.checks,
            smoothing=request.smoothing,
            model_index=i,
            batch_size=int(result.sweep.timings.get("batch_size", request.batch_size)),
            cancel=interrupts.interrupted,
        ):
            pass
