"""A .pt2 archive checked before torch.export.load may read it.

torch.export.load unpickles sample inputs (retrying with weights_only=False), pickled
weights and constants (weights_only=False outright) and opaque constants (pickle.loads),
loads AOTInductor shared libraries, and hands shape expressions to sympy.sympify (which
evaluates Python). So: bounded zip, every pickle member scanned, no native code or opaque
objects, and every shape expression made of symbols, numbers and arithmetic only.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
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

_NATIVE_DIRS = ("data/aotinductor/", "data/executorch/", "data/mtia", "xl_model_weights/")
_NATIVE_SUFFIXES = (".so", ".dll", ".dylib", ".pyd", ".cubin", ".o")
_PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".bin")
_OBJECT_PREFIXES = ("custom_obj_", "opaque_obj_")
# Strings in the serialized program that torch evaluates as Python: shape expressions go to
# sympy.sympify (sympy's srepr form: Symbol('s0', positive=True, integer=True)) and
# guards_code to exec. Accepted: quoted symbol names, numbers, arithmetic, comparisons, and
# the words below (sympy classes and assumptions, torch.utils._sympy functions, size access).
_EXPR_CHARS = re.compile(r"[A-Za-z0-9_ .+\-*/%(),<>=!&|~\[\]']*")
_QUOTED = re.compile(r"'[A-Za-z_][A-Za-z0-9_]*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYMBOL = re.compile(r"[a-z]+[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR_WORDS = frozenset(
    [
        "Abs",
        "Add",
        "And",
        "BooleanFalse",
        "BooleanTrue",
        "CeilDiv",
        "CeilToInt",
        "CleanDiv",
        "Eq",
        "Equality",
        "False",
        "Float",
        "FloatPow",
        "FloatTrueDiv",
        "FloorDiv",
        "FloorToInt",
        "Ge",
        "GreaterThan",
        "Gt",
        "Half",
        "Identity",
        "Infinity",
        "IntInfinity",
        "IntTrueDiv",
        "Integer",
        "IsNonOverlappingAndDenseIndicator",
        "L",
        "LShift",
        "Le",
        "LessThan",
        "Lt",
        "Max",
        "Min",
        "Mod",
        "ModularIndexing",
        "Mul",
        "Ne",
        "NegativeInfinity",
        "NegativeIntInfinity",
        "NegativeOne",
        "Not",
        "One",
        "Or",
        "Pow",
        "PowByNatural",
        "PythonMod",
        "RShift",
        "Rational",
        "RoundDecimal",
        "RoundToInt",
        "StrictGreaterThan",
        "StrictLessThan",
        "Symbol",
        "ToFloat",
        "True",
        "TruncToFloat",
        "TruncToInt",
        "Unequality",
        "Where",
        "Zero",
        "and",
        "commutative",
        "e",
        "even",
        "extended_real",
        "finite",
        "inf",
        "infinite",
        "int_oo",
        "integer",
        "math",
        "negative",
        "nonnegative",
        "nonpositive",
        "nonzero",
        "not",
        "odd",
        "oo",
        "or",
        "positive",
        "real",
        "size",
        "storage_offset",
        "stride",
        "zero",
    ]
)


def inspect_pt2(path: Path) -> None:
    """Raise InspectorError unless the archive only holds what a plain exported graph needs."""
    with open_checked(path) as archive:
        infos = archive.infolist()
        use_pickle = _pickled_payloads(path, archive, infos)
        for info in infos:
            name = inner_name(info.filename)
            _refuse_native(path, info.filename, name)
            if any(prefix in name for prefix in _OBJECT_PREFIXES):
                raise refused(path, f"member {info.filename} is a pickled Python object")
            if name.endswith(_PICKLE_SUFFIXES) or name in use_pickle:
                scan_pickle_member(path, archive, info)
            elif name.endswith(".json") and (name.startswith("models/") or "/" not in name):
                _check_expressions(
                    path, info.filename, read_member(path, archive, info, LIMITS.text_bytes)
                )


def _refuse_native(path: Path, member: str, name: str) -> None:
    if name.startswith(_NATIVE_DIRS) or name.endswith(_NATIVE_SUFFIXES):
        raise refused(path, f"member {member} is compiled native code (AOTInductor or similar)")


def _pickled_payloads(path: Path, archive: zipfile.ZipFile, infos: list) -> set[str]:
    """Archive paths of weights/constants the payload configs mark as pickled."""
    found: set[str] = set()
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
    return found


def _json(path: Path, member: str, data: bytes) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise broken(path, f"member {member} is not valid JSON ({type(exc).__name__})") from None


def _check_expressions(path: Path, member: str, data: bytes) -> None:
    """Refuse a program whose evaluated strings are anything but shape arithmetic."""
    document = _json(path, member, data)
    for kind, text in _evaluated_strings(document):
        if kind == "name":
            bad = _NAME.fullmatch(text) is None
        else:
            words = set(_WORD.findall(_QUOTED.sub("''", text)))
            odd = [w for w in words if w not in _EXPR_WORDS and not _SYMBOL.fullmatch(w)]
            bad = len(text) > 10_000 or not _EXPR_CHARS.fullmatch(text) or "__" in text or odd
        if bad:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise refused(path, f"member {member} has a {kind} {shown!r} that is code")


def _evaluated_strings(document: object) -> Iterator[tuple[str, str]]:
    """(kind, text) for shape expressions, guards, range symbols and value names."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "expr_str" and isinstance(value, str):
                    yield "shape expression", value
                elif key == "guards_code" and isinstance(value, list):
                    yield from (("guard", str(g)) for g in value)
                elif key == "range_constraints" and isinstance(value, dict):
                    yield from (("range symbol", str(k)) for k in value)
                elif key == "name" and isinstance(value, str):
                    yield "name", value
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
