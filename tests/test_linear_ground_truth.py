"""Attacks against exact ground truth: on linear models the robust accuracy is known exactly."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import torch
from helpers import affine_module, binary_affine_problem

from inspector.core.attacks import FGSM, PGD
from inspector.core.attacks.geometry import perturbation_size
from inspector.core.linear import (
    AffineModel,
    certified_robust,
    extract_affine,
    is_affine_on,
    robustness_radius,
)

# inputs well inside [0, 1] so that ε ≤ 0.25 never meets the box: the exact rule applies
_random_binary_problem = partial(binary_affine_problem, n=1500)


def test_primer_worked_example_2_l2():
    model = AffineModel(np.array([[0.0, 0.0], [3.0, -4.0]]), np.array([0.0, 1.0]))
    x = np.array([[2.0, 1.0]])
    y = np.array([1])
    assert model.logits(x)[0, 1] - model.logits(x)[0, 0] == pytest.approx(3.0)
    assert robustness_radius(model, x, y, "l2")[0] == pytest.approx(3.0 / 5.0)
    assert certified_robust(model, x, y, 0.5, "l2")[0]
    assert not certified_robust(model, x, y, 0.7, "l2")[0]
    # δ = −ε w/‖w‖₂ at ε = 0.7 moves the score to −0.5
    delta = -0.7 * np.array([3.0, -4.0]) / 5.0
    score = model.logits(x + delta)
    assert score[0, 1] - score[0, 0] == pytest.approx(-0.5)
    # L∞ uses the dual norm ‖w‖₁ = 7
    assert robustness_radius(model, x, y, "linf")[0] == pytest.approx(3.0 / 7.0)


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pgd_robust_accuracy_equals_exact_on_binary_linear(norm: str, seed: int):
    model, x, y = _random_binary_problem(seed)
    module = affine_module(model.weight, model.bias)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    correct = model.logits(x).argmax(1) == y
    scale = np.linalg.norm(model.weight[1], ord=1 if norm == "linf" else 2)
    checked = 0
    for eps_fraction in (0.02, 0.05, 0.1):
        eps = eps_fraction * (1.0 if norm == "l2" else 0.25)
        eps = min(eps, 0.25)
        exact = certified_robust(model, x, y, eps, norm)
        result = PGD(module, norm, steps=20, restarts=2).perturb(
            xt[correct], yt[correct], eps, generator=torch.Generator().manual_seed(seed)
        )
        attack_robust = np.zeros(len(y), dtype=bool)
        attack_robust[correct] = ~result.found.numpy()
        assert attack_robust.sum() == exact.sum(), (norm, eps, scale)
        assert (attack_robust == exact).all()
        size = perturbation_size(result.x_adv - xt[correct], norm).numpy()
        assert size.max() <= eps * (1 + 1e-9)
        assert 0 < exact.mean() < correct.mean()  # the case is not trivial
        checked += 1
    assert checked == 3


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_fgsm_is_exact_on_linear_models_too(norm: str):
    """For a linear binary model the gradient direction is optimal, so one full step suffices."""
    model, x, y = _random_binary_problem(7)
    module = affine_module(model.weight, model.bias)
    correct = model.logits(x).argmax(1) == y
    eps = 0.05
    exact = certified_robust(model, x, y, eps, norm)[correct]
    result = FGSM(module, norm).perturb(
        torch.from_numpy(x[correct]), torch.from_numpy(y[correct]), eps
    )
    assert ((~result.found.numpy()) == exact).all()


def test_box_is_respected_and_first_adversarial_is_kept():
    model, x, y = _random_binary_problem(3, n=200)
    x = np.clip(x * 2 - 0.5, 0, 1)  # many pixels at the box faces
    module = affine_module(model.weight, model.bias)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    result = PGD(module, "linf", steps=10, restarts=3).perturb(
        xt, yt, 0.2, generator=torch.Generator().manual_seed(0)
    )
    assert float(result.x_adv.min()) >= 0.0 and float(result.x_adv.max()) <= 1.0
    logits = module(result.x_adv)
    assert torch.equal(logits.argmax(1) != yt, result.found)
    assert torch.allclose(logits, result.logits)


def test_extract_affine_recovers_weights_and_rejects_nonlinear():
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(3, 8)), rng.normal(size=3)
    module = affine_module(weight, bias).float()
    found = extract_affine(module, (1, 2, 4))
    assert found is not None
    np.testing.assert_allclose(found.weight, weight, atol=1e-5)
    np.testing.assert_allclose(found.bias, bias, atol=1e-5)
    x = rng.uniform(size=(50, 1, 2, 4)).astype(np.float32)
    with torch.no_grad():
        logits = module(torch.from_numpy(x)).double().numpy()
    assert is_affine_on(found, logits, x)
    relu = torch.nn.Sequential(module, torch.nn.ReLU())
    candidate = extract_affine(relu, (1, 2, 4))
    with torch.no_grad():
        relu_logits = relu(torch.from_numpy(x)).double().numpy()
    assert not is_affine_on(candidate, relu_logits, x)
