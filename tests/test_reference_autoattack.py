"""Our ensemble against a reference implementation: torchattacks' AutoAttack (standard).

On the demo digits models, at several L∞ ε, on the same 100-example stratified subset, the
ensemble's robust accuracy must not exceed AutoAttack's by more than 0.5 points: a weaker
attack would report a higher (less trustworthy) robust accuracy.

Note: torchattacks 3.5's "standard" AutoAttack runs APGD-CE, APGD-T (9 targets), FAB-T
(9 targets) with 10 iterations each (the original AutoAttack uses 100) and Square with
5000 queries; our ensemble runs APGD-CE and APGD-T with 100 steps and Square with 1000.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchattacks

from inspector.core.attacks.registry import spec
from inspector.core.data import open_dataset, stratified_subset
from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.models import load_model
from inspector.core.threat import ThreatModel

EXAMPLES = 100  # 200 in the benchmark; here the suite's time budget decides
EPS = (0.1, 0.15)  # where the robust models' ensembles differ from PGD (0.05: all equal)
# One example in 100: AutoAttack itself is not repeatable to one example on these digits.
# Measured on digits_standard at ε=0.15: torchattacks' seeds 0-3 give 0.05, 0.06, 0.05,
# 0.06 (digit 192 falls to a lucky random start in half of them, and to none of ours with 2
# or 3 restarts), so a stricter bound tests the random streams, not the attack's strength.
TOLERANCE = 0.01 + 1e-9


def reference_robust_accuracy(module, x, y, eps: float, seed: int = 0) -> float:
    """torchattacks' standard AutoAttack, L∞: the share of examples still classified right."""
    attack = torchattacks.AutoAttack(
        module, norm="Linf", eps=eps, version="standard", n_classes=10, seed=seed
    )
    adv = attack(x, y).detach()
    assert float((adv - x).abs().max()) <= eps + 1e-6
    with torch.no_grad():
        return float((module(adv).argmax(1) == y).float().mean())


# The classic ensemble is no longer the audit default (the fast audit is, checked in
# test_attacks_fast.py and test_fastattack_strength.py): live against torchattacks on the
# adversarially trained model only, where the ensembles differ from PGD (digits_standard
# took 41 s, digits_trades 84 s on the shared 2-core machine under load; the benchmark,
# benchmarks/ensemble_vs_reference.py, covers all three).
LIVE = [p for p in demo_model_paths() if p.stem == "digits_pgd"]


@pytest.mark.slow
@pytest.mark.parametrize("path", LIVE, ids=lambda p: p.stem)
def test_ensemble_is_at_least_as_strong_as_torchattacks_autoattack(path):
    threat = ThreatModel(
        norm="linf",
        eps=(0.0, *EPS),
        attack="ensemble",
        steps=spec("ensemble").steps,
        restarts=spec("ensemble").restarts,  # the ensemble's own default
        seed=0,
    )
    request = EvaluationRequest(
        (ModelRequest(str(path)),), "digits", threat, limit=EXAMPLES, device="cpu", checks=False
    )
    sweep = run_to_end(request).models[0].sweep
    ours = {r.eps: r.robust_accuracy for r in sweep.curve()}

    dataset = open_dataset("digits")
    indices = stratified_subset(dataset.labels, EXAMPLES, threat.seed)
    assert np.array_equal(indices, sweep.indices)
    x = torch.from_numpy(dataset.load(indices))
    y = torch.from_numpy(dataset.labels[indices].astype(np.int64))
    module = load_model(str(path), device="cpu").module
    lines = []
    for eps in EPS:
        reference = reference_robust_accuracy(module, x, y, eps)
        lines.append(f"{path.stem} ε={eps:g}: ensemble {ours[eps]:.3f}, AutoAttack {reference:.3f}")
        print(lines[-1])
        assert ours[eps] <= reference + TOLERANCE, lines[-1]
    assert ours[EPS[-1]] < ours[0.0]  # the attack does break examples
