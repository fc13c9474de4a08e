"""Issue 19 (3): `gui` takes every option of `evaluate` that shapes a run, and they win.

The window used to start `--run` with the demo's threat model whatever the flags, had no
`--trust-code`, `--arch`, `--mean`/`--std` or `--limit`, and told the user to pass
`--trust-code`, which `gui` then rejected.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
    run_to_finish,
    wait_loaded,
)

from inspector.cli.main import build_parser
from inspector.core.demo import DEMO_THREAT
from inspector.gui.app import GuiOptions, _open_initial
from inspector.gui.main_window import MainWindow
from inspector.gui.run_flags import RunFlags
from inspector.launch import gui_options

# What `evaluate` takes that is about its outputs or its batch size, not the run's numbers.
EVALUATE_ONLY = {
    "--out",
    "--csv",
    "--summary-json",
    "--audit",
    "--batch-size",
    "--no-checks",
    "--smoothing-sigma",
    "--smoothing-samples",
    "--smoothing-alpha",
    # how a long run is split and saved (issue 16), not what it computes
    "--shard",
    "--checkpoint",
    "--resume",
}


def _options(parser, command: str) -> set[str]:
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return {s for a in sub._actions for s in a.option_strings}


def test_gui_takes_every_option_of_evaluate_that_shapes_a_run():
    parser = build_parser()
    missing = _options(parser, "evaluate") - _options(parser, "gui")
    assert missing == EVALUATE_ONLY


def test_gui_flags_become_the_windows_threat_model_and_load_settings():
    args = build_parser().parse_args(
        [
            "gui",
            "--demo",
            "--run",
            *("--norm", "l2", "--eps", "0,2/255,8/255", "--attack", "fgsm", "--seed", "4"),
            *("--limit", "30", "--trust-code", "--arch", "pkg.mod:make"),
            *("--mean", "0.5", "--std", "1/255", "--resize", "--no-certificate"),
        ]
    )
    options = gui_options(args)
    assert options["flags"] == RunFlags(
        trust_code=True,
        arch="pkg.mod:make",
        overrides={"mean": (0.5,), "std": (1 / 255,)},
        resize=True,
        limit=30,
    )
    threat = options["threat_flags"](DEMO_THREAT)
    assert threat == replace(
        DEMO_THREAT,
        norm="l2",
        eps=(0.0, 2 / 255, 8 / 255),
        attack="fgsm",
        steps=1,
        seed=4,
        certificate=False,
    )
    plain = gui_options(build_parser().parse_args(["gui", "--demo"]))
    assert plain["threat_flags"] is None and plain["flags"] == RunFlags()


def test_gui_rejects_a_bad_limit_in_one_line():
    from inspector.core.errors import InspectorError

    with pytest.raises(InspectorError, match="--limit must be at least 1"):
        gui_options(build_parser().parse_args(["gui", "--limit", "0"]))


def test_window_runs_the_command_lines_threat_model_and_subset(qtbot):
    args = build_parser().parse_args(
        ["gui", "--demo", "--run", "--eps", "0,3/255,0.1", "--attack", "fgsm", "--limit", "24"]
    )
    options = GuiOptions(**gui_options(args))
    window = MainWindow()
    qtbot.addWidget(window)
    window.flags = options.flags
    _open_initial(window, options)
    wait_loaded(qtbot, window)
    expected = replace(DEMO_THREAT, eps=(0.0, 3 / 255, 0.1), attack="fgsm", steps=1)
    assert window.setup.threat() == expected  # an uneven grid survives the set-up panel
    window.setup.checks.setChecked(False)
    results = run_to_finish(qtbot, window)
    assert results.threat.eps == expected.eps and results.threat.attack == "fgsm"
    assert results.threat.num_examples == 24
    assert all(len(m.sweep.labels) == 24 for m in results.models)
    window.setup.steps.setValue(3)  # touching a control: the panel's own threat model again
    assert window.setup.threat().eps != expected.eps
    window.setup.set_threat(replace(expected, certificate=False))
    window.setup.seed.setValue(5)
    assert window.setup.threat().certificate is False  # no control for it: it stays off
    window.close()


def test_window_opens_a_pickled_model_only_with_trust_code(qtbot, tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), path)
    overrides = {"input_shape": (1, 8, 8), "class_names": tuple("0123456789")}
    window = MainWindow()
    qtbot.addWidget(window)
    window.flags = RunFlags(overrides=overrides)
    window.add_model(str(path))
    wait_loaded(qtbot, window)
    assert not window.models
    text = window.last_error.text()
    assert "command line with code allowed" in text and "evaluate" not in text
    assert "--" not in text  # the window's dialogs name no flag
    window.last_error.accept()
    window.flags = RunFlags(trust_code=True, overrides=overrides)
    window.add_model(str(path))
    wait_loaded(qtbot, window)
    assert [m.info.backend for m in window.models] == ["pickle"]
    window.close()
