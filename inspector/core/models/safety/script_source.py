"""A TorchScript archive checked before torch.jit.load may compile and run any of it.

torch.jit.load compiles the archive's code/ sources and runs each class's TorchScript
__setstate__ while it unpickles data.pkl, so a module could open or write files before the
graph check (graph_ops.py) ever sees it. The sources are read as text first: no
__setstate__, no names of ops that touch files or processes; the pickles are scanned.
"""

from __future__ import annotations

import re
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
from inspector.core.models.safety.pickle_scan import SCRIPT_GLOBALS

_CODE_TOTAL = 64 << 20  # real models: a few MB of sources
# identifiers that name file, process or storage-from-path ops in TorchScript source
_FORBIDDEN = re.compile(
    r"\b(__setstate__|from_file|save|load|_load_for_lite_interpreter|open|"
    r"system|popen|spawn|fork|exec|remove|unlink|rename|mkdir|rmdir|getenv|environ|"
    r"_storage_from_file|import_ir_module|_jit_pass|classes|_C)\b"
)


def inspect_torchscript(path: Path) -> None:
    """Raise InspectorError unless sources and pickles hold only module code and tensors."""
    with open_checked(path) as archive:
        code_bytes = 0
        for info in archive.infolist():
            name = inner_name(info.filename)
            if name.endswith("pkl"):  # data.pkl, constants.pkl, *.debug_pkl, traced_inputs.pkl
                scan_pickle_member(path, archive, info, SCRIPT_GLOBALS, script=True)
            elif name.startswith("code/") and name.endswith(".py"):
                code_bytes += info.file_size
                if code_bytes > _CODE_TOTAL:
                    raise broken(path, f"its code/ sources exceed {_CODE_TOTAL} bytes")
                data = read_member(path, archive, info, LIMITS.text_bytes)
                _check_source(path, info.filename, data)


def _check_source(path: Path, member: str, data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    found = _FORBIDDEN.search(text)
    if found is None:
        return
    word = found.group(1)
    if word == "__setstate__":
        what = f"member {member} defines {word}, which torch runs while loading the file"
    else:
        what = f"member {member} calls {word!r}, which could read or write files or run code"
    raise refused(path, what)
