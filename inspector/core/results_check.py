"""Validate a results file's JSON before anything uses it: results come from strangers.

A results file (alone, inside an audit, or as an autosave) may be hostile: wrong types,
arrays of the wrong length, out-of-range numbers, absurd sizes or nesting. `read_json_bytes`
bounds the size and nesting of the text; `check_results_json` checks every field the tool
reads (types, lengths, ranges and order) and raises one `InspectorError` naming the field.
Nothing here allocates more than the parsed JSON already holds.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

from inspector.core.attacks.registry import NAMES
from inspector.core.errors import InspectorError
from inspector.core.threat import NORMS

MAX_RESULTS_BYTES = 128 << 20  # a results file of 50,000 examples × 100 ε is ~75 MB
MAX_DEPTH = 16  # the format nests 7 levels; free fields (checks, smoothing) a few more
MAX_TEXT = 4096  # any string: names, paths, descriptions, explanations
MAX_EPS = 1000  # ε grid points
MAX_DESCRIPTION = 32 * MAX_EPS + 1024  # the threat model's one line lists every ε
MAX_EXAMPLES = 1_000_000
MAX_CELLS = 20_000_000  # examples × ε values of one model
MAX_MODELS = 100
MAX_CLASSES = 100_000
MAX_ENTRIES = 10_000  # entries of a free dict (timings, environment, figures, smoothing)
MAX_COUNT = 1 << 40  # counts and indices (dataset size, steps, seeds): far inside int64
SLACK = 1e-9  # rates are sums of fractions: -5.6e-17 is a rounding of 0
HINT = "open the file the inspector wrote, or re-run the evaluation"


class FieldError(Exception):
    """A field is wrong: (field path, what is wrong)."""


def _fail(where: str, problem: str) -> None:
    raise FieldError(f"{where} {problem}")


def read_json_bytes(raw: bytes, source: str) -> Any:
    """Parse JSON text of bounded size; depth beyond the recursion limit is a clear error."""
    if len(raw) > MAX_RESULTS_BYTES:
        raise InspectorError(
            f"{source} is {len(raw):,} bytes, more than the {MAX_RESULTS_BYTES >> 20} MiB a "
            f"results file may have; {HINT}"
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise InspectorError(f"{source} is nested too deeply to be results; {HINT}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InspectorError(f"cannot read results file {source}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


# --- generic bounds -------------------------------------------------------------------------


def check_free_json(
    value: Any, where: str, depth: int = MAX_DEPTH, text_limit: int = MAX_TEXT
) -> None:
    """Any JSON value: depth, string lengths and dict sizes bounded, numbers finite."""
    stack = [(value, where, 0)]
    while stack:
        item, path, level = stack.pop()
        if level > depth:
            _fail(path, f"is nested more than {depth} levels deep")
        if isinstance(item, str):
            _text(item, path, text_limit)
        elif isinstance(item, float) and not math.isfinite(item):
            _fail(path, "is not a finite number")
        elif isinstance(item, dict):
            if len(item) > MAX_ENTRIES:
                _fail(path, f"has {len(item):,} entries (at most {MAX_ENTRIES:,})")
            stack.extend((v, f"{path}.{_key(k, path)}", level + 1) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]", level + 1) for i, v in enumerate(item))
        elif item is not None and not isinstance(item, (bool, int, float)):
            _fail(path, f"has an unexpected value of type {type(item).__name__}")


def _text(value: Any, where: str, limit: int = MAX_TEXT, optional: bool = False) -> str:
    if value is None and optional:
        return value
    if not isinstance(value, str):
        _fail(where, f"must be text, not {_kind(value)}")
    if len(value) > limit:
        _fail(where, f"is {len(value):,} characters long (at most {limit:,})")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _line(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    """A name, path or hash: text on one line (names reach messages, tables and titles)."""
    _text(value, where, limit)
    if _CONTROL.search(value):
        _fail(where, "holds control characters (line breaks, escapes)")
    return value


def _key(key: Any, where: str) -> str:
    """A dict key as a message shows it: short, one line, quoted when not plain."""
    _text(key, where)
    plain = re.fullmatch(r"[\w.@+-]{1,40}", key) is not None
    return key if plain else json.dumps(key)[:40]


def _brief(value: Any) -> str:
    """Any value in a message: one line, at most 40 characters."""
    return json.dumps(value, default=str)[:40] if not isinstance(value, float) else f"{value:g}"


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        _fail(where, f"must be a JSON object, not {_kind(value)}")
    return value


def _list(value: Any, where: str, length: int | None = None, most: int = MAX_CELLS) -> list:
    if not isinstance(value, (list, tuple)):  # tuples: results handed over in memory
        _fail(where, f"must be a list, not {_kind(value)}")
    if length is not None and len(value) != length:
        _fail(where, f"has {len(value):,} values, expected {length:,}")
    if len(value) > most:
        _fail(where, f"has {len(value):,} values (at most {most:,})")
    return value


def _int(value: Any, where: str, low: int = 0, high: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, f"must be a whole number, not {_kind(value)}")
    if not low <= value <= high:
        _fail(where, f"is {_short(value)}, outside [{low}, {high}]")
    return value


def _number(
    value: Any, where: str, low: float = -math.inf, high: float = math.inf, optional: bool = False
) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, f"must be a number, not {_kind(value)}")
    value = float(value) if abs(value) < 1e300 else math.inf
    if not math.isfinite(value):
        _fail(where, "is not a finite number")
    if not low <= value <= high:
        _fail(where, f"is {value:g}, outside [{low:g}, {high:g}]")
    return value


def _short(value: int) -> str:
    text = str(value) if value.bit_length() < 200 else f"a {value.bit_length()}-bit number"
    return text if len(text) <= 40 else text[:37] + "…"


def _all_ints(values: list, high: int) -> bool:
    """The fast path: every value an int (never a bool) in [0, high]."""
    return all(type(v) is int and 0 <= v <= high for v in values)


def _all_numbers(values: list, high: float) -> bool:
    """The fast path: every value a number in [0, high] (NaN fails the comparison)."""
    return all((type(v) is float or type(v) is int) and 0.0 <= v <= high for v in values)


def _ints(values: Any, where: str, length: int, high: int) -> None:
    values = _list(values, where, length)
    if not _all_ints(values, high):
        for i, v in enumerate(values):  # slow path: name the first bad one
            _int(v, f"{where}[{i}]", 0, high)


def _rates(values: Any, where: str, length: int) -> None:
    values = _list(values, where, length)
    if not _all_numbers(values, 1.0):
        for i, v in enumerate(values):
            _number(v, f"{where}[{i}]", 0.0, 1.0)


def _radii(values: Any, where: str, length: int) -> None:
    """Per example a radius ≥ 0, or null (none found / unbounded)."""
    if values is None:
        return
    for i, v in enumerate(_list(values, where, length)):
        _number(v, f"{where}[{i}]", 0.0, optional=True)


def _texts(values: Any, where: str, most: int, limit: int = MAX_TEXT) -> list[str]:
    return [_line(v, f"{where}[{i}]", limit) for i, v in enumerate(_list(values, where, most=most))]


def _shape(value: Any, where: str) -> None:
    dims = _list(value, where, 3)
    for i, d in enumerate(dims):
        _int(d, f"{where}[{i}]", 1, 1 << 16)


# --- the results schema --------------------------------------------------------------------


def _threat(data: Any) -> tuple[float, ...]:
    t = _dict(data, "threat_model")
    if t.get("norm") not in NORMS:
        _fail("threat_model.norm", f"must be one of {', '.join(NORMS)}")
    if t.get("attack") not in NAMES:
        _fail("threat_model.attack", f"must be one of {', '.join(NAMES)}")
    eps = tuple(
        _number(e, f"threat_model.eps[{i}]", 0.0)
        for i, e in enumerate(_list(t.get("eps"), "threat_model.eps", most=MAX_EPS))
    )
    if not eps:
        _fail("threat_model.eps", "is empty")
    if any(b <= a for a, b in itertools.pairwise(eps)):
        _fail("threat_model.eps", "must be strictly increasing (no repeated ε)")
    budgets = (("steps", 1, 1 << 20), ("restarts", 1, 1 << 16), ("queries", 1, 1 << 30))
    for key, low, high in budgets:
        if key in t:
            _int(t[key], f"threat_model.{key}", low, high)
    _int(t.get("seed", 0), "threat_model.seed", -(1 << 63), (1 << 63) - 1)
    if t.get("step_size") is not None:
        _number(t["step_size"], "threat_model.step_size", 1e-300)
    if t.get("num_examples") is not None:
        _int(t["num_examples"], "threat_model.num_examples", 0, MAX_EXAMPLES)
    check_free_json(t.get("eps_labels"), "threat_model.eps_labels")
    _text(t.get("description"), "threat_model.description", MAX_DESCRIPTION, optional=True)
    return eps


def _dataset(data: Any) -> tuple[int, int]:
    d = _dict(data, "dataset")
    for key in ("spec", "kind", "sha256"):
        _line(d.get(key), f"dataset.{key}")
    _shape(d.get("shape"), "dataset.shape")
    classes = _texts(d.get("class_names"), "dataset.class_names", MAX_CLASSES, 256)
    size = _int(d.get("size"), "dataset.size", 0)
    return size, len(classes)


def _model_info(data: Any, where: str) -> int:
    info = _dict(data, where)
    for key in ("name", "path", "sha256", "backend", "device"):
        _line(info.get(key), f"{where}.{key}")
    _text(info.get("description"), f"{where}.description", optional=True)
    _shape(info.get("input_shape"), f"{where}.input_shape")
    classes = _texts(info.get("class_names"), f"{where}.class_names", MAX_CLASSES, 256)
    for key in ("mean", "std"):
        if info.get(key) is not None:
            for i, v in enumerate(_list(info[key], f"{where}.{key}", most=16)):
                _number(v, f"{where}.{key}[{i}]", -1e6, 1e6)
    for key in ("providers", "notes"):
        _texts(info.get(key, []), f"{where}.{key}", 100)
    if not classes:
        _fail(f"{where}.class_names", "is empty")
    return len(classes)


def _curve(data: Any, where: str, eps: tuple[float, ...]) -> int:
    points = _list(data, where, most=len(eps))
    for j, point in enumerate(points):
        p = _dict(point, f"{where}[{j}]")
        if p.get("eps") != eps[j]:
            found = _brief(p.get("eps"))
            _fail(f"{where}[{j}].eps", f"is {found}, expected ε = {eps[j]:g} of the grid")
        for key, value in p.items():
            if key != "eps":
                _number(value, f"{where}[{j}].{key}", -SLACK, 1.0 + SLACK)
    return len(points)


def _breaking(values: Any, where: str, n: int, eps: tuple[float, ...]) -> None:
    grid = set(eps)
    values = _list(values, where, n)
    if all(v is None or (type(v) is float and v in grid) for v in values):
        return
    for i, v in enumerate(values):
        if v is not None and _number(v, f"{where}[{i}]", 0.0, eps[-1]) not in grid:
            _fail(f"{where}[{i}]", f"is {v:g}, not an ε of the grid")


def _matrix(values: Any, where: str, n: int, k: int, high: int | None) -> None:
    """n rows of k class indices (high: the class count) or of confidences (high None)."""
    for i, row in enumerate(_list(values, where, n)):
        if high is None:
            _rates(row, f"{where}[{i}]", k)
        else:
            _ints(row, f"{where}[{i}]", k, high - 1)


def _examples(data: Any, where: str, eps: tuple[float, ...], size: int, classes: tuple[int, int]):
    ex = _dict(data, where)
    n = len(_list(ex.get("index"), f"{where}.index", most=MAX_EXAMPLES))
    k = len(eps)
    if n * k > MAX_CELLS:
        _fail(where, f"hold {n:,} examples × {k} ε, more than {MAX_CELLS:,} values")
    labels, preds = classes
    _ints(ex["index"], f"{where}.index", n, max(size - 1, 0))
    _ints(ex.get("label"), f"{where}.label", n, labels - 1)
    _ints(ex.get("clean_pred"), f"{where}.clean_pred", n, preds - 1)
    _rates(ex.get("clean_conf"), f"{where}.clean_conf", n)
    _matrix(ex.get("adv_pred"), f"{where}.adv_pred", n, k, preds)
    _matrix(ex.get("adv_conf"), f"{where}.adv_conf", n, k, None)
    _breaking(ex.get("breaking_eps"), f"{where}.breaking_eps", n, eps)
    _radii(ex.get("certified_radius"), f"{where}.certified_radius", n)
    _radii(ex.get("min_norm_radius"), f"{where}.min_norm_radius", n)
    if ex.get("broken_by") is not None:
        for i, v in enumerate(_list(ex["broken_by"], f"{where}.broken_by", n)):
            _line(v, f"{where}.broken_by[{i}]", 64)
    return n


def _smoothing(data: Any, where: str) -> None:
    """A randomized smoothing record: bounded JSON whose lists are all records or all scalars,
    its norm a name and its curve (radius, certified accuracy) points in range."""
    block = _dict(data, where)
    check_free_json(block, where, 4)
    for key, value in block.items():
        if isinstance(value, list) and value:
            records = [isinstance(v, dict) for v in value]
            if any(records) and not all(records):
                _fail(f"{where}.{_key(key, where)}", "mixes records and plain values")
        elif isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
            _fail(f"{where}.{_key(key, where)}", "must hold plain values only")
    if "norm" in block:
        _line(block["norm"], f"{where}.norm", 16)
    _text(block.get("description"), f"{where}.description", optional=True)
    for j, point in enumerate(_list(block.get("curve", []), f"{where}.curve", most=2 * MAX_EPS)):
        point = _dict(point, f"{where}.curve[{j}]")
        _number(point.get("radius"), f"{where}.curve[{j}].radius", 0.0)
        _number(
            point.get("certified_accuracy"),
            f"{where}.curve[{j}].certified_accuracy",
            -SLACK,
            1 + SLACK,
        )


def _model(data: Any, i: int, eps: tuple[float, ...], size: int, labels: int) -> int:
    where = f"models[{i}]"
    m = _dict(data, where)
    _line(m.get("name"), f"{where}.name")
    preds = _model_info(m.get("model"), f"{where}.model")
    _number(m.get("clean_accuracy"), f"{where}.clean_accuracy", -SLACK, 1 + SLACK, optional=True)
    _curve(m.get("curve"), f"{where}.curve", eps)
    if m.get("certified_curve") is not None:
        points = _list(m["certified_curve"], f"{where}.certified_curve", len(eps))
        for j, p in enumerate(points):
            field = f"{where}.certified_curve[{j}]"
            value = _dict(p, field).get("certified_accuracy")
            _number(value, f"{field}.certified_accuracy", -SLACK, 1 + SLACK)
    _number(m.get("onnx_conversion_max_rel_diff"), f"{where}.onnx_conversion_max_rel_diff",
            0.0, optional=True)  # fmt: skip
    _text(m.get("attack_note"), f"{where}.attack_note", optional=True)
    timings = _dict(m.get("timings", {}), f"{where}.timings")
    for key, value in timings.items():
        _number(value, f"{where}.timings.{_key(key, f'{where}.timings')}", 0.0)
    for j, c in enumerate(_list(m.get("checks") or [], f"{where}.checks", most=100)):
        c = _dict(c, f"{where}.checks[{j}]")
        for key in ("name", "status"):
            _line(c.get(key), f"{where}.checks[{j}].{key}", 256)
        check_free_json(c, f"{where}.checks[{j}]", depth=6)
    if m.get("smoothing") is not None:
        _smoothing(m["smoothing"], f"{where}.smoothing")
    _text(m.get("certificate"), f"{where}.certificate", optional=True)
    return _examples(m.get("examples"), f"{where}.examples", eps, size, (labels, preds))


def check_results_json(data: Any, source: str) -> None:
    """Every field the tool reads, checked; a bad one raises InspectorError naming it."""
    try:
        top = _dict(data, "the file")
        eps = _threat(top.get("threat_model"))
        size, labels = _dataset(top.get("dataset"))
        if labels == 0:
            _fail("dataset.class_names", "is empty")
        models = _list(top.get("models"), "models", most=MAX_MODELS)
        claimed = top["threat_model"].get("num_examples")
        for i, m in enumerate(models):
            n = _model(m, i, eps, size, labels)
            if claimed is not None and n != claimed:
                _fail(f"models[{i}].examples", f"hold {n:,} examples, the file claims {claimed:,}")
        _text(top.get("created", ""), "created", 64)
        env = _dict(top.get("environment", {}), "environment")
        check_free_json(env, "environment", depth=1)
    except FieldError as exc:
        raise InspectorError(f"{source} is not valid results: {exc}; {HINT}") from None
    except RecursionError:
        raise InspectorError(f"{source} is nested too deeply to be results; {HINT}") from None

