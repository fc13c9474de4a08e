"""ONNX backend: onnxruntime is the reference forward pass, onnx2torch gives gradients.

The converted torch module is only a gradient path; whether it agrees with onnxruntime on
the evaluated data is checked by the evaluation layer (see `max_logit_difference`).
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

MAX_FIXED_BATCH = 1024  # every chunk is padded to the fixed batch
_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
}


def load_onnx(path: Path, device: torch.device) -> RawModel:
    """Check the graph, open an onnxruntime session, and try an onnx2torch conversion."""
    model, data_files = _read_checked(path)
    dims = _image_input_dims(path, model)
    fixed = dims[0] if isinstance(dims[0], int) else None
    raw = RawModel(backend="onnx", fixed_batch=fixed, extra_files=data_files)
    session = _open_session(path, _session_source(path, model), device, raw)
    raw.run_numpy = _session_runner(path, session, fixed)
    props = _metadata_props(path, model)
    prop_metadata, prop_notes = from_onnx_props(props)
    raw.notes.extend(prop_notes)
    raw.file_metadata.append(("ONNX metadata_props", prop_metadata))
    if all(isinstance(d, int) for d in dims[1:]):
        raw.file_metadata.append(("ONNX graph input", ModelMetadata(input_shape=tuple(dims[1:]))))
    if fixed is not None:
        raw.notes.append(f"fixed batch {fixed} in the graph: inputs run in padded chunks")
    raw.module, raw.gradient_unavailable_reason = _convert(model, device, fixed, raw.notes)
    return raw


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


def _image_input_dims(path: Path, model) -> list[int | str | None]:
    """The single non-initializer graph input's dims; it must be rank 4 (N, C, H, W)."""
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(quoted(i.name) for i in inputs[:5])
        raise InspectorError(
            f"{path} has {len(inputs)} inputs ({names}); one NCHW image input is expected"
        )
    tensor_type = inputs[0].type.tensor_type
    if not tensor_type.HasField("shape"):
        return [None, None, None, None]
    dims = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
        for d in tensor_type.shape.dim
    ]
    if len(dims) != 4:
        shape = ["?" if d is None else d for d in dims]
        raise InspectorError(
            f"{path}: input {quoted(inputs[0].name)} has rank {len(dims)} (shape {shape}); "
            "an NCHW image input (rank 4) is expected"
        )
    _check_dims(path, dims)
    return dims


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


def _session_runner(path: Path, session, fixed: int | None) -> Callable[[np.ndarray], np.ndarray]:
    """Un-normalised float32 NCHW → float32 logits through onnxruntime, chunked."""
    model_input = session.get_inputs()[0]
    dtype = _ORT_DTYPES.get(model_input.type)
    if dtype is None:
        raise InspectorError(
            f"{path}: input type {model_input.type} is not supported; a float image input "
            "is expected"
        )
    outputs = session.get_outputs()
    if not outputs:
        raise InspectorError(f"{path} has no output; a classifier returning logits is expected")
    output_name = outputs[0].name

    def forward(part: np.ndarray) -> np.ndarray:
        result = session.run([output_name], {model_input.name: part.astype(dtype, copy=False)})
        return logits_array(result[0])

    def run(x: np.ndarray) -> np.ndarray:
        chunk = fixed if fixed is not None else DEFAULT_CHUNK
        return run_chunked(forward, np.asarray(x, dtype=np.float32), chunk, fixed is not None)

    return run


def _convert(
    model, device: torch.device, fixed: int | None, notes: list[str]
) -> tuple[nn.Module | None, str | None]:
    """onnx2torch conversion as the gradient path, or None with a one-line reason."""
    try:
        from onnx2torch import convert

        patched, count = _clear_needless_allowzero(model)
        module: nn.Module = convert(patched)
    except Exception as exc:
        return None, (
            f"onnx2torch cannot convert this ONNX model ({one_line(exc, 160)}), so gradient "
            "attacks are unavailable; use a black-box attack or load a torch format"
        )
    if count:
        notes.append(
            f"onnx2torch: cleared allowzero on {count} Reshape node(s) whose constant shape "
            "has no 0, which does not change the result"
        )
    if fixed is not None:
        module = FixedBatch(module, fixed)
    return freeze(module, device), None


def _clear_needless_allowzero(model):  # -> tuple[onnx.ModelProto, int]
    """Drop Reshape allowzero=1 where the shape is a constant without zeros.

    torch's dynamo ONNX exporter writes allowzero=1 on every Reshape and onnx2torch refuses
    it; allowzero only matters when the target shape contains 0, so it is safe to drop then.
    """
    import onnx
    from onnx import numpy_helper

    constants = {init.name: init for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = node.attribute[0].t
    patched = onnx.ModelProto()
    patched.CopyFrom(model)
    count = 0
    for node in patched.graph.node:
        if node.op_type != "Reshape" or len(node.input) < 2 or node.input[1] not in constants:
            continue
        attrs = [a for a in node.attribute if a.name == "allowzero" and a.i == 1]
        shape = numpy_helper.to_array(constants[node.input[1]])
        if attrs and not (shape == 0).any():
            node.attribute.remove(attrs[0])
            count += 1
    return patched, count


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
