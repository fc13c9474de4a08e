"""The attack ensemble (APGD-CE, APGD-T, Square): exact on affine models, never weaker than
a member, every point inside the threat model, and each break credited to the right member."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import affine_module, binary_affine_problem
from test_attacks_apgd import _Counting, _three_class_problem

from inspector.core.attacks import APGD, APGDT, Cancelled, Ensemble, make_attack
from inspector.core.attacks.geometry import perturbation_size
from inspector.core.attacks.square import Square
from inspector.core.errors import InspectorError
from inspector.core.linear import certified_robust

MEMBERS = ("apgd-ce", "apgd-t", "square")


def _ensemble(module, norm, steps=30, queries=100):
    return make_attack("ensemble", module, norm, steps, 1, queries=queries)


def _run(attack, x, y, eps, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return attack.perturb(torch.from_numpy(x), torch.from_numpy(y), eps, generator=gen)


def _clean_correct(model, x, y):
    correct = model.logits(x).argmax(1) == y
    return x[correct], y[correct]


def _small_mlp(seed: int = 0, classes: int = 10) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, classes)
    )
    return net.double().requires_grad_(False)


def _mlp_data(net, seed: int = 0, n: int = 200):
    """Inputs that reach the box faces, labels = the net's own predictions (all clean-correct)."""
    rng = np.random.default_rng(seed)
    x = np.clip(rng.uniform(-0.2, 1.2, size=(n, 1, 4, 4)), 0, 1)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).argmax(1).numpy()
    return x, y


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_ensemble_equals_exact_on_binary_linear(norm: str):
    model, x, y = binary_affine_problem(2, n=400)
    module = affine_module(model.weight, model.bias)
    xc, yc = _clean_correct(model, x, y)
    for eps in (0.0125, 0.025) if norm == "linf" else (0.05, 0.1):
        exact = certified_robust(model, xc, yc, eps, norm)
        result = _run(_ensemble(module, norm), xc, yc, eps)
        assert ((~result.found.numpy()) == exact).all()
        assert 0 < exact.sum() < len(yc)
        # APGD-CE is exact here, so it breaks everything breakable; the others find nothing
        assert {b for b in result.broken_by if b} == {"apgd-ce"}


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_ensemble_equals_exact_pairwise_certificate_on_three_classes(norm: str):
    """Exactly equal, example by example (not merely within one example)."""
    model, x, y = _three_class_problem(4)
    module = affine_module(model.weight, model.bias)
    xc, yc = _clean_correct(model, x, y)
    credited = set()
    for eps in (0.0125, 0.025) if norm == "linf" else (0.05, 0.1):
        exact = certified_robust(model, xc, yc, eps, norm)
        result = _run(_ensemble(module, norm), xc, yc, eps)
        assert ((~result.found.numpy()) == exact).all(), (norm, eps)
        credited |= {b for b in result.broken_by if b}
    assert credited == {"apgd-ce", "apgd-t"}  # APGD-T breaks what the CE loss missed


def _members_alone(module, norm, steps=30, queries=100):
    return {
        "apgd-ce": APGD(module, norm, steps=steps),
        "apgd-t": APGDT(module, norm, steps=steps),
        "square": Square(lambda t: module(t), norm, queries=queries),
    }


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_ensemble_never_reports_worse_than_any_member(norm: str):
    """On an affine model: a superset of every member's breaks. On a ReLU net: a superset of
    APGD-CE's (it runs first with the same random stream) and at least as many as the others."""
    model, x, y = _three_class_problem(8)
    linear = affine_module(model.weight, model.bias)
    xc, yc = _clean_correct(model, x, y)
    eps = 0.025 if norm == "linf" else 0.1
    ensemble = _run(_ensemble(linear, norm), xc, yc, eps).found
    for name, attack in _members_alone(linear, norm).items():
        alone = _run(attack, xc, yc, eps).found
        assert bool((ensemble | ~alone).all()), name

    net = _small_mlp()
    xm, ym = _mlp_data(net)
    eps = 0.15 if norm == "linf" else 0.6
    ensemble = _run(_ensemble(net, norm), xm, ym, eps).found
    counts = {}
    for name, attack in _members_alone(net, norm).items():
        alone = _run(attack, xm, ym, eps).found
        counts[name] = int(alone.sum())
        assert int(ensemble.sum()) >= counts[name], name
    assert bool((ensemble | ~_run(APGD(net, norm, steps=30), xm, ym, eps).found).all())
    assert 0 < int(ensemble.sum()) < len(ym), counts


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_every_point_inside_the_ball_and_the_box(norm: str):
    net = _small_mlp(1)
    x, y = _mlp_data(net, 1)
    eps = 0.1 if norm == "linf" else 0.3
    result = _run(_ensemble(net, norm, steps=20, queries=200), x, y, eps)
    xt = torch.from_numpy(x)
    assert float(result.x_adv.min()) >= 0.0 and float(result.x_adv.max()) <= 1.0
    assert float(perturbation_size(result.x_adv - xt, norm).max()) <= eps * (1 + 1e-9)
    logits = net(result.x_adv)
    assert torch.equal(logits.argmax(1) != torch.from_numpy(y), result.found)
    assert torch.allclose(logits, result.logits)


def test_broken_by_names_the_member_that_broke_each_example():
    net = _small_mlp()
    x, y = _mlp_data(net)
    eps = 0.15
    result = _run(_ensemble(net, "linf"), x, y, eps)
    names = np.array([b or "" for b in result.broken_by], dtype=object)
    found = result.found.numpy()
    assert ((names != "") == found).all()
    assert set(names[found]) == set(MEMBERS)  # here each member adds breaks of its own
    # APGD-CE runs first with the same random stream as APGD-CE alone: the same breaks
    alone = _run(APGD(net, "linf", steps=30), x, y, eps).found.numpy()
    assert ((names == "apgd-ce") == alone).all()
    # the counts are what the result says
    assert sum(1 for b in result.broken_by if b) == int(result.found.sum())


def test_cancel_raises_within_one_step():
    model, x, y = _three_class_problem(7, n=100)
    for stop_after in (3, 40):  # in APGD-CE's start, and later inside APGD-CE's steps
        counting = _Counting(affine_module(model.weight, model.bias), stop_after=stop_after)
        ensemble = _ensemble(counting, "linf")
        with pytest.raises(Cancelled):
            ensemble.perturb(torch.from_numpy(x), torch.from_numpy(y), 0.01, cancel=counting.cancel)
        assert counting.calls == stop_after
    # inside Square: at most the one query already under way
    counting = _Counting(affine_module(model.weight, model.bias), stop_after=10)
    square_only = Ensemble([("square", Square(lambda t: counting(t), "linf", queries=500))])
    with pytest.raises(Cancelled):
        square_only.perturb(torch.from_numpy(x), torch.from_numpy(y), 0.01, cancel=counting.cancel)
    assert counting.calls <= 11


def test_without_gradients_the_ensemble_is_square_alone():
    model, x, y = _three_class_problem(9, n=120)
    module = affine_module(model.weight, model.bias)
    forward = lambda t: module(t)  # noqa: E731  (a black box: no module handed over)
    attack = make_attack("ensemble", None, "linf", 30, 1, queries=200, forward=forward)
    assert isinstance(attack, Ensemble) and attack.member_names == ["square"]
    xc, yc = _clean_correct(model, x, y)
    result = _run(attack, xc, yc, 0.03)
    assert {b for b in result.broken_by if b} == {"square"}
    exact = certified_robust(model, xc, yc, 0.03, "linf")
    assert (~result.found.numpy() >= exact).all()  # never breaks a certified example
    square = make_attack("square", None, "linf", 30, 1, queries=200, forward=forward)
    assert isinstance(square, Square)
    with pytest.raises(InspectorError, match="needs gradients"):
        make_attack("apgd-ce", None, "linf", 30, 1, forward=forward)
    with pytest.raises(InspectorError, match="unknown attack"):
        make_attack("cw", module, "linf", 30, 1)
