"""Every command lists the same flags as before its parser moved next to its command.

The literal sets were read from main's parser before the move; a shared argument parent
that adds or drops a flag shows up here.
"""

from __future__ import annotations

import argparse

import pytest

from inspector.cli.main import build_parser

RUN = {
    "--arch", "--attack", "--class-names", "--data", "--demo", "--device", "--eps",
    "--help", "--input-shape", "--limit", "--mean", "--model", "--no-certificate", "--norm",
    "--queries", "--resize", "--restarts", "--seed", "--std", "--step-size", "--steps",
    "--trust-code", "-h",
}  # fmt: skip
EXPECTED = {
    None: {"--debug", "--help", "--install-desktop-entry", "--uninstall-desktop-entry",
           "--version", "-h"},
    "evaluate": RUN | {"--audit", "--batch-size", "--checkpoint", "--csv", "--no-checks",
                       "--out", "--resume", "--shard", "--smoothing-alpha",
                       "--smoothing-samples", "--smoothing-sigma", "--summary-json"},
    "gui": RUN | {"--run", "--screenshot", "audit"},
    "report": {"--eps", "--help", "--out", "-h", "source",
               # report2: saliency in the galleries, from the models the results name
               "--saliency", "--no-saliency", "--model", "--device", "--trust-code", "--arch"},
    "saliency": {"--arch", "--attack", "--data", "--demo", "--device", "--eps", "--help",
                 "--ig-steps", "--index", "--method", "--model", "--noise-samples",
                 "--noise-sigma", "--norm", "--opacity", "--out", "--resize", "--restarts",
                 "--seed", "--signed", "--steps", "--target", "--trust-code", "-h"},
    "merge": {"--csv", "--help", "--out", "--summary-json", "-h", "parts"},
}  # fmt: skip


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """Option strings, and the names of positionals, of one parser (not its subcommands)."""
    found: set[str] = set()
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            found |= set(action.option_strings or [action.dest])
    return found


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_same_commands() -> None:
    assert set(_commands(build_parser())) == {k for k in EXPECTED if k}


@pytest.mark.parametrize("command", list(EXPECTED), ids=str)
def test_each_command_lists_the_same_flags(command: str | None) -> None:
    parser = build_parser()
    chosen = parser if command is None else _commands(parser)[command]
    assert _options(chosen) == EXPECTED[command]


@pytest.mark.parametrize("command", [k for k in EXPECTED if k])
def test_help_text_names_every_flag(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    shown = capsys.readouterr().out
    missing = {o for o in EXPECTED[command] if o.startswith("-") and o not in shown}
    assert missing == set()
