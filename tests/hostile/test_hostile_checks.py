"""Hostile check records in a results file: loading, the report's summary, the window's marks
and a later refinement's re-judging see plain values or a one-line InspectorError.

The checks section of a valid results file is replaced by what hypothesis draws (any JSON)
or its text is cut and bit-flipped; loading must end in results or InspectorError, and
loaded results must go through what reads the checks (the report's data, the view's
warnings, the inside check's merge) without any other exception.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import export_pt2, linear_problem, save_npz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.core.checks import CHECKS, CheckResult
from inspector.core.checks.inside import judge
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.results import results_from_json, results_to_json
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.reporting.data import build_report_data

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
RECORD = st.fixed_dictionaries(
    {"name": JSON, "status": JSON},
    optional={"explanation": JSON, "figures": JSON, "seconds": JSON},
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hostile_checks")
    module, x, y = linear_problem(seed=2, n=24, classes=2)
    model = export_pt2(module, folder / "lin.pt2", (1, 4, 4), class_names=["a", "b"])
    data = save_npz(folder / "d.npz", x, y)
    threat = ThreatModel(eps=(0.0, 0.05, 0.1), steps=5)
    results = run_to_end(EvaluationRequest((ModelRequest(str(model)),), str(data), threat))
    assert len(results.models[0].checks) == len(CHECKS)
    return results_to_json(results)


def _use(data: dict) -> None:
    """Load, then read the checks the way the report, the window and a refinement do."""
    try:
        results = results_from_json(data, "fuzzed.json")
    except InspectorError as exc:
        assert "\n" not in str(exc)
        return
    build_report_data(results)
    view = ResultsView.from_results(results)
    for i in range(len(results.models)):
        note = view.warning(i)
        assert note is None or isinstance(note, str)
    x = np.zeros((1, 1, 2, 2), dtype=np.float32)
    for c in results.models[0].checks:
        assert c.seconds is None or c.seconds >= 0
        figures = c.figures if isinstance(c.figures, dict) else {}
        judge("inside", "linf", [(0.1, x, x, np.zeros(x.shape))], figures)


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(records=st.lists(RECORD, max_size=3) | JSON)
def test_any_checks_section_loads_or_gives_inspector_error(valid, records):
    data = json.loads(json.dumps(valid))
    data["models"][0]["checks"] = records
    _use(data)


@settings(derandomize=True, max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(cut=st.integers(0, 10_000), flips=st.lists(st.integers(0, 10_000), max_size=4))
def test_damaged_checks_text_loads_or_gives_inspector_error(valid, cut, flips):
    text = json.dumps(valid["models"][0]["checks"]).encode()
    damaged = bytearray(text[: cut % (len(text) + 1)])
    for at in flips:
        if damaged:
            damaged[at % len(damaged)] ^= 1 << (at % 7)
    try:
        records = json.loads(damaged.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return  # the file reader says so (results.load_results): not this test's business
    data = json.loads(json.dumps(valid))
    data["models"][0]["checks"] = records
    _use(data)


def test_check_times_that_are_not_numbers_become_none():
    for seconds in ("12", float("nan"), float("inf"), -1.0, True, [1], None):
        found = CheckResult.from_dict({"name": "x", "status": "passed", "seconds": seconds})
        assert found.seconds is None
    assert CheckResult.from_dict({"name": "x", "status": "passed", "seconds": 2}).seconds == 2.0
    junk = {"ball_excess": "big", "box_excess": [1], "points": float("nan")}
    x = np.zeros((2, 1, 2, 2), dtype=np.float32)
    again = judge("inside", "linf", [(0.1, x, x + np.float32(0.05), np.zeros(x.shape))], junk)
    assert again.status == "passed" and again.figures["points"] == 2
