"""APGD-CE and APGD-T against exact ground truth: on affine models the robust set is known.

Binary affine models: the CE gradient points along the optimal direction, so APGD-CE must
find exactly the examples the dual-norm rule says are breakable. Three-class affine models:
the CE gradient mixes the two wrong classes and PGD-CE misses some flips; the targeted DLR
loss of APGD-T attacks each pair alone and must reach the exact pairwise certificate.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import affine_module, binary_affine_problem

from inspector.core.attacks import APGD, APGDT, PGD, Cancelled
from inspector.core.attacks.apgd import checkpoint_schedule, dlr_targeted_loss
from inspector.core.attacks.geometry import perturbation_size
from inspector.core.linear import AffineModel, certified_robust


def _three_class_problem(seed: int, n: int = 300, d: int = 16, classes: int = 3):
    """Random affine scores centred on the data (many small margins), inputs inside the box."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(classes, d))
    bias = -0.5 * weight.sum(axis=1) + rng.normal(scale=0.1, size=classes)
    x = rng.uniform(0.3, 0.7, size=(n, 1, 4, d // 4))
    scores = x.reshape(n, -1) @ weight.T + bias + rng.normal(scale=0.3, size=(n, classes))
    return AffineModel(weight, bias), x, scores.argmax(axis=1).astype(np.int64)


def _robust_after(attack, model, x, y, eps, seed=0):
    """Per example: clean-correct and not broken by the attack (natural errors: False)."""
    correct = model.logits(x).argmax(1) == y
    result = attack.perturb(
        torch.from_numpy(x[correct]),
        torch.from_numpy(y[correct]),
        eps,
        generator=torch.Generator().manual_seed(seed),
    )
    robust = np.zeros(len(y), dtype=bool)
    robust[correct] = ~result.found.numpy()
    return robust, result, correct


def _eps_grid(norm: str) -> tuple[float, ...]:
    return (0.005, 0.0125, 0.025) if norm == "linf" else (0.02, 0.05, 0.1)


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("seed", [0, 1])
def test_apgd_ce_equals_exact_on_binary_linear(norm: str, seed: int):
    model, x, y = binary_affine_problem(seed, n=400)
    module = affine_module(model.weight, model.bias)
    for eps in _eps_grid(norm):
        exact = certified_robust(model, x, y, eps, norm)
        robust, result, correct = _robust_after(APGD(module, norm, steps=30), model, x, y, eps)
        assert (robust == exact).all(), (norm, eps, int(robust.sum()), int(exact.sum()))
        assert 0 < exact.sum() < correct.sum()  # not trivial
        delta = result.x_adv - torch.from_numpy(x[correct])
        assert float(perturbation_size(delta, norm).max()) <= eps * (1 + 1e-9)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_apgd_t_closes_the_gap_pgd_ce_leaves_on_three_classes(norm: str):
    """Exact pairwise certificate, example by example; PGD-CE (30 steps, 2 restarts) misses
    some flips on the same problem, so the comparison is not vacuous."""
    model, x, y = _three_class_problem(4)
    module = affine_module(model.weight, model.bias)
    gaps = []
    for eps in _eps_grid(norm):
        exact = certified_robust(model, x, y, eps, norm)
        pgd, _, _ = _robust_after(PGD(module, norm, steps=30, restarts=2), model, x, y, eps)
        apgd_t, result, _ = _robust_after(APGDT(module, norm, steps=40), model, x, y, eps)
        assert (apgd_t == exact).all(), (norm, eps, int(apgd_t.sum()), int(exact.sum()))
        assert (pgd >= exact).all()  # an attack never beats the certificate
        gaps.append(int(pgd.sum() - exact.sum()))
        assert set(result.broken_by) <= {"apgd-t", None}
    assert sum(gaps) > 0, gaps


def test_apgd_ce_alone_can_miss_what_apgd_t_finds():
    """Documents why the ensemble has both: on 3 classes the CE loss misses pairwise flips."""
    model, x, y = _three_class_problem(4)
    module = affine_module(model.weight, model.bias)
    exact = certified_robust(model, x, y, 0.025, "linf")
    ce, _, _ = _robust_after(APGD(module, "linf", steps=40), model, x, y, 0.025)
    assert (ce >= exact).all() and ce.sum() > exact.sum()


def test_dlr_targeted_loss_is_scale_and_shift_invariant():
    torch.manual_seed(0)
    logits = torch.randn(6, 10)
    y = torch.arange(6)
    target = (y + 3) % 10
    loss = dlr_targeted_loss(logits, y, target)
    assert torch.allclose(loss, dlr_targeted_loss(3.7 * logits + 2.0, y, target), atol=1e-6)
    # positive exactly when the target beats the true class
    rows = torch.arange(6)
    assert torch.equal(loss > 0, logits[rows, target] > logits[rows, y])
    # with fewer than 4 classes there is no scale to remove: the plain targeted margin
    small = logits[:, :3]
    y3, t3 = torch.zeros(6, dtype=torch.long), torch.full((6,), 2)
    assert torch.allclose(dlr_targeted_loss(small, y3, t3), small[:, 2] - small[:, 0])


def test_checkpoint_schedule_follows_the_paper():
    assert checkpoint_schedule(100) == (22, 3, 6)
    assert checkpoint_schedule(10) == (2, 1, 1)
    assert checkpoint_schedule(1) == (1, 1, 1)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_points_stay_in_ball_and_box_and_first_adversarial_is_kept(norm: str):
    model, x, y = _three_class_problem(5, n=200)
    x = np.clip(x * 2 - 0.5, 0, 1)  # many pixels at the faces of the box
    module = affine_module(model.weight, model.bias)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    eps = 0.1 if norm == "linf" else 0.2
    for attack in (APGD(module, norm, steps=20, restarts=2), APGDT(module, norm, steps=20)):
        result = attack.perturb(xt, yt, eps, generator=torch.Generator().manual_seed(1))
        assert float(result.x_adv.min()) >= 0.0 and float(result.x_adv.max()) <= 1.0
        assert float(perturbation_size(result.x_adv - xt, norm).max()) <= eps * (1 + 1e-9)
        logits = module(result.x_adv)
        assert torch.equal(logits.argmax(1) != yt, result.found)
        assert torch.allclose(logits, result.logits)
        assert result.broken_by == [attack.name if f else None for f in result.found.tolist()]
        assert 0 < int(result.found.sum()) < len(y)


def test_same_seed_same_result_and_eps_zero_is_the_clean_point():
    model, x, y = _three_class_problem(6, n=150)
    module = affine_module(model.weight, model.bias)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    runs = [
        APGD(module, "l2", steps=15, restarts=2).perturb(
            xt, yt, 0.1, generator=torch.Generator().manual_seed(7)
        )
        for _ in range(2)
    ]
    assert torch.equal(runs[0].x_adv, runs[1].x_adv)
    assert torch.equal(runs[0].found, runs[1].found)
    clean = APGDT(module, "linf", steps=15).perturb(xt, yt, 0.0)
    assert torch.equal(clean.x_adv, xt)
    assert torch.equal(clean.found, module(xt).argmax(1) != yt)


class _Counting(torch.nn.Module):
    """Counts forward passes and asks to stop after `stop_after` of them."""

    def __init__(self, inner: torch.nn.Module, stop_after: int) -> None:
        super().__init__()
        self.inner, self.stop_after, self.calls = inner, stop_after, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner(x)

    def cancel(self) -> bool:
        return self.calls >= self.stop_after


@pytest.mark.parametrize("attack_class", [APGD, APGDT])
def test_cancel_raises_within_one_step(attack_class):
    model, x, y = _three_class_problem(7, n=100)
    counting = _Counting(affine_module(model.weight, model.bias), stop_after=5)
    attack = attack_class(counting, "linf", steps=50)
    with pytest.raises(Cancelled):
        attack.perturb(torch.from_numpy(x), torch.from_numpy(y), 0.01, cancel=counting.cancel)
    assert counting.calls == 5  # no forward pass after the stop was asked for
