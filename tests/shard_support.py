"""Shared by the shard and resume tests: small demo evaluations and per-example comparisons."""

from __future__ import annotations

import numpy as np

from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.results import EvaluationResults
from inspector.core.threat import ThreatModel

# every per-example column a sweep records (timings, environment and layout notes are not)
# Confidences are softmax values of float32 forward passes: a batch of another size may round
# differently in the last bits (measured ≤ 1e-6), so they are compared to FLOAT_ATOL; every
# discrete field (predictions, breaking ε, the attack that broke it) must be exactly equal.
FLOAT_ATOL = 1e-5
INEXACT = ("clean_conf", "adv_conf")
PER_EXAMPLE = (
    "indices",
    "labels",
    "clean_pred",
    "clean_conf",
    "adv_pred",
    "adv_conf",
    "breaking_eps",
    "broken_by",
    "min_norm_radius",
    "certified_radius",
)


def demo_request(attack: str = "pgd", models: int = 1, **changes) -> EvaluationRequest:
    """The first demo model(s) on 40 digits, two ε > 0, an attack that draws random numbers
    (as `evaluate --demo` with FLAGS builds it; Square gets a small budget)."""
    queries = {"queries": 60} if attack in ("square", "fast") else {}
    threat = ThreatModel(
        norm="linf", eps=(0.0, 0.1, 0.2), attack=attack, steps=5, restarts=2, seed=3, **queries
    )
    paths = [str(p) for p in demo_model_paths()[:models]]
    base = {"models": tuple(ModelRequest(p) for p in paths), "data": "digits", "threat": threat,
            "limit": 40, "checks": False, "device": "cpu"}
    return EvaluationRequest(**(base | changes))


def run(request: EvaluationRequest) -> EvaluationResults:
    return run_to_end(request)


def assert_same_examples(a: EvaluationResults, b: EvaluationResults) -> None:
    """Every model's per-example fields equal, value for value (NaN equal to NaN)."""
    assert [m.info.name for m in a.models] == [m.info.name for m in b.models]
    assert a.threat.to_dict() == b.threat.to_dict()
    for ma, mb in zip(a.models, b.models, strict=True):
        assert ma.sweep.eps_done == mb.sweep.eps_done
        for name in PER_EXAMPLE:
            va, vb = getattr(ma.sweep, name), getattr(mb.sweep, name)
            assert (va is None) == (vb is None), name
            if va is None:
                continue
            if name in INEXACT:
                assert np.allclose(va, vb, rtol=0, atol=FLOAT_ATOL), name
            else:
                assert np.array_equal(va, vb, equal_nan=va.dtype != object), name
