"""Per-example randomness: a result depends on (seed, ε, example), not on the batch it ran in."""

from __future__ import annotations

import pytest
import torch
from shard_support import assert_same_examples, demo_request, run

from inspector.core.attacks.streams import Streams


@pytest.mark.parametrize("attack", ["pgd", "apgd-ce", "square", "fast"])
def test_batch_size_does_not_change_any_example(attack: str):
    small = run(demo_request(attack, batch_size=7))
    large = run(demo_request(attack, batch_size=64))
    assert_same_examples(small, large)
    sweep = large.models[0].sweep
    assert 0 < (sweep.breaking_eps == 0.1).sum() < sweep.clean_correct.sum()  # not trivial


def test_streams_depend_only_on_the_example():
    x = torch.zeros(1, 3, 4, 4)
    everyone = Streams.for_examples(5, [10, 11, 12], "cpu", 2)
    alone = Streams.for_examples(5, [11], "cpu", 2)
    assert torch.equal(everyone.rows(torch.tensor([1])).child(4).uniform((3, 4, 4), x),
                       alone.child(4).uniform((3, 4, 4), x))
    u = everyone.child(0).uniform((10_000,), x)
    assert u.min() >= 0 and u.max() < 1 and abs(float(u.mean()) - 0.5) < 0.01
    other_seed = Streams.for_examples(6, [11], "cpu", 2).child(4).uniform((3, 4, 4), x)
    assert not torch.equal(other_seed, alone.child(4).uniform((3, 4, 4), x))
    z = everyone.normal((20_000,), x)
    assert abs(float(z.mean())) < 0.03 and abs(float(z.std()) - 1) < 0.03
