"""The attack registry (issue 14, item 2): one table that every front end and the report read.

A name added in one place only (the CLI, the set-up panel, the report) fails here; so does a
default, a label or a step size that drifts from what the attacks ran before the registry.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from gui_support import _no_leaked_widgets, _private_settings  # noqa: F401  (fixtures)

from inspector.cli.main import build_parser
from inspector.cli.saliency_command import SALIENCY_ATTACKS
from inspector.core.attacks.apgd import APGDT
from inspector.core.attacks.ensemble import Ensemble
from inspector.core.attacks.fast import MaltAPGDT
from inspector.core.attacks.registry import (
    ATTACK_SPECS,
    NAMES,
    build_attack,
    spec,
    step_options,
)
from inspector.core.attacks.staged import Staged
from inspector.core.attacks.step_size import pgd_step_size
from inspector.core.checks.budget import per_example
from inspector.core.errors import InspectorError
from inspector.core.threat import ThreatModel
from inspector.reporting.text import attack_paragraph

ATTACKS_DIR = Path(__file__).resolve().parents[1] / "inspector" / "core" / "attacks"
# What the window's combo said before the registry, entry for entry.
WINDOW_ENTRIES = [
    "FGSM (one step, fast)",
    "PGD",
    "APGD-CE",
    "APGD-T (targeted DLR)",
    "Square (gradient-free)",
    "FMN (minimum norm)",
    "Ensemble (APGD-CE, APGD-T, Square)",
    "Fast audit (APGD-CE, MALT-ranked APGD-T, a second look, Square as backstop)",
]


def _choices(command: str, flag: str = "--attack") -> tuple[str, ...]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    parser = sub.choices[command]
    action = next(a for a in parser._actions if flag in a.option_strings)
    return tuple(action.choices)


def test_the_cli_offers_exactly_the_registrys_attacks():
    assert NAMES == ("fgsm", "pgd", "apgd-ce", "apgd-t", "square", "fmn", "ensemble", "fast")
    assert _choices("evaluate") == NAMES
    assert _choices("gui") == NAMES
    assert _choices("saliency") == SALIENCY_ATTACKS
    assert tuple(n for n in NAMES if n != "fmn") == SALIENCY_ATTACKS


def test_the_set_up_panels_combo_lists_the_registrys_attacks(qtbot):
    from inspector.gui.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    combo = panel.attack
    assert tuple(combo.itemData(i) for i in range(combo.count())) == NAMES
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts == [s.entry for s in ATTACK_SPECS] == WINDOW_ENTRIES
    assert combo.currentData() == "pgd"


def test_the_set_up_panel_takes_each_attacks_defaults_and_enables_its_fields(qtbot):
    from inspector.gui.setup_panel import SetupPanel

    panel = SetupPanel()
    qtbot.addWidget(panel)
    seen = {}
    for i, name in enumerate(NAMES):
        panel.attack.setCurrentIndex(i)
        seen[name] = (
            panel.steps.value(),
            panel.restarts.value(),
            panel.steps.isEnabled(),
            panel.queries.isEnabled(),
        )
    assert seen == {
        "fgsm": (1, 1, False, False),
        "pgd": (10, 1, True, False),
        "apgd-ce": (100, 1, True, False),
        "apgd-t": (100, 1, True, False),
        "square": (100, 1, False, True),
        "fmn": (100, 1, True, False),
        "ensemble": (100, 2, True, True),
        "fast": (100, 1, True, True),
    }


def test_the_report_names_every_attack_in_the_registrys_words():
    for s in ATTACK_SPECS:
        text = attack_paragraph(ThreatModel(attack=s.name, steps=s.steps, restarts=s.restarts))
        assert text.startswith(f"Attack: {s.prose} (")
    assert spec("pgd").prose.startswith("projected gradient descent (PGD, Madry et al. 2018)")


def test_an_unknown_name_says_which_attacks_there_are():
    with pytest.raises(InspectorError) as caught:
        spec("cw")
    assert str(caught.value) == (
        "unknown attack 'cw': choose one of fgsm, pgd, apgd-ce, apgd-t, square, fmn, ensemble, fast"
    )
    with pytest.raises(InspectorError, match="unknown attack 'cw'"):
        ThreatModel(attack="cw")


def test_defaults_and_budgets_are_the_ones_the_attacks_had():
    steps = {s.name: s.steps for s in ATTACK_SPECS}
    restarts = {s.name: s.restarts for s in ATTACK_SPECS}
    assert steps == {n: 100 for n in NAMES} | {"fgsm": 1, "pgd": 10}
    assert restarts == {n: 1 for n in NAMES} | {"ensemble": 2}
    assert [s.name for s in ATTACK_SPECS if s.uses_queries] == ["square", "ensemble", "fast"]
    assert [s.name for s in ATTACK_SPECS if s.gradient_free] == ["square"]
    assert [s.name for s in ATTACK_SPECS if s.is_ensemble] == ["ensemble", "fast"]
    budget = {"steps": 10, "restarts": 2, "queries": 300}
    passes = {n: per_example(ThreatModel(attack=n, **budget)) for n in NAMES}
    assert passes == pytest.approx(
        {
            "fgsm": 1.0,
            "pgd": 20.0,
            "apgd-ce": 20.0,
            "apgd-t": 180.0,
            "square": 100.0,
            "fmn": 20.0,
            "ensemble": 20 * 10 + 100.0,
            "fast": 20 * 4.0,  # its Square runs only where gradients look masked
        }
    )


def test_the_step_size_rule_is_one_function():
    pgd = ThreatModel(attack="pgd", steps=20)
    assert pgd_step_size(0.5, 20) == pytest.approx(2.5 * 0.5 / 20)
    assert step_options(pgd, 0.5) == {"step_size": pgd.step_for(0.5)} == {"step_size": 0.0625}
    fixed = ThreatModel(attack="pgd", steps=20, step_size=0.01)
    assert step_options(fixed, 0.5) == {"step_size": 0.01} and fixed.step_for(0.5) == 0.01
    assert ThreatModel(attack="fgsm", steps=1).step_for(0.3) == 0.3
    assert all(step_options(ThreatModel(attack=n), 0.5) == {} for n in NAMES if n != "pgd")


def _module() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 10))


def test_ensemble_specs_build_their_members_in_order():
    module = _module()
    ensemble = build_attack(ThreatModel(attack="ensemble", steps=5, restarts=2), module)
    fast = build_attack(ThreatModel(attack="fast", steps=5), module)
    assert isinstance(ensemble, Ensemble) and isinstance(fast, Staged)
    assert ensemble.name == "ensemble" and fast.name == "fast"
    assert ensemble.member_names == list(spec("ensemble").member_names)
    stages = [(stage.name, stage.second_look) for stage in fast.stages]
    assert stages == [
        ("apgd-ce", False),
        ("apgd-t", False),
        ("apgd-t", True),  # the second look: APGD on CE and 9 ranked targets at once
        ("fmn", True),
        ("square", False),  # only where the gradients look masked
    ]
    assert [s for s, look in stages if not look] == list(spec("fast").member_names)
    targeted, malt = ensemble.members[1][1], fast.stages[1].attack
    assert type(targeted) is APGDT and targeted.targets == 9 and targeted.restarts == 2
    assert type(malt) is MaltAPGDT and malt.targets == 3 and malt.steps == 5
    assert ensemble.members[2][1].queries == 1000

    def forward(x):
        return module(x).detach()

    alone = build_attack(ThreatModel(attack="fast"), None, forward)
    assert isinstance(alone, Ensemble) and alone.member_names == ["square"]
    assert alone.name == "fast"
    with pytest.raises(InspectorError, match="pgd needs gradients"):
        build_attack(ThreatModel(attack="pgd"), None, forward)


def _runtime_imports(path: Path) -> set[str]:
    """The modules a file imports when it runs (not those named for type checkers only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    return {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and id(node) not in typing_only
    }


def test_no_attack_module_imports_the_registry():
    for path in ATTACKS_DIR.glob("*.py"):
        if path.name in ("registry.py", "__init__.py"):
            continue
        imported = _runtime_imports(path)
        assert "inspector.core.attacks.registry" not in imported, path.name
        assert "inspector.core.threat" not in imported, path.name  # the threat reads the registry


def test_naming_an_attack_imports_no_torch():
    code = (
        "import sys; import inspector.core.threat, inspector.core.attacks.registry; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
