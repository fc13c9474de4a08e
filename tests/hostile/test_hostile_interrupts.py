"""Ctrl-C at any moment: one stderr line "robustness-inspector: interrupted", exit 130, and
no output file (nor an atomic write's hidden temp file) left behind.

The subprocess runs send a real SIGINT at fixed moments (during the imports, the model
loading, the first attacks) and once the first model has finished (its progress line on
stderr); the in-process tests cover the ways torch and the loaders disguise an interrupt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hostile_support import REPO

from inspector.cli import interrupts
from inspector.cli.main import main
from inspector.core.errors import InspectorError

OUTPUTS = ["--out", "R.json", "--audit", "R.riaudit", "--csv", "R.csv"]
# Long enough that no moment below comes after the end, even on a fast machine
DEMO_RUN = ["evaluate", "--demo", "--limit", "200", "--steps", "200", *OUTPUTS]
# The first model finishes soon; two more models and every model's checks are still to come
DEMO_QUICK = ["evaluate", "--demo", "--limit", "100", "--steps", "40", *OUTPUTS]
TORCHSCRIPT_RUN = [
    "evaluate",
    "--model",
    str(REPO / "resources" / "demo" / "digits_pgd.ts"),
    "--data",
    "digits",
    "--limit",
    "100",
    "--attack",
    "pgd",
    "--steps",
    "100",
    *OUTPUTS,
]
FIRST_PROGRESS = "first progress line"
PYTHON_M = ["-m", "inspector"]
# what the `robustness-inspector` script that pip writes does
CONSOLE_SCRIPT = ["-c", "import sys; from inspector.cli.main import main; sys.exit(main())"]
# Ctrl-C at a terminal reaches a foreground process whose SIGINT is the default. A test run
# started in the background (`make test &`, some CI runners) inherits SIGINT ignored, which
# the CLI rightly leaves alone; the child gets the default back before exec'ing the CLI.
FOREGROUND = [
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
]


def _interrupt(
    args: list[str], cwd: Path, moment: float | str, launcher: list[str] = PYTHON_M
) -> tuple[int, str]:
    """Start the CLI, SIGINT it at `moment` (seconds, or FIRST_PROGRESS), return (rc, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(
        [sys.executable, *FOREGROUND, *launcher, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    progressed = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("[1/"):
                progressed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if moment == FIRST_PROGRESS:
            assert progressed.wait(90), "no progress line within 90 s"
        else:
            time.sleep(float(moment))
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    return rc, "".join(lines)


def _assert_interrupted(rc: int, stderr: str, folder: Path) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert rc == interrupts.EXIT_INTERRUPTED, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert lines[-1] == interrupts.MESSAGE, lines
    others = [line for line in lines[:-1] if not line.startswith("[")]  # progress lines
    assert others == [], others
    assert sorted(os.listdir(folder)) == [], "an output or temp file was left behind"


@pytest.mark.parametrize("moment", [0.3, 1.0, 3.0, FIRST_PROGRESS])
def test_ctrl_c_on_the_demo(tmp_path: Path, moment: float | str) -> None:
    rc, stderr = _interrupt(DEMO_QUICK if moment == FIRST_PROGRESS else DEMO_RUN, tmp_path, moment)
    _assert_interrupted(rc, stderr, tmp_path)


@pytest.mark.parametrize("moment", [2.0, FIRST_PROGRESS])
def test_ctrl_c_on_a_torchscript_model(tmp_path: Path, moment: float | str) -> None:
    """TorchScript can turn SIGINT into a RuntimeError; it must still read as Ctrl-C."""
    rc, stderr = _interrupt(TORCHSCRIPT_RUN, tmp_path, moment)
    _assert_interrupted(rc, stderr, tmp_path)


@pytest.mark.parametrize("moment", [0.5, 2.0])
def test_ctrl_c_through_the_console_script(tmp_path: Path, moment: float) -> None:
    """The console script imports inspector.cli.main (seconds of torch) before main() runs."""
    rc, stderr = _interrupt(DEMO_RUN, tmp_path, moment, launcher=CONSOLE_SCRIPT)
    _assert_interrupted(rc, stderr, tmp_path)


# --- in process: interrupts in disguise ---------------------------------------------------


@pytest.fixture(autouse=True)
def _forget_interrupts():
    """main() in this process records the SIGINTs sent here; later tests must not see them.
    Python's default SIGINT handler for the test, as at a terminal (see FOREGROUND)."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)
    interrupts._state.update(interrupted=False, reporting=False)


def _evaluate_raising(monkeypatch: pytest.MonkeyPatch, make_error) -> None:
    import inspector.cli.evaluate_command as command

    def fake(args) -> int:
        raise make_error()

    monkeypatch.setattr(command, "run_evaluate", fake)


def _converted() -> BaseException:
    """What torch's TorchScript interpreter does: a RuntimeError raised from the interrupt."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        try:
            raise RuntimeError("The following operation failed in the TorchScript interpreter")
        except RuntimeError as error:
            error.__cause__ = exc
            return error


def _wrapped_by_a_loader() -> BaseException:
    error = InspectorError("cannot load model m.ts: RuntimeError: KeyboardInterrupt")
    error.__cause__ = _converted()
    return error


def _signal_then_swallowed() -> BaseException:
    """A real SIGINT whose KeyboardInterrupt some library caught and replaced, chain and all."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
    return RuntimeError("worker failed")


@pytest.mark.parametrize(
    "make_error", [KeyboardInterrupt, _converted, _wrapped_by_a_loader, _signal_then_swallowed]
)
def test_disguised_interrupts_end_as_interrupted(monkeypatch, capsys, make_error) -> None:
    _evaluate_raising(monkeypatch, make_error)
    assert main(["evaluate", "--demo"]) == interrupts.EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err.splitlines() == [interrupts.MESSAGE]


def test_a_plain_error_is_still_a_user_error_and_a_bug_still_a_traceback(
    monkeypatch, capsys
) -> None:
    _evaluate_raising(monkeypatch, lambda: InspectorError("bad file"))
    assert main(["evaluate", "--demo"]) == 2
    assert capsys.readouterr().err.splitlines() == ["robustness-inspector: error: bad file"]
    _evaluate_raising(monkeypatch, lambda: ValueError("a bug"))
    with pytest.raises(ValueError):
        main(["evaluate", "--demo"])


def test_an_interrupt_swallowed_inside_the_run_stops_it_before_anything_is_written(
    monkeypatch, tmp_path, capsys
) -> None:
    """The CLI hands the core a cancel check that reads the SIGINT record."""
    import inspector.cli.evaluate_command as command

    seen = {}

    def fake_evaluate(request, cancel=None):
        _signal_then_swallowed()
        seen["cancel"] = cancel()
        yield from ()

    monkeypatch.setattr(command, "evaluate", fake_evaluate)
    out = tmp_path / "R.json"
    assert main(["evaluate", "--demo", "--out", str(out)]) == interrupts.EXIT_INTERRUPTED
    assert seen["cancel"] is True
    assert not out.exists() and os.listdir(tmp_path) == []
    assert capsys.readouterr().err.splitlines() == [interrupts.MESSAGE]


def test_ctrl_c_while_a_file_is_written_leaves_no_part_of_it(monkeypatch, tmp_path, capsys):
    """Files written before the interrupt are whole; the one being written does not appear."""
    import json

    import inspector.cli.evaluate_command as command
    from inspector.core.atomic import atomic_open

    def interrupted_csv(path, results) -> None:
        with atomic_open(path) as handle:
            handle.write("index,label\n0,")
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(command, "write_csv", interrupted_csv)
    out, csv = tmp_path / "R.json", tmp_path / "R.csv"
    args = ["evaluate", "--demo", "--limit", "10", "--no-checks", "--out", str(out)]
    assert main([*args, "--csv", str(csv)]) == interrupts.EXIT_INTERRUPTED
    assert capsys.readouterr().err.splitlines()[-1] == interrupts.MESSAGE
    assert sorted(os.listdir(tmp_path)) == ["R.json"]  # no R.csv, no .R.csv.*.tmp
    assert json.loads(out.read_text())["format"] == "robustness-inspector/results"
