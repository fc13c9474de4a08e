"""ONNX backend: onnxruntime is the reference forward pass, our interpreter gives gradients.

The interpreted torch module (onnx_torch/) is only a gradient path; whether it agrees with
onnxruntime is checked on loading and on the evaluated data (see LoadedModel.conversion).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inspector.core.devices import onnx_providers_for
from inspector.core.errors import InspectorError
from inspector.core.models.common import (
    DEFAULT_CHUNK,
    FixedBatch,
    RawModel,
    freeze,
    logits_array,
    one_line,
    run_chunked,
    unreadable,
)
from inspector.core.models.metadata import ModelMetadata, from_onnx_props
from inspector.core.models.onnx_files import (
    MAX_ONNX_BYTES,
    check_model_size,
    external_files,
    external_pieces,
    read_external_data,
)
from inspector.core.models.onnx_graphs import (
    quoted,
    refuse_custom_operators,
    refuse_huge_tensors,
)
from inspector.core.models.onnx_io import (
    Adapted,
    Layout,
    ScoreOutput,
    expose_zipmap_scores,
    input_layout,
    score_output,
)
from inspector.core.models.onnx_torch import OnnxGraph

MAX_FIXED_BATCH = 1024  # every chunk is padded to the fixed batch
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
}


def load_onnx(path: Path, device: torch.device, output_name: str | None = None) -> RawModel:
    """Check the graph, open an onnxruntime session, and build the torch interpreter of it.

    `output_name` (sidecar or overrides "output") picks the score output by name."""
    model, data_files = _read_checked(path)
    input_name, dims = _image_input(path, model)
    layout, chw, layout_note = input_layout(path, input_name, dims)
    output = score_output(path, model, expose_zipmap_scores(model), output_name)
    fixed = dims[0] if isinstance(dims[0], int) else None
    raw = RawModel(backend="onnx", fixed_batch=fixed, extra_files=data_files)
    session = _open_session(path, _session_source(path, model), device, raw)
    raw.run_numpy = _session_runner(path, session, fixed, layout, output)
    props = _metadata_props(path, model)
    prop_metadata, prop_notes = from_onnx_props(props)
    raw.notes.extend(prop_notes)
    raw.file_metadata.append(("ONNX metadata_props", prop_metadata))
    if chw is not None and all(isinstance(d, int) for d in chw):
        raw.file_metadata.append(("ONNX graph input", ModelMetadata(input_shape=chw)))
    raw.notes.extend(note for note in (layout_note, _output_note(model, output)) if note)
    if fixed is not None:
        raw.notes.append(f"fixed batch {fixed} in the graph: inputs run in padded chunks")
    raw.module, raw.gradient_unavailable_reason = _convert(
        model, input_name, device, fixed, layout, output
    )
    return raw


def _output_note(model, output: ScoreOutput) -> str | None:
    """Say which output is read when there is a choice, and that probabilities are logged."""
    parts = []
    if len(model.graph.output) > 1:
        parts.append(f"scores read from output {quoted(output.name)}")
    if output.probabilities:
        parts.append("it holds probabilities: their logarithm is used as logits")
    return "; ".join(parts) or None


def _metadata_props(path: Path, model) -> dict[str, str]:
    """metadata_props as text; protobuf hands back bytes for strings that are not UTF-8."""
    props = {p.key: p.value for p in model.metadata_props}
    if not all(isinstance(v, str) for item in props.items() for v in item):
        raise InspectorError(
            f"{path}: its metadata_props are not valid UTF-8 text; the file is damaged"
        )
    return props


def _read_checked(path: Path):  # -> tuple[onnx.ModelProto, list[Path]]
    """Parse, refuse foreign operators, check every external reference, then read the weights.

    Nothing outside the .onnx is opened before `external_pieces` has checked it, and only
    the checked byte ranges are read (by us, not by onnx), whatever the onnx version.
    """
    import onnx

    check_model_size(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise unreadable(path, f"not a valid ONNX model ({one_line(exc)})") from None
    refuse_custom_operators(path, model)
    pieces = external_pieces(path, model)
    try:
        onnx.checker.check_model(str(path))
    except Exception as exc:
        raise unreadable(path, f"not a valid ONNX model ({one_line(exc)})") from None
    refuse_huge_tensors(path, model)
    read_external_data(pieces)
    return model, external_files(pieces)


def _image_input(path: Path, model) -> tuple[str, list[int | str | None]]:
    """The single non-initializer graph input: its name and dims (layout decided later)."""
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(quoted(i.name) for i in inputs[:5])
        raise InspectorError(
            f"{path} has {len(inputs)} inputs ({names}); one image input is expected"
        )
    tensor_type = inputs[0].type.tensor_type
    if not tensor_type.HasField("shape"):
        return inputs[0].name, [None, None, None, None]
    dims = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
        for d in tensor_type.shape.dim
    ]
    if len(dims) in (2, 4):
        _check_dims(path, dims)
    return inputs[0].name, dims


def _check_dims(path: Path, dims: list[int | str | None]) -> None:
    """Fixed sizes must be positive, and a fixed batch small enough to pad every chunk to."""
    if any(isinstance(d, int) and d < 1 for d in dims):
        raise InspectorError(f"{path}: its input shape {dims} has a size below 1")
    if isinstance(dims[0], int) and dims[0] > MAX_FIXED_BATCH:
        raise InspectorError(
            f"{path}: its input has a fixed batch of {dims[0]}; at most {MAX_FIXED_BATCH} "
            "is supported: export it with a dynamic batch"
        )


def session_options():
    """onnxruntime's CPU threads follow torch's (devices.leave_a_core_free), without spinning.

    By default a session starts one intra-op thread per core and keeps them spinning
    between calls: beside the window's GUI thread on a small machine, that takes the core
    the window was left. Same thread count as torch, idle threads sleep.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # fatal only: failures reach the user as one-line errors
    options.intra_op_num_threads = torch.get_num_threads()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def _session_source(path: Path, model) -> bytes | str:
    """The checked in-memory model, so onnxruntime opens no file of its own.

    Past protobuf's 2 GiB the bytes cannot be made; onnxruntime then reads the same file
    and the external ranges `external_pieces` has already checked.
    """
    if model.ByteSize() < MAX_ONNX_BYTES:
        return model.SerializeToString()
    return str(path)


def _open_session(path: Path, source: bytes | str, device: torch.device, raw: RawModel):
    """An InferenceSession on the device; records the providers actually granted."""
    import onnxruntime

    providers = onnx_providers_for(device)
    options = [
        {"device_id": device.index or 0} if p == "CUDAExecutionProvider" else {} for p in providers
    ]
    try:
        session = onnxruntime.InferenceSession(
            source,
            sess_options=session_options(),
            providers=providers,
            provider_options=options,
        )
    except Exception as exc:
        raise unreadable(path, f"onnxruntime cannot open it ({one_line(exc)})") from None
    raw.providers = tuple(session.get_providers())
    if device.type == "cuda" and "CUDAExecutionProvider" not in raw.providers:
        raw.notes.append("onnxruntime could not use CUDA here; the session runs on CPU")
    return session


def _session_runner(
    path: Path, session, fixed: int | None, layout: Layout, output: ScoreOutput
) -> Callable[[np.ndarray], np.ndarray]:
    """Un-normalised float32 NCHW → float32 logits through onnxruntime, chunked."""
    model_input = session.get_inputs()[0]
    dtype = _ORT_DTYPES.get(model_input.type)
    if dtype is None:
        raise InspectorError(
            f"{path}: input type {model_input.type} is not supported; a float image input "
            "is expected"
        )

    def forward(part: np.ndarray) -> np.ndarray:
        feed = layout.numpy(part).astype(dtype, copy=False)
        result = session.run([output.name], {model_input.name: feed})
        return output.numpy(logits_array(result[0]))

    def run(x: np.ndarray) -> np.ndarray:
        chunk = fixed if fixed is not None else DEFAULT_CHUNK
        return run_chunked(forward, np.asarray(x, dtype=np.float32), chunk, fixed is not None)

    return run


def _convert(
    model,
    input_name: str,
    device: torch.device,
    fixed: int | None,
    layout: Layout,
    output: ScoreOutput,
) -> tuple[nn.Module | None, str | None]:
    """The graph interpreted in torch as the gradient path, or None with a one-line reason.

    Its faithfulness to onnxruntime is checked on loading and on the evaluated data
    (LoadedModel.conversion); an operator without a function refuses gradients, not loading.
    """
    try:
        module: nn.Module = Adapted(OnnxGraph(model, input_name, output.name), layout, output)
    except InspectorError as exc:
        return None, str(exc)
    except Exception as exc:
        return None, (
            f"the ONNX graph cannot be run in torch ({one_line(exc, 160)}), so gradient "
            "attacks are unavailable; Square runs through onnxruntime, or load a torch format"
        )
    if fixed is not None:
        module = FixedBatch(module, fixed)
    return freeze(module, device), None


def max_logit_difference(loaded, x: np.ndarray) -> float:
    """Largest |module(x) - reference_logits(x)| over a batch: does the gradient path agree?"""
    if loaded.module is None:
        raise InspectorError(f"no gradient module to compare: {loaded.gradient_unavailable_reason}")
    x = np.asarray(x, dtype=np.float32)
    device = torch.device(loaded.info.device)
    parts = []
    with torch.inference_mode():
        for start in range(0, x.shape[0], DEFAULT_CHUNK):
            tensor = torch.from_numpy(np.ascontiguousarray(x[start : start + DEFAULT_CHUNK]))
            parts.append(loaded.module(tensor.to(device)).float().cpu().numpy())
    converted = np.concatenate(parts) if parts else np.zeros((0,), dtype=np.float32)
    reference = loaded.reference_logits(x)
    if converted.size == 0:
        return 0.0
    return float(np.max(np.abs(converted - reference)))
