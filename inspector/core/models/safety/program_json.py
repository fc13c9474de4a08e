"""The strings of a serialized torch.export program that torch evaluates as Python.

Shape expressions go to sympy.sympify (sympy's srepr form: Symbol('s0', positive=True,
integer=True)), guards_code to exec when the program is unlifted, and value names and
attribute paths into the Python source fx generates for the graph. Each is held to a small
grammar: names are identifiers, paths dotted identifiers, expressions quoted symbol names,
numbers, arithmetic, comparisons and a fixed list of words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from inspector.core.models.safety.archive import refused

# the words an expression may use: sympy classes and assumptions, the torch.utils._sympy
# functions the deserializer passes to sympify, and size access in guards
_EXPR_CHARS = re.compile(r"[A-Za-z0-9_ .+\-*/%(),<>=!&|~\[\]']*")
_QUOTED = re.compile(r"'[A-Za-z_][A-Za-z0-9_]*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYMBOL = re.compile(r"[a-z]+[0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"([A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)?")  # "" is the root module
_PATH_KEYS = frozenset({"fqn", "parameter_name", "buffer_name", "target", "tensor_constant_name"})
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


def check_evaluated_strings(path: Path, member: str, document: object) -> None:
    """Refuse a program whose evaluated strings are anything but names and shape arithmetic."""
    for kind, text in _evaluated_strings(document):
        if kind == "name":
            bad = _NAME.fullmatch(text) is None
        elif kind == "attribute path":
            bad = _PATH.fullmatch(text) is None
        else:
            words = set(_WORD.findall(_QUOTED.sub("''", text)))
            odd = [w for w in words if w not in _EXPR_WORDS and not _SYMBOL.fullmatch(w)]
            bad = len(text) > 10_000 or not _EXPR_CHARS.fullmatch(text) or "__" in text or odd
        if bad:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise refused(path, f"member {member}: its {kind} {shown!r} is code, not data")


def _evaluated_strings(document: object) -> Iterator[tuple[str, str]]:
    """(kind, text) for shape expressions, guards, range symbols, names and paths."""
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
                elif key in _PATH_KEYS and isinstance(value, str):
                    yield "attribute path", value
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
