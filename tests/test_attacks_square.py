"""The Square attack against exact ground truth, its determinism, and the ONNX-only path.

Linear models give the exact robustness radius (linear.robustness_radius): Square may never
break an example whose radius exceeds ε (soundness) and must break nearly all examples
whose radius is well below ε (strength).
"""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest
import torch
from arch_for_tests import make_tiny_cnn
from helpers import CancelAfter, binary_affine_problem

from inspector.core.attacks import Cancelled
from inspector.core.attacks.geometry import perturbation_size
from inspector.core.attacks.square import Square
from inspector.core.attacks.square_steps import l2_proposal, l2_start, p_fraction, square_side
from inspector.core.linear import AffineModel, robustness_radius
from inspector.core.models.base import forward_from_loaded
from inspector.core.models.loading import load_model

pytestmark = pytest.mark.filterwarnings(
    "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning",
    "ignore:The feature will be removed:DeprecationWarning",
)
EPS = {"linf": 0.02, "l2": 0.15}
QUERIES = {"linf": 500, "l2": 3000}  # the budgets the strength figures are measured at


# a random binary affine model on digit-sized inputs in [0.3, 0.7] (the box never binds)
_binary_problem = partial(binary_affine_problem, n=240, shape=(1, 8, 8), noise=0.6)


def _forward(model: AffineModel):
    weight, bias = torch.from_numpy(model.weight), torch.from_numpy(model.bias)
    return lambda t: t.flatten(1) @ weight.T + bias


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_square_is_sound_and_strong_on_binary_linear(norm: str, seed: int):
    model, x, y = _binary_problem(seed)
    correct = model.logits(x).argmax(1) == y
    x, y = x[correct], y[correct]
    exact = robustness_radius(model, x, y, norm)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    eps, forward = EPS[norm], _forward(model)
    attack = Square(forward, norm, queries=QUERIES[norm])
    result = attack.perturb(xt, yt, eps, generator=torch.Generator().manual_seed(seed))
    found = result.found.numpy()
    assert not found[exact > eps].any()  # soundness: never beats the exact certificate
    weak = exact < 0.8 * eps
    assert weak.sum() > 50 and (exact > eps).sum() > 20
    # measured (6 seeds): L∞ 100 %; L2 92.4-99.2 % with per-example streams, 94.1-99.1 % with
    # the former batch-wide generator: the same strength, other draws
    assert found[weak].mean() >= (0.95 if norm == "linf" else 0.92), found[weak].mean()
    assert perturbation_size(result.x_adv - xt, norm).max() <= eps * (1 + 1e-9)
    assert float(result.x_adv.min()) >= 0 and float(result.x_adv.max()) <= 1
    logits = forward(result.x_adv)
    assert torch.allclose(logits, result.logits)
    assert torch.equal(logits.argmax(1) != yt, result.found)
    used = attack.queries_used
    assert used is not None and int(used.max()) <= QUERIES[norm]
    assert (used[result.found] < QUERIES[norm]).all()  # broken rows stopped early


def test_square_queries_only_rows_still_robust_and_keeps_clean_errors():
    model, x, y = _binary_problem(4, n=120)
    forward, rows_seen = _forward(model), []

    def counting(t: torch.Tensor) -> torch.Tensor:
        rows_seen.append(t.shape[0])
        return forward(t)

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    attack = Square(counting, "linf", queries=200)
    result = attack.perturb(xt, yt, 0.03, generator=torch.Generator().manual_seed(0))
    assert attack.queries_used is not None
    assert sum(rows_seen) == int(attack.queries_used.sum())
    assert rows_seen == sorted(rows_seen, reverse=True)  # the batch only shrinks
    wrong = model.logits(x).argmax(1) != y
    assert wrong.any() and result.found.numpy()[wrong].all()
    assert torch.equal(result.x_adv[wrong], xt[wrong])  # a clean error is its own witness
    assert (attack.queries_used[torch.from_numpy(wrong)] == 1).all()


def test_square_respects_the_box_at_the_faces():
    model, x, y = _binary_problem(3, n=100)
    x = np.clip(x * 2 - 0.5, 0, 1)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for norm, eps in (("linf", 0.2), ("l2", 1.0)):
        result = Square(_forward(model), norm, queries=100).perturb(
            xt, yt, eps, generator=torch.Generator().manual_seed(1)
        )
        assert float(result.x_adv.min()) >= 0 and float(result.x_adv.max()) <= 1
        assert perturbation_size(result.x_adv - xt, norm).max() <= eps * (1 + 1e-9)


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_square_same_seed_same_result(norm: str):
    model, x, y = _binary_problem(6, n=60)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def run(seed: int):
        attack = Square(_forward(model), norm, queries=150)
        result = attack.perturb(xt, yt, EPS[norm], generator=torch.Generator().manual_seed(seed))
        return result, attack.queries_used

    (first, used1), (again, used2), (other, _) = run(7), run(7), run(8)
    assert torch.equal(first.x_adv, again.x_adv) and torch.equal(first.found, again.found)
    assert torch.equal(used1, used2)
    assert not torch.equal(first.x_adv, other.x_adv)


def test_square_cancel_raises():
    model, x, y = _binary_problem(0, n=20)
    cancel = CancelAfter(5)
    with pytest.raises(Cancelled):
        Square(_forward(model), "linf", queries=1000).perturb(
            torch.from_numpy(x), torch.from_numpy(y), 0.001, cancel=cancel
        )
    assert cancel.calls == 6


def test_schedule_and_l2_moves_stay_in_the_ball():
    assert p_fraction(0.8, 0, 1000) == 0.8
    assert p_fraction(0.8, 3, 1000) == 0.4  # rescaled: iteration 3 of 1000 is 30 of 10,000
    assert p_fraction(0.8, 999, 1000) == pytest.approx(0.8 / 512)
    assert square_side(0.8, (1, 8, 8)) == 7 and square_side(0.001, (1, 8, 8)) == 1
    assert square_side(0.001, (3, 8, 8), minimum=3, odd=True) == 3
    assert square_side(0.8, (1, 4, 4), minimum=3, odd=True) == 3  # the largest odd side that fits
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 8, 8, generator=gen, dtype=torch.float64) * 0.4 + 0.3
    best = l2_start(x, 0.5, gen)
    expected = torch.full((16,), 0.5, dtype=torch.float64)  # no clipping this far from the faces
    assert torch.allclose((best - x).flatten(1).norm(dim=1), expected)
    for side in (7, 5, 3):
        best = l2_proposal(x, best, 0.5, side, gen)
        assert torch.allclose((best - x).flatten(1).norm(dim=1), expected)


@pytest.fixture(scope="module")
def onnx_net(tmp_path_factory):
    """The tiny CNN and its ONNX export (legacy exporter: one file, fast)."""
    net = make_tiny_cnn()
    path = tmp_path_factory.mktemp("square") / "net.onnx"
    torch.onnx.export(
        net,
        (torch.rand(2, 1, 8, 8),),
        path,
        opset_version=17,
        dynamo=False,
        input_names=["x"],
        dynamic_axes={"x": {0: "batch"}},
    )
    return net, load_model(path, device="cpu")


def test_forward_from_loaded_gives_ordinary_tensors(onnx_net):
    _, loaded = onnx_net
    x = torch.rand(4, 1, 8, 8)
    for forward in (forward_from_loaded(loaded), forward_from_loaded(_without_module(loaded))):
        logits = forward(x)
        logits[0, 0] = 0.0  # writable outside inference mode
        assert logits.shape == (4, 10) and not logits.requires_grad


def _without_module(loaded):
    return dataclasses.replace(loaded, module=None, gradient_unavailable_reason="test")


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_square_through_onnxruntime_alone_matches_torch(onnx_net, norm: str):
    net, loaded = onnx_net
    onnx_only = forward_from_loaded(_without_module(loaded))
    x = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = net(x).argmax(1)
    eps = 0.05 if norm == "linf" else 0.3
    outcomes = []
    for forward in (onnx_only, lambda t: net(t)):
        attack = Square(forward, norm, queries=150)
        result = attack.perturb(x, y, eps, generator=torch.Generator().manual_seed(3))
        outcomes.append((result, attack.queries_used))
    (via_onnx, used_onnx), (via_torch, used_torch) = outcomes
    assert 0 < via_torch.found.float().mean() < 1  # the case is not trivial
    assert torch.equal(via_onnx.found, via_torch.found)
    assert torch.equal(used_onnx, used_torch)
    assert torch.equal(via_onnx.x_adv, via_torch.x_adv)
    assert torch.allclose(via_onnx.logits, via_torch.logits, atol=1e-5)
