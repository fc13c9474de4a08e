"""Fuzz the dataset readers: truncated and bit-flipped files give InspectorError or data.

A small valid file of each format is damaged by hypothesis (cut at any length, or a few
bits flipped anywhere) and opened through `open_dataset`, then every example is loaded
and the hash computed: nothing but InspectorError may come out.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from inspector.core.data import open_dataset
from inspector.core.errors import InspectorError

RNG = np.random.default_rng(13)


def _npz(compressed: bool) -> bytes:
    buffer = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(buffer, x=RNG.integers(0, 256, (4, 1, 5, 5), dtype=np.uint8), y=np.arange(4) % 2)
    return buffer.getvalue()


def _cifar() -> bytes:
    data = RNG.integers(0, 256, (2, 3072), dtype=np.uint8)
    return pickle.dumps({b"batch_label": b"test", b"data": data, b"labels": [3, 7]}, protocol=2)


def _idx(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()


def _mnist_images(gz: bool) -> bytes:
    raw = _idx(0x803, RNG.integers(0, 256, (3, 6, 6), dtype=np.uint8))
    return gzip.compress(raw) if gz else raw


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (5, 5, 3), dtype=np.uint8), mode="RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _place(folder: Path, name: str, raw: bytes) -> str:
    """Write the damaged file where its format expects it; the spec to open."""
    if name == "png":
        for cls in ("a", "b"):
            (folder / cls).mkdir()
        Image.fromarray(np.zeros((5, 5), np.uint8), mode="L").save(folder / "a" / "ok.png")
        (folder / "b" / "damaged.png").write_bytes(raw)
        return str(folder)
    if name.startswith("mnist"):
        suffix = ".gz" if name == "mnist-gz" else ""
        (folder / f"t10k-images-idx3-ubyte{suffix}").write_bytes(raw)
        (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx(0x801, np.array([0, 1, 2], np.uint8)))
        return str(folder)
    target = folder / ("test_batch" if name == "cifar" else "data.npz")
    target.write_bytes(raw)
    return str(target)


VALID: dict[str, Callable[[], bytes]] = {
    "npz": lambda: _npz(False),
    "npz-compressed": lambda: _npz(True),
    "cifar": _cifar,
    "mnist": lambda: _mnist_images(False),
    "mnist-gz": lambda: _mnist_images(True),
    "png": _png,
}
FILES = {name: make() for name, make in VALID.items()}


@st.composite
def damaged(draw: st.DrawFn, raw: bytes) -> bytes:
    """Cut at any length, or flip one to four bits anywhere."""
    if draw(st.booleans()):
        return raw[: draw(st.integers(0, len(raw) - 1))]
    out = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(raw) - 1))
        out[position] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


def _open_and_load(name: str, raw: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-datasets-") as tmp:
        try:
            dataset = open_dataset(_place(Path(tmp), name, raw))
            images = dataset.load(np.arange(len(dataset.labels)))
            assert images.dtype == np.float32 and np.all((images >= 0) & (images <= 1))
            assert len(dataset.info.sha256) == 64
        except InspectorError as exc:
            assert "\n" not in str(exc)


@pytest.mark.parametrize("name", sorted(VALID))
def test_damaged_files_raise_only_inspector_errors(name: str) -> None:
    _open_and_load(name, FILES[name])  # the undamaged file opens and loads

    @settings(derandomize=True, max_examples=80, deadline=None, database=None)
    @given(raw=damaged(FILES[name]))
    def check(raw: bytes) -> None:
        _open_and_load(name, raw)

    check()
