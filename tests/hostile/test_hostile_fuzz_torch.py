"""Fuzz the torch loaders: truncated and bit-flipped .pt2, TorchScript and torch.save files.

Whatever the damage, load_model either loads the model or raises InspectorError; any other
exception escaping is a bug (it would reach the user as a traceback).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from helpers import export_pt2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.core.errors import InspectorError
from inspector.core.models.loading import load_model

SHAPE = (1, 4, 4)
pytestmark = pytest.mark.filterwarnings("ignore")


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    network = _network()
    export_pt2(network, folder / "m.pt2", SHAPE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.trace(network, torch.rand(2, *SHAPE)).save(str(folder / "m.ts"))
    torch.save(network.state_dict(), folder / "zip.pth")
    torch.save(network.state_dict(), folder / "legacy.pth", _use_new_zipfile_serialization=False)
    names = ("m.pt2", "m.ts", "zip.pth", "legacy.pth")
    return {name: (folder / name).read_bytes() for name in names}


@st.composite
def damage(draw, size: int) -> tuple[str, int, list[int]]:
    """("truncate", n, []) or ("flip", 0, bit positions) for a file of `size` bytes."""
    if draw(st.booleans()):
        return "truncate", draw(st.integers(0, size - 1)), []
    bits = draw(st.lists(st.integers(0, size * 8 - 1), min_size=1, max_size=8))
    return "flip", 0, bits


def damaged(data: bytes, how: tuple[str, int, list[int]]) -> bytes:
    kind, cut, bits = how
    if kind == "truncate":
        return data[:cut]
    out = bytearray(data)
    for bit in bits:
        out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _fuzz(originals, folder: Path, name: str, data_strategy) -> None:
    @settings(
        derandomize=True,
        max_examples=_EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(how=data_strategy)
    def run(how) -> None:
        path = folder / name
        path.write_bytes(damaged(originals[name], how))
        try:
            load_model(path, fallback_input_shape=SHAPE)
        except InspectorError as exc:
            assert "\n" not in str(exc)

    run()


_EXAMPLES = {"m.pt2": 120, "m.ts": 120, "zip.pth": 100, "legacy.pth": 80}


@pytest.mark.parametrize("name", list(_EXAMPLES))
def test_damaged_torch_files_raise_only_inspector_errors(originals, tmp_path, name):
    _fuzz(originals, tmp_path, name, damage(len(originals[name])))


@pytest.mark.parametrize("name", ["m.pt2", "m.ts", "zip.pth"])
@pytest.mark.parametrize("damage_kind", ["multi-disk", "deflate", "zip-version"])
def test_zip_damage_found_by_fuzzing(originals, tmp_path, name, damage_kind):
    """Cases a longer fuzz run found escaping as BadZipFile, zlib.error, NotImplementedError."""
    data = bytearray(originals[name])
    if damage_kind == "multi-disk":
        locator = data.rindex(b"PK\x06\x07")  # torch writes zip64 end records
        data[locator + 16] = 2  # "the archive spans 2 disks"
    elif damage_kind == "deflate":
        if name != "m.ts":
            pytest.skip("only TorchScript archives deflate members (code/)")
        start = data.index(b"PK\x03\x04")
        while int.from_bytes(data[start + 8 : start + 10], "little") != 8:  # deflated member
            start = data.index(b"PK\x03\x04", start + 4)
        skip = 30 + int.from_bytes(data[start + 26 : start + 28], "little")
        skip += int.from_bytes(data[start + 28 : start + 30], "little")
        data[start + skip] = 0xFF  # an invalid deflate block header
    else:
        data[data.index(b"PK\x01\x02") + 6] = 128  # "needs zip version 12.8" in the directory
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(InspectorError, match="cannot load model"):
        load_model(path, fallback_input_shape=SHAPE)
