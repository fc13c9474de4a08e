"""torch backends: torch.export programs (.pt2), TorchScript, and torch.save files.

Without trust_code, no file is handed to torch before safety/ has checked it statically
(bounded zip, pickles scanned, TorchScript sources read), torch.export.load runs with every
torch.load forced to weights_only=True, and the loaded graph's ops are checked against the
allowlist before the first forward pass. A torch.save file is a pickle (see torch_pickles).
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from inspector.core.errors import InspectorError
from inspector.core.models.common import FixedBatch, RawModel, freeze, one_line, unreadable
from inspector.core.models.metadata import ModelMetadata
from inspector.core.models.safety.archive import check_bounds, is_zip, open_checked
from inspector.core.models.safety.graph_ops import (
    check_exported_sizes,
    check_ops,
    exported_op_names,
    script_op_names,
)
from inspector.core.models.safety.pt2_archive import inspect_pt2
from inspector.core.models.safety.script_source import inspect_torchscript
from inspector.core.models.torch_pickles import load_torch_save

TORCH_SUFFIXES = (".pt", ".ts", ".pth")
_TORCH_LOAD_LOCK = threading.Lock()


class ExportedGraph(nn.Module):
    """Holds `ExportedProgram.module()`, which raises on `.train()`/`.eval()`.

    The exported graph has its eval behaviour baked in, so mode switches are kept on this
    wrapper and not forwarded; callers can `.eval()` the whole model as usual.
    """

    def __init__(self, graph: nn.Module) -> None:
        super().__init__()
        self.graph = graph

    def train(self, mode: bool = True) -> ExportedGraph:
        self.training = mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph(x)


def load_exported(path: Path, device: torch.device, trust_code: bool = False) -> RawModel:
    """A torch.export program: differentiable, and its placeholders record the input shape."""
    if not is_zip(path):
        raise unreadable(path, "not a torch.export program (not a zip archive)")
    if trust_code:
        check_bounds(path)  # trust is about code, not zip bombs
    else:
        inspect_pt2(path)
    program = _read_program(path, weights_only=not trust_code)
    if not trust_code:
        check_ops(path, exported_op_names(program))
        check_exported_sizes(path, program)
    shape = _exported_input_shape(path, program)
    if device.type != "cpu":
        from torch.export.passes import move_to_device_pass

        program = move_to_device_pass(program, device)
    module: nn.Module = ExportedGraph(program.module())
    raw = RawModel(backend="torch.export")
    fixed = shape[0] if isinstance(shape[0], int) else None
    if fixed is not None:
        module = FixedBatch(module, fixed)
        raw.fixed_batch = fixed
        raw.notes.append(
            f"exported with a fixed batch of {fixed}: inputs run in chunks of {fixed}, "
            "the last one zero-padded"
        )
    chw = tuple(shape[1:])
    if all(isinstance(d, int) for d in chw):
        raw.file_metadata.append(("pt2 example input", ModelMetadata(input_shape=chw)))
    raw.module = freeze(module, device)
    return raw


def _read_program(path: Path, weights_only: bool) -> torch.export.ExportedProgram:
    """torch.export.load, with its traceback logging muted: the failure becomes one line."""
    logger = logging.getLogger("torch.export")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with forced_weights_only(weights_only):
            return torch.export.load(str(path))
    except Exception as exc:
        detail = "" if "warnings above" in str(exc) else f" ({one_line(exc)})"
        reason = f"no torch.export program inside (AOTInductor packages are not supported){detail}"
        raise unreadable(path, reason) from None
    finally:
        logger.setLevel(level)


@contextmanager
def forced_weights_only(enabled: bool = True) -> Iterator[None]:
    """Every torch.load inside the block reads with weights_only=True, whatever it asks.

    torch.export.load retries a refused pickle with weights_only=False; with this in place
    the retry is refused too, and the refusal surfaces as a load failure. The lock keeps two
    loads from restoring each other's torch.load.
    """
    if not enabled:
        yield
        return
    with _TORCH_LOAD_LOCK:
        original = torch.load

        @functools.wraps(original)
        def weights_only_load(*args, **kwargs):
            kwargs["weights_only"] = True
            return original(*args, **kwargs)

        torch.load = weights_only_load
        try:
            yield
        finally:
            torch.load = original


def _exported_input_shape(path: Path, program: torch.export.ExportedProgram) -> list:
    """The user input's shape: ints for fixed dims, None for symbolic ones."""
    names = list(program.graph_signature.user_inputs)
    if len(names) != 1:
        raise InspectorError(
            f"{path} was exported with {len(names)} inputs; an image classifier taking one "
            "NCHW tensor is expected"
        )
    node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == names[0])
    value = node.meta.get("val")
    if not isinstance(value, torch.Tensor):
        raise InspectorError(f"{path}: the exported input is not a tensor; export an NCHW input")
    shape = [d if isinstance(d, int) else None for d in value.shape]
    if len(shape) != 4:
        raise InspectorError(
            f"{path}: the exported input has rank {len(shape)} (shape {list(value.shape)}); "
            "an NCHW image input (rank 4) is expected"
        )
    return shape


def load_torch_file(
    path: Path, device: torch.device, arch: str | None, trust_code: bool
) -> RawModel:
    """.pt/.ts/.pth: TorchScript archive or torch.save file, told apart by the zip contents."""
    kind = _zip_kind(path)
    if kind == "torchscript":
        raw = _load_torchscript(path, device, trust_code)
        if arch is not None:
            raw.notes.append("network factory ignored: the file is a TorchScript program")
        return raw
    if kind == "export":
        raise unreadable(path, "it is a torch.export archive; rename it to .pt2")
    if kind == "other-zip":
        raise unreadable(path, "a zip file that is neither TorchScript nor torch.save")
    return load_torch_save(path, device, arch, trust_code, zipped=kind == "torch.save")


def _zip_kind(path: Path) -> str:
    """ "torchscript", "torch.save", "export", "other-zip", or "not-zip" (legacy pickle)."""
    if not is_zip(path):
        return "not-zip"
    with open_checked(path) as archive:  # bounded: the directory is read before any member
        names = archive.namelist()
    parts = [name.split("/") for name in names]
    if any("code" in p[:-1] or p[-1] == "constants.pkl" for p in parts):
        return "torchscript"
    if any(p[-1] == "data.pkl" for p in parts):
        return "torch.save"
    if any(p[-1] == "archive_format" for p in parts):
        return "export"
    return "other-zip"


def _load_torchscript(path: Path, device: torch.device, trust_code: bool) -> RawModel:
    """torch.jit.load runs code at load time, so without trust the archive is read first."""
    if not trust_code:
        inspect_torchscript(path)
    try:
        with warnings.catch_warnings():  # PyTorch's deprecation notice goes to the notes
            warnings.simplefilter("ignore", FutureWarning)
            module = torch.jit.load(str(path), map_location=device)
    except Exception as exc:
        raise unreadable(path, f"broken TorchScript archive ({one_line(exc)})") from None
    if not trust_code:
        check_ops(path, script_op_names(module))
    note = "TorchScript is deprecated by PyTorch; torch.export (.pt2) is its successor"
    return RawModel(backend="torchscript", module=freeze(module, device), notes=[note])
