"""Definitions of the primer, and the threat model's parsing and description."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.core.errors import InspectorError
from inspector.core.metrics import (
    BOUNDARY_ERROR,
    NATURAL_ERROR,
    ROBUST,
    curve,
    rates_at,
    rates_from_counts,
    statuses,
)
from inspector.core.threat import ThreatModel, format_eps, parse_eps, parse_eps_list


def test_primer_worked_example_1():
    r = rates_from_counts(10, natural_errors=1, boundary_errors=3, eps=0.1)
    assert r.natural_error_rate == pytest.approx(0.1)
    assert r.robust_error == pytest.approx(0.4)
    assert r.boundary_error_rate == pytest.approx(0.3)
    assert r.clean_accuracy == pytest.approx(0.9)
    assert r.robust_accuracy == pytest.approx(0.6)


def test_statuses_and_rates_from_examples():
    clean_correct = np.array([True] * 9 + [False])
    breaking = np.array([0.1, 0.2, 0.3] + [np.nan] * 6 + [np.nan])
    assert list(statuses(clean_correct, breaking, 0.2)).count(BOUNDARY_ERROR) == 2
    s = statuses(clean_correct, breaking, 0.3)
    assert list(s).count(BOUNDARY_ERROR) == 3
    assert s[-1] == NATURAL_ERROR and s[5] == ROBUST
    r = rates_at(clean_correct, breaking, 0.3)
    assert (r.robust_accuracy, r.boundary_error_rate, r.natural_error_rate) == pytest.approx(
        (0.6, 0.3, 0.1)
    )
    rows = curve(clean_correct, breaking, [0, 0.1, 0.2, 0.3])
    assert [round(x.robust_accuracy, 6) for x in rows] == [0.9, 0.8, 0.7, 0.6]
    for x in rows:
        total = x.robust_accuracy + x.boundary_error_rate + x.natural_error_rate
        assert total == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "value"), [("8/255", 8 / 255), ("0.03", 0.03), ("0", 0.0), (" 1/4 ", 0.25)]
)
def test_parse_eps(text, value):
    assert parse_eps(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["-0.1", "abc", "1/0", "nan", "inf", "-1/255"])
def test_parse_eps_rejects(text):
    with pytest.raises(InspectorError):
        parse_eps(text)


def test_eps_list_sorted_unique_and_formatted():
    grid = parse_eps_list("8/255,0,2/255,4/255,2/255")
    assert grid == (0.0, 2 / 255, 4 / 255, 8 / 255)
    assert [format_eps(e) for e in grid] == ["0", "2/255", "4/255", "8/255"]
    assert format_eps(0.1) == "0.1"


def test_threat_model_describes_everything_and_round_trips():
    t = ThreatModel(norm="l2", eps=(0.5, 0.0), attack="pgd", steps=20, restarts=3, seed=7)
    t = t.with_examples(500)
    text = t.describe()
    for piece in ("L2", "0.5", "PGD-20", "3 restarts", "500 examples", "seed 7", "upper bound"):
        assert piece in text
    assert t.eps == (0.0, 0.5)
    assert ThreatModel.from_dict(t.to_dict()) == t
    assert t.step_for(0.5) == pytest.approx(2.5 * 0.5 / 20)


@pytest.mark.parametrize(
    "kwargs", [{"norm": "l1"}, {"attack": "cw"}, {"eps": ()}, {"eps": (-0.1,)}, {"steps": 0}]
)
def test_threat_model_rejects(kwargs):
    with pytest.raises(InspectorError):
        ThreatModel(**kwargs)
