"""Fuzzing the results and audit readers (issue 13): truncated and bit-flipped copies of a
genuine results .json and .riaudit go through `load_any`; only InspectorError may come
out (or a clean load), never another exception, and each case stays fast."""

from __future__ import annotations

import time

import pytest
from hostile_results_support import genuine_results, rewrite_audit, save_genuine_audit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.core.audit import load_any
from inspector.core.errors import InspectorError
from inspector.core.results import save_results

FUZZ = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def genuine_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    results = genuine_results()
    json_path = folder / "results.json"
    save_results(json_path, results)
    audit_path = save_genuine_audit(folder / "audit.riaudit", results)
    return {"json": json_path.read_bytes(), "audit": audit_path.read_bytes()}, folder


def _mutations():
    """Truncate at a fraction of the length, then flip a few bits at fractional offsets."""
    return st.tuples(
        st.one_of(st.none(), st.floats(0.0, 1.0)),
        st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), max_size=4),
    )


def _mutate(data: bytes, mutation) -> bytes:
    cut, flips = mutation
    out = bytearray(data if cut is None else data[: int(len(data) * cut)])
    for where, bit in flips:
        if out:
            out[min(int(len(out) * where), len(out) - 1)] ^= 1 << bit
    return bytes(out)


def _load_only_user_errors(path) -> None:
    start = time.monotonic()
    try:
        load_any(path)
    except InspectorError as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("kind", ["json", "audit"])
def test_damaged_copies_raise_only_inspector_errors(genuine_files, kind):
    files, folder = genuine_files
    suffix = ".json" if kind == "json" else ".riaudit"

    @FUZZ
    @given(_mutations())
    def check(mutation):
        path = folder / f"fuzzed{suffix}"
        path.write_bytes(_mutate(files[kind], mutation))
        _load_only_user_errors(path)

    check()


def test_damaged_members_of_an_audit_raise_only_inspector_errors(genuine_files):
    """Members damaged inside a sound zip (CRCs right): the readers behind the zip are hit."""
    folder = genuine_files[1]
    source = folder / "audit.riaudit"

    @FUZZ
    @given(st.sampled_from(["audit.json", "results.json", "arrays.npz"]), _mutations())
    def check(member, mutation):
        path = rewrite_audit(
            source,
            folder / "member.riaudit",
            lambda name, data: _mutate(data, mutation) if name == member else data,
        )
        _load_only_user_errors(path)

    check()


def _leaves(value, path=()):
    """Every position in a JSON tree (lists are sampled: a few items each)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i in sorted({0, len(value) // 2, len(value) - 1} & set(range(len(value)))):
            yield from _leaves(value[i], (*path, i))


JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 20), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def test_results_with_a_field_replaced_raise_only_inspector_errors(genuine_files):
    """Any one field replaced by any JSON value: refused by the validator, or loaded and
    then usable by what reads results (the view, the CSV rows, the summary, the report's
    data)."""
    import json

    from inspector.core.export import per_example_rows, summary_to_json
    from inspector.core.view import ResultsView
    from inspector.reporting.data import build_report_data

    files, folder = genuine_files
    original = json.loads(files["json"])
    positions = [p for p in _leaves(original) if p]

    @FUZZ
    @given(st.sampled_from(positions), JSON_VALUES)
    def check(position, value):
        data = json.loads(files["json"])
        target = data
        for key in position[:-1]:
            target = target[key]
        target[position[-1]] = value
        path = folder / "field.json"
        path.write_text(json.dumps(data))
        try:
            results = load_any(path).results
        except InspectorError as exc:
            assert "\n" not in str(exc)
            return
        view = ResultsView.from_results(results)
        for i in range(len(results.models)):
            view.certified(i)
        list(per_example_rows(results))
        json.dumps(summary_to_json(results), allow_nan=False)
        build_report_data(results)

    check()
