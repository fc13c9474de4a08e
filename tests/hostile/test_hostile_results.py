"""Hostile results files (issue 13): each is refused with one line naming the field, fast.

Every case starts from a genuine results file and changes one thing; `report` (in-process,
the CLI's exit code and stderr) and the loader must refuse it, within a second, without a
traceback. Output files: permissions, stale temps and interrupted writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from hostile_results_support import genuine_results, write_json
from hostile_support import REPO, assert_user_error, run_inspector

from inspector.cli.main import main
from inspector.core.atomic import atomic_open, atomic_write_text, is_temp_name
from inspector.core.audit import load_any
from inspector.core.errors import InspectorError
from inspector.core.results import load_results, save_results

PREFIX = "robustness-inspector: error:"


@pytest.fixture(scope="module")
def genuine(tmp_path_factory):
    results = genuine_results()
    folder = tmp_path_factory.mktemp("genuine")
    path = folder / "results.json"
    save_results(path, results)
    return results, path


def _ex(d, key, value, model=0):
    d["models"][model]["examples"][key] = value


CASES = {
    "examples an int": (lambda d: d["models"][0].__setitem__("examples", 7), "examples"),
    "repeated eps": (lambda d: d["threat_model"].__setitem__("eps", [0, 0.05, 0.05]), "eps"),
    "decreasing eps": (lambda d: d["threat_model"].__setitem__("eps", [0.1, 0.05, 0]), "eps"),
    "short labels": (lambda d: _ex(d, "label", d["models"][0]["examples"]["label"][:-1]), "label"),
    "long adv_pred row": (
        lambda d: d["models"][1]["examples"]["adv_pred"][3].append(1),
        "models[1].examples.adv_pred[3]",
    ),
    "index beyond int64": (
        lambda d: d["models"][0]["examples"]["index"].__setitem__(0, 2**70),
        "examples.index[0]",
    ),
    "5000 eps": (
        lambda d: d["threat_model"].__setitem__("eps", [i / 5000 for i in range(5000)]),
        "threat_model.eps",
    ),
    "claims a million examples": (
        lambda d: d["threat_model"].__setitem__("num_examples", 1_000_000),
        "claims 1,000,000",
    ),
    "negative breaking eps": (
        lambda d: d["models"][0]["examples"]["breaking_eps"].__setitem__(2, -0.5),
        "breaking_eps[2]",
    ),
    "breaking eps off the grid": (
        lambda d: d["models"][0]["examples"]["breaking_eps"].__setitem__(2, 0.07),
        "not an ε of the grid",
    ),
    "breaking eps beyond the grid": (
        lambda d: d["models"][0]["examples"]["breaking_eps"].__setitem__(2, 5.0),
        "breaking_eps[2]",
    ),
    "label beyond the classes": (
        lambda d: d["models"][0]["examples"]["label"].__setitem__(0, 10),
        "examples.label[0]",
    ),
    "prediction beyond the classes": (
        lambda d: d["models"][0]["examples"]["adv_pred"][0].__setitem__(1, 10**6),
        "adv_pred[0][1]",
    ),
    "NaN confidence": (
        lambda d: d["models"][0]["examples"]["clean_conf"].__setitem__(0, float("nan")),
        "clean_conf[0]",
    ),
    "rate above 1": (
        lambda d: d["models"][0]["curve"][1].__setitem__("robust_accuracy", 1.5),
        "curve[1].robust_accuracy",
    ),
    "negative confidence": (
        lambda d: d["models"][1]["examples"]["adv_conf"][2].__setitem__(0, -0.25),
        "adv_conf[2][0]",
    ),
    "curve longer than the grid": (
        lambda d: d["models"][0]["curve"].append(dict(d["models"][0]["curve"][-1])),
        "curve",
    ),
    "model description 50 MB": (
        lambda d: d["models"][0]["model"].__setitem__("description", "x" * 50_000_000),
        "description",
    ),
    "labels a string": (lambda d: _ex(d, "label", "0123"), "label"),
    "smoothing curve of numbers": (
        lambda d: d["models"][0].__setitem__("smoothing", {"norm": "l2", "curve": [1, 2]}),
        "models[0].smoothing.curve[0] must be a JSON object",
    ),
    "smoothing norm a list": (
        lambda d: d["models"][0].__setitem__("smoothing", {"norm": ["l2"], "curve": []}),
        "models[0].smoothing.norm must be text",
    ),
    "a name with a line break": (
        lambda d: d["models"][0].__setitem__("name", "evil\nrobustness-inspector: ok"),
        "models[0].name holds control characters",
    ),
    "a timing key with a line break": (
        lambda d: d["models"][0]["timings"].__setitem__("a\nb", -1.0),
        'models[0].timings."a\\nb"',
    ),
    "dataset size a float": (lambda d: d["dataset"].__setitem__("size", 3.5), "dataset.size"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_results_file_is_refused_naming_the_field(genuine, tmp_path, capsys, case):
    change, words = CASES[case]
    data = json.loads(genuine[1].read_text())
    change(data)
    path = write_json(tmp_path / "hostile.json", data)
    start = time.monotonic()
    with pytest.raises(InspectorError) as caught:
        load_any(path)
    message = str(caught.value)
    assert "\n" not in message and words in message and "is not valid results" in message
    assert main(["report", str(path), "--out", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(PREFIX) and words in err[0]
    assert time.monotonic() - start < 5.0
    assert not (tmp_path / "r.pdf").exists()


def test_the_genuine_file_still_loads(genuine):
    results, path = genuine
    again = load_results(path)
    assert [m.info.name for m in again.models] == [m.info.name for m in results.models]
    assert again.models[1].sweep.breaking_eps.tolist() == pytest.approx(
        results.models[1].sweep.breaking_eps.tolist(), nan_ok=True
    )


def test_json_nested_100000_levels_is_refused(genuine, tmp_path):
    text = genuine[1].read_text()
    deep = text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = tmp_path / "deep.json"
    path.write_text(deep)
    with pytest.raises(InspectorError, match="nested too deeply"):
        load_any(path)
    moderate = text[:-1] + ', "environment": {"a": ' + "[" * 500 + "]" * 500 + "}}"
    path.write_text(moderate)
    with pytest.raises(InspectorError, match=r"environment\.a"):
        load_any(path)


def test_an_oversized_or_special_results_file_is_not_read(tmp_path):
    sparse = tmp_path / "huge.json"
    with open(sparse, "wb") as handle:
        handle.truncate(200 << 20)  # sparse: nothing is written, the size is checked first
    with pytest.raises(InspectorError, match="MiB allowed"):
        load_results(sparse)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(InspectorError, match="not a regular file"):
        load_any(fifo)
    assert time.monotonic() - start < 2.0
    with pytest.raises(InspectorError, match="system folder"):
        load_results("/proc/self/status")


def test_report_of_a_50mb_description_exits_2_with_bounded_memory(genuine, tmp_path):
    data = json.loads(genuine[1].read_text())
    data["models"][0]["model"]["description"] = "d" * 50_000_000
    path = write_json(tmp_path / "big.json", data)
    outcome = run_inspector(["report", str(path), "--out", "r.pdf"], cwd=tmp_path, timeout=60)
    assert_user_error(outcome, "description", "at most 4,096")
    # against a run that reads nothing: a child's peak can start at its parent's (pytest's)
    baseline = run_inspector(["report", "absent.json", "--out", "r.pdf"], cwd=tmp_path)
    assert_user_error(baseline, "not found")
    assert outcome.peak_rss_mb < baseline.peak_rss_mb + 400, (outcome, baseline)
    assert outcome.seconds < 30 and not (tmp_path / "r.pdf").exists()


# --- output files ----------------------------------------------------------------------------


def test_written_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        os.umask(0o077)
        atomic_write_text(tmp_path / "b.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o600


def test_each_write_removes_stale_temps_of_its_target(tmp_path):
    stale = tmp_path / ".r.json.abcd1234.tmp"
    fresh = tmp_path / ".r.json.efgh5678.tmp"
    other = tmp_path / ".s.json.abcd1234.tmp"
    for path in (stale, fresh, other):
        path.write_text("half")
    old = time.time() - 3600
    for path in (stale, other):
        os.utime(path, (old, old))
    atomic_write_text(tmp_path / "r.json", "{}")
    assert not stale.exists() and fresh.exists() and other.exists()  # a live writer's is kept
    assert is_temp_name(stale.name, "r.json")


def test_an_interrupted_write_leaves_no_temp(tmp_path):
    target = tmp_path / "r.json"
    with pytest.raises(KeyboardInterrupt), atomic_open(target) as handle:
        handle.write("partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_a_write_removes_the_temp(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        sys.path.insert(0, {str(REPO)!r})
        from inspector.core.atomic import atomic_open
        with atomic_open({str(tmp_path / "out.json")!r}) as handle:
            handle.write("half")
            Path({str(tmp_path / "ready")!r}).touch()
            time.sleep(30)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not (tmp_path / "ready").exists():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.02)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=10) == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ready"]  # no temp, no target


def test_a_cancelled_run_is_saved_as_partial(genuine, tmp_path):
    from dataclasses import replace

    results = genuine[0]
    cut = replace(results, models=results.models[:1], incomplete=True)
    assert cut.partial and not cut.models[0].sweep.partial
    save_results(tmp_path / "cut.json", cut)
    assert json.loads((tmp_path / "cut.json").read_text())["partial"] is True
    assert load_results(tmp_path / "cut.json").partial  # reopened, still partial
