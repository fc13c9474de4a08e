"""A .pt2 archive checked before torch.export.load may read it.

torch.export.load unpickles sample inputs (retrying with weights_only=False), pickled
weights and constants (weights_only=False outright) and opaque constants (pickle.loads),
loads AOTInductor shared libraries, allocates zeros for empty weight records, and evaluates
strings of the program (program_json.py). So: bounded zip, every pickle member scanned, no
native code or opaque objects, no tensor conjured from nothing, evaluated strings checked.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

from inspector.core.models.safety.archive import (
    LIMITS,
    broken,
    inner_name,
    open_checked,
    read_member,
    refused,
    scan_pickle_member,
)
from inspector.core.models.safety.program_json import check_evaluated_strings

_NATIVE_DIRS = ("data/aotinductor/", "data/executorch/", "data/mtia", "xl_model_weights/")
_NATIVE_SUFFIXES = (".so", ".dll", ".dylib", ".pyd", ".cubin", ".o")
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".bin")
_OBJECT_PREFIXES = ("custom_obj_", "opaque_obj_")


def inspect_pt2(path: Path) -> None:
    """Raise InspectorError unless the archive only holds what a plain exported graph needs."""
    with open_checked(path) as archive:
        infos = archive.infolist()
        use_pickle = _check_payloads(path, archive, infos)
        for info in infos:
            name = inner_name(info.filename)
            _refuse_native(path, info.filename, name)
            if any(prefix in name for prefix in _OBJECT_PREFIXES):
                raise refused(path, f"member {info.filename} is a pickled Python object")
            if name.endswith(_PICKLE_SUFFIXES) or name in use_pickle:
                scan_pickle_member(path, archive, info)
            elif name.endswith(".json") and (name.startswith("models/") or "/" not in name):
                data = read_member(path, archive, info, LIMITS.text_bytes)
                check_evaluated_strings(path, info.filename, _json(path, info.filename, data))


def _refuse_native(path: Path, member: str, name: str) -> None:
    if name.startswith(_NATIVE_DIRS) or name.endswith(_NATIVE_SUFFIXES):
        raise refused(path, f"member {member} is compiled native code (AOTInductor or similar)")


def _check_payloads(path: Path, archive: zipfile.ZipFile, infos: list) -> set[str]:
    """Check the weights/constants configs; return the archive paths they mark as pickled."""
    found: set[str] = set()
    sizes = {inner_name(i.filename): i.file_size for i in infos}
    for info in infos:
        name = inner_name(info.filename)
        if not (
            name.startswith(("data/weights/", "data/constants/")) and name.endswith("_config.json")
        ):
            continue
        config = _json(path, info.filename, read_member(path, archive, info, LIMITS.text_bytes))
        entries = config.get("config", {}) if isinstance(config, dict) else {}
        folder = name.split("/")[1]
        for entry in entries.values() if isinstance(entries, dict) else ():
            if not isinstance(entry, dict):
                continue
            target = str(entry.get("path_name"))
            if target.startswith(_OBJECT_PREFIXES):
                raise refused(path, f"member {info.filename} lists a pickled object {target}")
            if entry.get("use_pickle"):
                found.add(f"data/{folder}/{target}")
            elif sizes.get(f"data/{folder}/{target}") == 0:
                _refuse_conjured_tensor(path, info.filename, target, entry.get("tensor_meta"))
    return found


def _refuse_conjured_tensor(path: Path, member: str, target: str, meta: object) -> None:
    """An empty record makes torch allocate zeros of the declared size: it must declare 0."""
    sizes = meta.get("sizes") if isinstance(meta, dict) else None
    dims = [d.get("as_int") if isinstance(d, dict) else None for d in sizes or []]
    if not all(isinstance(d, int) and d >= 0 for d in dims) or math.prod(dims) != 0:
        raise broken(path, f"member {member} declares tensor {target} of shape {dims} with no data")


def _json(path: Path, member: str, data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise broken(path, f"member {member} is not valid JSON ({type(exc).__name__})") from None
