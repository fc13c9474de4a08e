"""Randomized smoothing against the closed form of a binary linear model.

For f(x) = [w·x + b > 0] and noise δ ~ N(0, σ²I), w·δ ~ N(0, σ²‖w‖²), so the smoothed
classifier g predicts f's class with p_A = Φ(|w·x + b| / (σ‖w‖)) and its exact L2 robustness
radius, σ·Φ⁻¹(p_A), is |w·x + b| / ‖w‖: the distance to the hyperplane, the same as f's.
CERTIFY's radius σ·Φ⁻¹(p_lower) uses a lower confidence bound p_lower ≤ p_A (with
probability 1 − α), so it must never exceed that distance (soundness), and with n = 10,000
samples it must come close to it: p_lower is within ~3·√(p(1−p)/n) ≈ 0.015 of p_A.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import export_pt2, save_npz
from scipy.stats import binom, norm

from inspector.cli.main import main
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.results import load_results, save_results
from inspector.core.smoothing import (
    SmoothingSpec,
    certify,
    lower_confidence_bound,
    smoothing_curve,
)
from inspector.core.threat import ThreatModel

SIGMA, D = 0.25, 16


def binary_linear(seed: int = 0):
    """Two logits whose difference is w·x + b (class 1 iff positive), and w, b themselves."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=D)
    b = 0.3
    layer = torch.nn.Linear(D, 2).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.stack([-w / 2, w / 2])))
        layer.bias.copy_(torch.tensor([-b / 2, b / 2]))
    return torch.nn.Sequential(torch.nn.Flatten(), layer), w, b


def points_at(w: np.ndarray, b: float, distances: np.ndarray, seed: int = 1) -> np.ndarray:
    """Points at the given signed distances from the hyperplane w·x + b = 0."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(len(distances), D))
    unit = w / np.linalg.norm(w)
    x -= ((x @ w + b) / np.linalg.norm(w))[:, None] * unit  # onto the plane
    return x + distances[:, None] * unit


def test_clopper_pearson_lower_bound():
    n, alpha = 1000, 0.001
    k = np.array([0, 1, 500, 990, 1000])
    bound = lower_confidence_bound(k, n, alpha)
    assert bound[0] == 0.0
    assert bound[-1] == pytest.approx(alpha ** (1 / n), rel=1e-12)  # all n agree
    # the defining property: at p = bound, seeing k or more successes has probability α
    assert binom.sf(k[1:-1] - 1, n, bound[1:-1]) == pytest.approx([alpha] * 3, rel=1e-6)
    assert np.all(np.diff(bound) > 0)


def test_certified_radius_of_a_linear_model_matches_the_closed_form():
    module, w, b = binary_linear()
    exact_scale = np.concatenate([np.linspace(-3.5, 3.5, 36), [0.0, 0.0]])  # distance / σ
    x = points_at(w, b, exact_scale * SIGMA)
    exact = np.abs(x @ w + b) / np.linalg.norm(w)
    gen = torch.Generator().manual_seed(0)
    prediction, radius = certify(
        module, torch.from_numpy(x), SIGMA, 100, 10_000, 0.001, batch_size=20_000, generator=gen
    )
    truth = (x @ w + b > 0).astype(int)
    certified = prediction >= 0
    # sound: a certified class is f's (= g's) class, and the radius never exceeds the distance
    assert np.all(prediction[certified] == truth[certified])
    assert np.all(radius <= exact + 1e-12)
    assert np.all(radius[~certified] == 0)
    # abstains on the boundary: p_A = 1/2 there, and p_lower ≤ 1/2 must mean no answer
    assert np.all(prediction[np.abs(exact_scale) < 1e-9] == -1)
    # tight where neither the boundary nor saturation limits it: distance in [0.5σ, 2.5σ].
    # Near 0 a ±0.015 error in p is a large share of a small radius; beyond ~3σ, p_A exceeds
    # α^(1/n) = 0.9993 and every radius is capped at σ·Φ⁻¹(0.9993) = 3.2σ.
    middle = (np.abs(exact_scale) >= 0.5) & (np.abs(exact_scale) <= 2.5)
    assert middle.sum() >= 20 and np.all(certified[middle])
    assert np.all(radius[middle] >= 0.8 * exact[middle])
    far = np.abs(exact_scale) >= 3.3
    cap = SmoothingSpec(SIGMA, 100, 10_000, 0.001).max_radius()
    assert np.all(radius[far] <= cap) and np.all(radius[far] >= 0.85 * cap)


def test_certify_follows_the_expected_lower_bound():
    """For large n the radius approaches σ·Φ⁻¹(p_lower) with p_lower the bound at k = n·p_A."""
    module, w, b = binary_linear(seed=2)
    x = points_at(w, b, np.array([0.5, 1.0, 1.5, -0.75]) * SIGMA, seed=3)
    p = norm.cdf(np.abs(x @ w + b) / (SIGMA * np.linalg.norm(w)))
    expected = SIGMA * norm.ppf(lower_confidence_bound(np.round(p * 10_000), 10_000, 0.001))
    gen = torch.Generator().manual_seed(1)
    _, radius = certify(module, torch.from_numpy(x), SIGMA, 100, 10_000, 0.001, generator=gen)
    # sampling noise in k: ±3·√(p(1−p)/n) in p, carried to the radius by σ·dΦ⁻¹/dp
    noise = 3 * np.sqrt(p * (1 - p) / 10_000) * SIGMA / norm.pdf(norm.ppf(p))
    assert np.all(np.abs(radius - expected) <= noise)


def test_a_constant_model_is_certified_to_the_cap_and_a_coin_flip_abstains():
    x = torch.zeros((3, 1, 2, 2))
    constant = lambda z: torch.tensor([[0.0, 1.0]]).repeat(len(z), 1)  # noqa: E731
    prediction, radius = certify(constant, x, SIGMA, 10, 500, 0.01)
    assert prediction.tolist() == [1, 1, 1]
    assert radius == pytest.approx([SIGMA * norm.ppf(0.01 ** (1 / 500))] * 3)
    coin = lambda z: torch.stack([z[:, 0, 0, 0], -z[:, 0, 0, 0]], dim=1)  # noqa: E731
    prediction, radius = certify(coin, x, SIGMA, 10, 500, 0.01)
    assert prediction.tolist() == [-1, -1, -1] and radius.tolist() == [0.0, 0.0, 0.0]


def test_smoothing_curve_counts_correct_examples_beyond_each_radius():
    radii = np.array([0.0, 0.1, 0.5, 0.3])
    correct = np.array([True, True, False, True])
    curve = smoothing_curve(radii, correct, np.array([0.0, 0.1, 0.3]))
    assert curve == [(0.0, 0.5), (0.1, 0.25), (0.3, 0.0)]


@pytest.mark.parametrize(
    "fields", [{"sigma": 0.0}, {"sigma": float("nan")}, {"n": 0}, {"n0": 0}, {"alpha": 1.0}]
)
def test_spec_refuses_nonsense(fields):
    with pytest.raises(InspectorError):
        SmoothingSpec(**fields)


def test_spec_label_says_what_is_certified():
    label = SmoothingSpec().describe()
    assert label == (
        "certified (randomized smoothing, σ=0.25, n0=100, n=1000, α=0.001), "
        "a lower bound for the smoothed classifier"
    )


@pytest.fixture(scope="module")
def linear_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smoothing")
    module, w, b = binary_linear(seed=4)
    distances = np.linspace(-0.6, 0.6, 24)
    x = np.clip(points_at(w, b, distances, seed=5), 0, 1).reshape(-1, 1, 4, 4)
    y = (x.reshape(len(x), -1) @ w + b > 0).astype(np.int64)
    model = export_pt2(module.float(), folder / "lin.pt2", (1, 4, 4), class_names=["-", "+"])
    return str(model), str(save_npz(folder / "data.npz", x.astype(np.float32), y))


def test_evaluate_with_smoothing_round_trips(linear_files, tmp_path):
    model, data = linear_files
    spec = SmoothingSpec(sigma=SIGMA, n0=50, n=400, alpha=0.01)
    threat = ThreatModel(norm="l2", eps=(0.0, 0.1, 0.2), attack="pgd", steps=10)
    request = EvaluationRequest(
        (ModelRequest(model),), data, threat, device="cpu", checks=False, smoothing=spec
    )
    results = run_to_end(request)
    record = results.models[0].smoothing
    assert record["spec"] == {"sigma": SIGMA, "n0": 50, "n": 400, "alpha": 0.01}
    assert record["description"] == spec.describe()
    assert len(record["prediction"]) == len(record["radius"]) == 24
    radii = [p["radius"] for p in record["curve"]]
    assert {0.1, 0.2} <= set(radii) and radii == sorted(radii)  # the L2 ε grid is on it
    accuracy = [p["certified_accuracy"] for p in record["curve"]]
    assert accuracy == sorted(accuracy, reverse=True) and accuracy[0] > 0.5
    # a lower bound under the attack's upper bound at every shared radius
    attack = {r.eps: r.robust_accuracy for r in results.models[0].sweep.curve()}
    for p in record["curve"]:
        if p["radius"] in attack:
            assert p["certified_accuracy"] <= attack[p["radius"]] + 1e-12
    save_results(tmp_path / "r.json", results)
    assert load_results(tmp_path / "r.json").models[0].smoothing == record


def test_cli_smoothing_prints_a_labelled_lower_bound(linear_files, capsys):
    model, data = linear_files
    argv = ["evaluate", "--model", model, "--data", data, "--norm", "l2", "--eps", "0,0.1"]
    argv += ["--attack", "pgd", "--device", "cpu", "--no-checks", "--smoothing-sigma", "0.25"]
    assert main([*argv, "--smoothing-samples", "300", "--smoothing-alpha", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "lin: certified (randomized smoothing, σ=0.25, n0=100, n=300, α=0.01), a lower " in out
    assert "not for the model f" in out and "L2 radius" in out


def test_smoothing_spec_round_trip():
    spec = replace(SmoothingSpec(), sigma=0.5)
    assert SmoothingSpec.from_dict(spec.to_dict()) == spec
