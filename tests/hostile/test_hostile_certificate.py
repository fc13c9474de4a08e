"""Hostile inputs around the exact certificate (issue 19): a results file that lies about it,
a model whose probe fails, a model whose gradients lie about its forward pass.

None may produce a certificate it has not earned, a traceback, or an aborted evaluation.
"""

from __future__ import annotations

import json

import pytest
import torch
from helpers import linear_problem, linear_problem_files
from torch import nn

from inspector.cli.main import main
from inspector.core.certificate import affine_certificate
from inspector.core.errors import InspectorError
from inspector.core.results import load_results


@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cert")
    model, data, _ = linear_problem_files(
        folder, seed=3, n=20, classes=3, model_name="lin.pt2", data_name="d.npz"
    )
    out = folder / "r.json"
    args = ["evaluate", "--model", str(model), "--data", str(data), "--attack", "fgsm"]
    assert main([*args, "--eps", "0,0.1", "--no-checks", "--out", str(out)]) == 0
    return out


def test_a_non_boolean_certificate_switch_is_a_one_line_error(results_file, tmp_path):
    data = json.loads(results_file.read_text())
    data["threat_model"]["certificate"] = {"__class__": "os.system"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(InspectorError, match="certificate must be true or false") as caught:
        load_results(bad)
    assert "\n" not in str(caught.value)


def test_a_non_text_certificate_note_is_dropped(results_file, tmp_path):
    data = json.loads(results_file.read_text())
    data["models"][0]["certificate_note"] = ["x" * 10, {"y": 1}]
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(data))
    assert load_results(odd).models[0].sweep.certificate_note is None


class FixedBatch(nn.Module):
    """Refuses any batch but 1 (as a model exported with a static batch would)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != 1:
            raise RuntimeError(f"expected batch 1, got {x.shape[0]}")
        return self.inner(x)


class _LyingGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()  # the identity (affine) ...

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad  # ... whose gradient claims twice the slope


class NoBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("this model has no backward pass")


class Wrap(nn.Module):
    def __init__(self, inner: nn.Module, fn) -> None:
        super().__init__()
        self.inner, self.fn = inner, fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(self.fn.apply(x - 0.5) + 0.5)


def test_a_probe_that_fails_gives_no_certificate_not_a_crash():
    module, _, _ = linear_problem(seed=3, n=4, classes=3)
    assert affine_certificate(FixedBatch(module), (1, 4, 4), 3).affine is None
    assert affine_certificate(Wrap(module, NoBackward), (1, 4, 4), 3).affine is None


def test_gradients_that_lie_about_the_forward_pass_earn_no_certificate():
    module, _, _ = linear_problem(seed=3, n=4, classes=3)
    honest = affine_certificate(module.eval(), (1, 4, 4), 3)
    assert honest.affine is not None
    found = affine_certificate(Wrap(module, _LyingGrad).eval(), (1, 4, 4), 3)
    assert found.affine is None  # passes the forward test, fails the weights' check


def test_fuzzed_probe_outputs_never_escape_as_other_exceptions():
    """Whatever (finite, NaN, Inf, wrong-shaped) logits a module returns, no exception."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(derandomize=True, max_examples=60, deadline=None)
    @given(
        st.sampled_from([(24, 3), (24, 2), (24,), (24, 3, 1)]),
        st.sampled_from([0.0, 1e-12, 1.0, 1e6, float("nan"), float("inf")]),
        st.integers(0, 2**31 - 1),
    )
    def run(shape, scale, seed):
        class Odd(nn.Module):
            def forward(self, x):
                gen = torch.Generator().manual_seed(seed)
                out = torch.randn((x.shape[0], *shape[1:]), generator=gen) * scale
                return out + 0 * x.flatten(1)[:, :1].reshape(-1, *[1] * (out.ndim - 1))

        found = affine_certificate(Odd(), (1, 4, 4), 3)
        assert found.affine is None

    run()
