"""A check's hint (what fixes its warning) is kept structured: the core's text names no flag,
each front end words it, and results files with or without one load as they were written."""

from __future__ import annotations

import json

from inspector.cli.hints import CLI_WORDS
from inspector.core.checks.result import CheckResult, verdict, with_hint
from inspector.core.errors import Hint, HintKind
from inspector.core.results_check import check_free_json
from inspector.gui.wording import WINDOW_WORDS

HINT = Hint(HintKind.NORMALISATION, values=(("mean", "0,0,0"), ("std", "1/255,1/255,1/255")))
CORE = (
    "Clean accuracy jumps; set its normalisation (mean 0,0,0, std 1/255,1/255,1/255, or "
    "mean/std in its metadata)."
)
# what a results file written before hints were structured says (the flags in the core text)
OLD = {
    "name": "input range",
    "status": "warning",
    "explanation": "Clean accuracy jumps; set its normalisation (--mean 0 --std 1/255, or "
    "mean/std in its metadata).",
    "figures": {"clean_accuracy": 0.25, "rescaled_accuracy": 1.0},
    "seconds": 0.5,
}


def _result() -> CheckResult:
    return verdict("input range", True, with_hint("Clean accuracy jumps", HINT), hint=HINT)


def test_the_core_text_names_no_flag_and_each_front_end_words_the_hint() -> None:
    found = _result()
    assert found.explanation == CORE
    assert found.worded(CLI_WORDS) == (
        "Clean accuracy jumps; set its normalisation (--mean 0,0,0 --std 1/255,1/255,1/255, "
        "or mean/std in its metadata)."
    )
    assert found.worded(WINDOW_WORDS) == (
        "Clean accuracy jumps; set its normalisation to mean 0,0,0, std 1/255,1/255,1/255: "
        'put them in its metadata ("mean", "std" in a sidecar) and open the model again.'
    )


def test_a_hint_survives_the_results_file() -> None:
    data = json.loads(json.dumps(_result().to_dict()))
    check_free_json(data, "checks[0]", depth=6)
    assert data["hint"] == {
        "kind": "NORMALISATION",
        "detail": "",
        "values": {"mean": "0,0,0", "std": "1/255,1/255,1/255"},
    }
    back = CheckResult.from_dict(data)
    assert back == _result() and back.worded(CLI_WORDS) == _result().worded(CLI_WORDS)


def test_an_old_file_without_a_hint_loads_and_reads_as_it_was_written() -> None:
    old = CheckResult.from_dict(OLD)
    assert old.hint is None and old.seconds == 0.5
    assert old.worded(CLI_WORDS) == old.worded(WINDOW_WORDS) == OLD["explanation"]
    assert old.to_dict() == OLD  # written back unchanged: no "hint" key appears


def test_a_hint_this_version_does_not_know_is_dropped_not_trusted() -> None:
    for hint in ({"kind": "os.system"}, {"kind": "NORMALISATION", "values": ["x"]}, "text", 3):
        found = CheckResult.from_dict({**OLD, "hint": hint})
        assert found.hint is None and found.worded(CLI_WORDS) == OLD["explanation"]


def test_a_hint_with_values_missing_words_blank_rather_than_failing() -> None:
    said = "x; set its normalisation (mean , std , or mean/std in its metadata)."
    found = CheckResult.from_dict({**OLD, "explanation": said, "hint": {"kind": "NORMALISATION"}})
    assert found.hint == Hint(HintKind.NORMALISATION)
    assert found.worded(CLI_WORDS) == (
        "x; set its normalisation (--mean  --std , or mean/std in its metadata)."
    )
    other = CheckResult.from_dict({**OLD, "explanation": "x", "hint": {"kind": "NORMALISATION"}})
    assert other.worded(CLI_WORDS) == "x"  # not ending in the core's words: kept as it is
