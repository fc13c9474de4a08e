"""torch.save files: plain state_dicts (rebuilt by a network factory) and pickled modules.

Nothing here runs code from the file or imports user code unless trust_code is set: the
pickle is first scanned statically (safety/pickle_scan.py); one that names only tensor
globals is read with torch.load(weights_only=True), anything else is a pickled Python
object that needs trust.
"""

from __future__ import annotations

import importlib
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inspector.core.errors import HintKind, InspectorError
from inspector.core.models.common import RawModel, freeze, one_line, unreadable
from inspector.core.models.safety.archive import LIMITS, open_checked, read_member
from inspector.core.models.safety.pickle_scan import (
    TENSOR_GLOBALS,
    ClampedReader,
    NotAPickle,
    scan_pickles,
)

_NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")
_PREFIXES = ("module.", "_orig_mod.")
# __builtin__ and copy_reg: how pickle protocol 2 (torch.save's default) names the stdlib
_BORING_MODULES = (
    "torch",
    "collections",
    "builtins",
    "__builtin__",
    "_codecs",
    "copyreg",
    "copy_reg",
    "numpy",
)


def load_torch_save(
    path: Path, device: torch.device, arch: str | None, trust_code: bool, zipped: bool
) -> RawModel:
    """A torch.save file: state_dict → the network factory; pickled object → trust."""
    others = _foreign_globals(path, zipped)
    if others is None:
        raise unreadable(path, "not a torch.save file (corrupt or unknown format)")
    if others:
        return _load_pickled(path, device, trust_code, others)
    try:
        with warnings.catch_warnings():  # "pickle protocol 4 detected": noise for the user
            warnings.simplefilter("ignore", UserWarning)
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise unreadable(path, f"not a torch.save file ({one_line(exc)})") from None
    except Exception as exc:
        raise unreadable(path, f"corrupt torch.save file ({one_line(exc)})") from None
    if isinstance(obj, Mapping):
        return load_state_dict(path, obj, device, arch, trust_code)
    raise unreadable(path, f"it holds a {type(obj).__name__}, not a model or a state_dict")


def load_state_dict(
    path: Path, obj: Mapping[str, Any], device: torch.device, arch: str | None, trust_code: bool
) -> RawModel:
    """Build the network from its factory (importing it runs code, hence trust), load weights."""
    state, notes = _unwrap_state_dict(path, obj)
    if arch is None:
        raise InspectorError(
            f"{path} holds only weights (a state_dict)", HintKind.ARCH_FOR_STATE_DICT
        )
    if not trust_code:
        raise InspectorError(
            f"the network factory {arch} imports and runs Python code", HintKind.TRUST_ARCH
        )
    module = build_arch(arch)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        message = _mismatch_message(path, arch, module, state, exc)
        raise InspectorError(message, HintKind.CHECK_ARCH) from None
    notes.append(f"network built by {arch}, weights loaded strictly")
    return RawModel(backend="state_dict", module=freeze(module, device), notes=notes)


def _unwrap_state_dict(path: Path, obj: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Accept {"state_dict": ...}-style checkpoints and DataParallel/compile key prefixes."""
    notes: list[str] = []
    state = dict(obj)
    if not _all_tensors(state):
        nested = next((k for k in _NESTED_KEYS if _all_tensors(state.get(k))), None)
        if nested is None:
            keys = ", ".join(sorted(map(str, state))[:6])
            raise unreadable(path, f"a dict (keys: {keys}) that is not a state_dict of tensors")
        state = dict(state[nested])
        notes.append(f"state_dict taken from checkpoint key {nested!r}")
    for prefix in _PREFIXES:
        if state and all(str(k).startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
            notes.append(f"stripped the {prefix!r} prefix from state_dict keys")
    return state, notes


def _all_tensors(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(v, torch.Tensor) for v in value.values())
    )


def _mismatch_message(
    path: Path, arch: str, module: nn.Module, state: Mapping[str, Any], exc: Exception
) -> str:
    expected = set(module.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if not missing and not unexpected:
        return f"{path} does not fit the network of {arch} ({one_line(exc)})"
    return (
        f"{path} does not fit the network of {arch}: {len(missing)} missing key(s) "
        f"{missing[:3]}, {len(unexpected)} unexpected key(s) {unexpected[:3]}"
    )


def build_arch(arch: str) -> nn.Module:
    """Import "package.module:factory" and call factory() to get an nn.Module."""
    module_name, _, attr = arch.partition(":")
    if not module_name or not attr:
        raise InspectorError(
            f"the network factory {arch!r} must look like package.module:factory",
            HintKind.CHECK_ARCH,
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except ImportError as exc:
        raise InspectorError(
            f"cannot import {module_name!r} for the network factory ({one_line(exc)}); "
            "install it or add its folder to PYTHONPATH",
            HintKind.CHECK_ARCH,
        ) from None
    except AttributeError:
        raise InspectorError(
            f"network factory {arch}: {module_name} has no {attr!r}", HintKind.CHECK_ARCH
        ) from None
    try:
        network = target()
    except Exception as exc:
        raise InspectorError(
            f"network factory {arch}: calling {attr}() failed ({one_line(exc)})",
            HintKind.CHECK_ARCH,
        ) from exc
    if not isinstance(network, nn.Module):
        raise InspectorError(
            f"network factory {arch}: {attr}() returned a {type(network).__name__}, not a "
            "torch nn.Module",
            HintKind.CHECK_ARCH,
        )
    return network


def _load_pickled(
    path: Path, device: torch.device, trust_code: bool, references: list[str]
) -> RawModel:
    """A pickled Python object: only with trust, since unpickling runs code from the file."""
    if not trust_code:
        shown = display_references(references)
        refs = f" (references {', '.join(shown[:3])})" if shown else ""
        raise InspectorError(
            f"{path} is a pickled Python object{refs}; loading it runs code from the file",
            HintKind.TRUST_CODE,
        )
    try:
        obj = torch.load(str(path), map_location=device, weights_only=False)
    except (ImportError, AttributeError) as exc:
        raise InspectorError(
            f"{path} needs Python code that is not importable here ({one_line(exc)}); install "
            "the package that defines the model or add its folder to PYTHONPATH"
        ) from None
    except Exception as exc:
        raise unreadable(path, f"unpickling failed ({one_line(exc)})") from None
    if isinstance(obj, nn.Module):
        return RawModel(backend="pickle", module=freeze(obj, device))
    raise unreadable(path, f"the pickle holds a {type(obj).__name__}, not an nn.Module")


def _foreign_globals(path: Path, zipped: bool) -> list[str] | None:
    """Globals beyond tensors and containers, read without unpickling; None: not a pickle."""
    try:
        scans = _scan_zipped(path) if zipped else _scan_legacy(path)
    except (NotAPickle, OSError):
        return None
    _check_storage_sizes(path, scans)
    found = [g for scan in scans for g in scan.refused(TENSOR_GLOBALS)]
    return list(dict.fromkeys(found))


def _check_storage_sizes(path: Path, scans: list) -> None:
    """torch allocates each storage at its declared size before reading it: bound by file."""
    size = path.stat().st_size
    declared = max((n for scan in scans for n in scan.storage_elements()), default=0)
    if declared > size:
        raise unreadable(
            path, f"it declares a storage of {declared} elements, more than its {size} bytes hold"
        )


def display_references(found: list[str]) -> list[str]:
    """The references worth naming to the user: stdlib plumbing left out, unless it is all."""
    interesting = [g for g in found if g.split(".")[0] not in _BORING_MODULES]
    return interesting or found


def _scan_zipped(path: Path) -> list:
    """Every data.pkl in a torch.save zip (torch reads the one under its record prefix)."""
    with open_checked(path) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith("data.pkl")]
        if not members:
            raise NotAPickle("no data.pkl in the archive")
        return [
            scan
            for info in members
            for scan in scan_pickles(read_member(path, archive, info, LIMITS.pickle_bytes), 1)
        ]


def _scan_legacy(path: Path) -> list:
    """The legacy layout: magic, protocol, sys info, the object, the storage keys."""
    with path.open("rb") as handle:
        return scan_pickles(ClampedReader(handle, path.stat().st_size), 5)
