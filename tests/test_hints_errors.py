"""Core errors name no front end's flag; each front end words their hints its own way.

The core says what fixes an error as a structured hint; the CLI says it as the flags to
pass, the window as what to do from the window (starting it with a flag where it has no
control for the setting).
"""

from __future__ import annotations

import ast
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from inspector.cli.hints import CLI_WORDS, cli_message
from inspector.core.errors import CORE_WORDS, Hint, HintKind, InspectorError
from inspector.core.shards import shard_from_record
from inspector.core.threat import parse_eps_list
from inspector.gui.wording import WINDOW_WORDS, for_window

FLAG = re.compile(r"--[a-z]")

# kind: (the CLI's whole message, the window's whole message) for InspectorError("what", kind)
EXPECTED = {
    HintKind.TRUST_CODE: (
        "what; pass --trust-code only if you trust its source",
        "what; the window runs code from a file only when it was started from the command line "
        "with code allowed to run; do that only if you trust its source, or export the model "
        "as .pt2 (torch.export) or .onnx and open that",
    ),
    HintKind.TRUST_ARCH: (
        "what; pass --trust-code with --arch only if you trust it",
        "what; the window imports a network factory only when it was started from the command "
        "line with code allowed to run; do that only if you trust the factory's source",
    ),
    HintKind.ARCH_FOR_STATE_DICT: (
        "what; to build the network pass --arch package.module:factory --trust-code "
        "(importing the module runs its code)",
        "what; weights alone need their network's code: start the window from the command line "
        "naming the network's factory (package.module:factory) and allowing code to run, only "
        "if you trust it; or export the model as .pt2 (torch.export) or .onnx and open that",
    ),
    HintKind.CHECK_ARCH: (
        "what; check --arch",
        "what; check the network factory the window was started with",
    ),
    HintKind.SUPPORTED_FORMATS: (
        "what; supported: .pt2 (torch.export), .pt/.ts/.pth (TorchScript), .pt/.pth "
        "state_dict (with --arch package.module:factory --trust-code), .onnx",
        "what; the window opens .pt2 (torch.export), .pt/.ts/.pth (TorchScript) and .onnx "
        "models; weights alone (a state_dict) only when you start the window from the command "
        "line naming the network's factory (package.module:factory) and allowing code to run",
    ),
    HintKind.RESIZE: (
        "what; pass --resize to resize them, or use matching data",
        "what; open a dataset whose images match the model (File ▸ Open Dataset), or start the "
        "window from the command line with resizing allowed",
    ),
    HintKind.INPUT_SHAPE: (
        'what; pass --input-shape C,H,W or put "input_shape": [C, H, W] in a sidecar m.json',
        'what; put "input_shape": [C, H, W] in a sidecar m.json and open the model again',
    ),
    HintKind.DEVICE_CPU: (
        "what; use --device cpu (or auto)",
        "what; start the window on the cpu device (or auto) from the command line",
    ),
    HintKind.EPS_LIST: (
        "what; give e.g. --eps 0,2/255,4/255,8/255",
        "what; set the ε maximum and the ε grid points in the set-up panel",
    ),
    HintKind.SHARD_PARTS: (
        "what; merge only --shard parts",
        "what; merge only the parts a sharded run wrote (the merge command)",
    ),
    HintKind.SAME_EXAMPLES: (
        "what; another --limit or --shard? resume with the same options, or give another "
        "folder",
        "what; another subset size or shard: resume with the same options, or give another "
        "folder",
    ),
    HintKind.NORMALISATION: (
        "what; set its normalisation (--mean 0 --std 1/255, or mean/std in its metadata)",
        'what; set its normalisation to mean 0, std 1/255: put them in its metadata ("mean", '
        '"std" in a sidecar) and open the model again',
    ),
    HintKind.CHECK_NORMALISATION: (
        "what; check its normalisation (--mean and --std, or mean/std in its metadata)",
        "what; check its normalisation: the mean and std in its metadata (a sidecar)",
    ),
}
VALUES = {HintKind.NORMALISATION: (("mean", "0"), ("std", "1/255"))}  # the kinds that take some


def _error(kind: HintKind) -> InspectorError:
    detail = "m.json" if kind is HintKind.INPUT_SHAPE else ""
    return InspectorError("what", Hint(kind, detail, VALUES.get(kind, ())))


def test_every_kind_is_worded_by_both_front_ends() -> None:
    assert set(EXPECTED) == set(HintKind) == set(CLI_WORDS) == set(WINDOW_WORDS)


@pytest.mark.parametrize("kind", list(HintKind), ids=lambda k: k.name)
def test_the_core_names_no_flag(kind: HintKind) -> None:
    text = str(_error(kind))
    assert text == f"what; {CORE_WORDS[kind].format(detail='m.json', **dict(VALUES.get(kind, ())))}"
    assert not FLAG.search(text), text


@pytest.mark.parametrize("kind", list(HintKind), ids=lambda k: k.name)
def test_the_cli_words_the_hint_as_flags(kind: HintKind) -> None:
    assert cli_message(_error(kind)) == EXPECTED[kind][0]


@pytest.mark.parametrize("kind", list(HintKind), ids=lambda k: k.name)
def test_the_window_words_it_from_the_window(kind: HintKind) -> None:
    text = for_window(_error(kind))
    assert text == EXPECTED[kind][1]
    assert "evaluate" not in text and "pass --" not in text
    assert not FLAG.search(text), text  # a dialog names no command-line flag


def test_no_hint_and_plain_messages_pass_through() -> None:
    assert cli_message(InspectorError("just this")) == "just this"
    assert for_window(InspectorError("just this")) == "just this"
    assert for_window("already worded") == "already worded"
    assert cli_message(ValueError("odd")) == "odd"


def test_a_hint_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(InspectorError("what", HintKind.RESIZE)))
    assert copy.hint == Hint(HintKind.RESIZE) and str(copy) == str(_error(HintKind.RESIZE))


def _raised(call, *args, **kwargs) -> InspectorError:
    with pytest.raises(InspectorError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_real_raise_sites_carry_their_hints(tmp_path: Path) -> None:
    from inspector.core.models import load_model

    weights, whole, junk = tmp_path / "weights.pt", tmp_path / "whole.pt", tmp_path / "j.pt2"
    torch.save({"fc.weight": torch.zeros(10, 64)}, weights)
    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), whole)
    junk.write_bytes(b"not a model")
    cases = [
        (_raised(parse_eps_list, " , "), HintKind.EPS_LIST, "--eps 0,2/255"),
        (_raised(shard_from_record, None, "p.json"), HintKind.SHARD_PARTS, "--shard parts"),
        (_raised(load_model, weights), HintKind.ARCH_FOR_STATE_DICT, "--arch package."),
        (_raised(load_model, weights, arch="pkg.mod:f"), HintKind.TRUST_ARCH, "--trust-code"),
        (
            _raised(load_model, weights, arch="no_such_pkg:f", trust_code=True),
            HintKind.CHECK_ARCH,
            "check --arch",
        ),
        (_raised(load_model, whole), HintKind.TRUST_CODE, "pass --trust-code"),
        (_raised(load_model, whole, trust_code=True), HintKind.INPUT_SHAPE, "--input-shape C,H,W"),
        (_raised(load_model, junk), HintKind.SUPPORTED_FORMATS, "(with --arch package."),
    ]
    for error, kind, flag in cases:
        assert error.hint is not None and error.hint.kind is kind
        assert not FLAG.search(str(error)), str(error)
        assert flag in cli_message(error)
    shape = _raised(load_model, whole, trust_code=True).hint
    assert shape == Hint(HintKind.INPUT_SHAPE, "whole.pt.json")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_no_gpu_says_use_the_cpu() -> None:
    from inspector.core.devices import resolve_device

    error = _raised(resolve_device, "cuda")
    assert str(error).endswith("; use the cpu device (or auto)")
    assert cli_message(error).endswith("; use --device cpu (or auto)")


def _raise_texts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string written into an InspectorError(...) call: constants and f-string parts."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InspectorError":
            for part in ast.walk(node):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    yield node.lineno, part.value


def test_no_core_raise_site_names_a_flag() -> None:
    """The source of every InspectorError raised in the core: its text names no flag."""
    core = Path(__file__).resolve().parents[1] / "inspector" / "core"
    found = [
        f"{path.relative_to(core)}:{line}: {text}"
        for path in sorted(core.rglob("*.py"))
        for line, text in _raise_texts(ast.parse(path.read_text(encoding="utf-8")))
        if FLAG.search(text)
    ]
    assert found == []
