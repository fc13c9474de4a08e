"""Shared by the ONNX fuzz tests: one way to damage a file, one set of hypothesis settings.

Both ONNX fuzzers (the loader's checks, the gradient interpreter) damage a valid model the
same way; sharing the strategy keeps their derandomized example sequences the same.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


@st.composite
def damage(draw, data: bytes) -> bytes:
    """The bytes cut short, or with 1-4 bits flipped."""
    if draw(st.booleans()):
        return data[: draw(st.integers(0, len(data) - 1))]
    damaged = bytearray(data)
    for bit in draw(st.lists(st.integers(0, len(data) * 8 - 1), min_size=1, max_size=4)):
        damaged[bit // 8] ^= 1 << (bit % 8)
    return bytes(damaged)


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible runs (derandomized, no example database), no deadline per example."""
    return settings(
        derandomize=True,
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
