"""Hostile dataset files and folders (issue 13): each gets a one-line InspectorError, fast.

Every case is built on the fly in tmp_path. Most are opened in-process through
`open_dataset`; a few run the real program (`run_inspector`) to show exit code 2, one
stderr line, no traceback, a bounded time and a bounded peak memory end to end.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hostile_support import assert_user_error, run_inspector
from PIL import Image

from inspector.core.data import open_dataset
from inspector.core.errors import InspectorError

DEMO_MODEL = Path(__file__).resolve().parents[2] / "resources" / "demo" / "digits_standard.pt2"
BOMB_RSS_MB = 1500  # python + torch alone is ~400-600 MB


def evaluate(data: Path | str, cwd: Path, **env: str):
    """The CLI on a hostile dataset; the dataset is opened before the model."""
    args = ["evaluate", "--model", str(DEMO_MODEL), "--data", str(data), "--device", "cpu"]
    return run_inspector(args, cwd=cwd, timeout=90, env=env)


def refused(spec: Path | str, *words: str) -> str:
    """open_dataset raises an InspectorError of one line naming every word."""
    with pytest.raises(InspectorError) as info:
        open_dataset(str(spec))
    message = str(info.value)
    assert "\n" not in message, message
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


# --- builders ---------------------------------------------------------------------------


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def lying_npy(shape: tuple[int, ...], dtype: str = "|u1", data: bytes = b"") -> bytes:
    """An .npy header declaring `shape`, followed by only `data`."""
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def write_npz(path: Path, members: dict[str, bytes], compress: bool = False) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, raw in members.items():
            archive.writestr(f"{name}.npy", raw)
    return path


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height gray pixels; the data is a token."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def image_folder(root: Path, n: int = 2, size: int = 6) -> Path:
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            pixels = np.full((size, size), (40 * i + (cls == "dog") * 100) % 256, np.uint8)
            Image.fromarray(pixels, mode="L").save(root / cls / f"{i}.png")
    return root


def idx(magic: int, dims: tuple[int, ...]) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims)


def mnist_pair(folder: Path, images: bytes, labels: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(labels)
    return folder


class Call:
    """Pickles as `call(*args)`: how a hostile batch reaches the allowed numpy builders."""

    def __init__(self, call: object, args: tuple) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple:
        return self.call, self.args


# --- npz --------------------------------------------------------------------------------


def test_npz_header_claiming_a_huge_array_is_refused_before_allocating(tmp_path: Path) -> None:
    labels = npy_bytes(np.zeros(2, np.int64))
    huge = write_npz(tmp_path / "huge.npz", {"x": lying_npy((10**6, 3, 1000, 1000)), "y": labels})
    refused(huge, "'x'", "limit", "INSPECTOR_MAX_DATASET_VALUES")
    five = lying_npy((2, 1, 8, 8), data=b"\0" * 5)
    short = write_npz(tmp_path / "short.npz", {"x": five, "y": labels})
    refused(short, "declares 128 data bytes", "holds 5")
    wide = write_npz(tmp_path / "wide.npz", {"x": lying_npy((2, 1, 8, 8), "<f8"), "y": labels})
    refused(wide, "declares 1,024")


@pytest.mark.slow
def test_npz_bomb_end_to_end_is_one_line_in_bounded_memory(tmp_path: Path) -> None:
    # 400 million values pass the value limit; as float64 they are 3.2 GB, over the byte limit
    labels = npy_bytes(np.zeros(2, np.int64))
    bomb = {"x": lying_npy((4 * 10**8, 1, 1, 1), "<f8"), "y": labels}
    outcome = evaluate(write_npz(tmp_path / "bomb.npz", bomb, compress=True), tmp_path)
    assert_user_error(outcome, "bomb.npz", "3,200,000,000 bytes", "INSPECTOR_MAX_ARRAY_BYTES")
    assert outcome.peak_rss_mb < BOMB_RSS_MB and outcome.seconds < 60


def test_npz_object_and_record_arrays_are_refused(tmp_path: Path) -> None:
    labels = npy_bytes(np.zeros(2, np.int64))
    for name, descr in (("objects", "|O"), ("records", [("a", "<i4")])):
        path = write_npz(tmp_path / f"{name}.npz", {"x": lying_npy((2,), descr), "y": labels})
        refused(path, "dtype", "plain numeric")


def test_plain_npy_is_refused_clearly_under_either_name(tmp_path: Path) -> None:
    raw = npy_bytes(np.zeros((2, 1, 4, 4), np.uint8))
    for name in ("images.npy", "images.npz"):
        (tmp_path / name).write_bytes(raw)
        refused(tmp_path / name, name, "single .npy array", "np.savez")


def test_labels_implying_too_many_classes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "classes.npz"
    np.savez(path, x=np.zeros((2, 1, 4, 4), np.uint8), y=np.array([0, 2**62], np.int64))
    refused(path, "label 4611686018427387904", "INSPECTOR_MAX_CLASSES")


def test_total_dataset_size_limit_is_checked_and_raisable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, x=np.zeros((10, 3, 8, 8), np.uint8), y=np.arange(10) % 2)
    monkeypatch.setenv("INSPECTOR_MAX_DATASET_VALUES", "1000")
    refused(path, "1,920 values", "limit of 1,000", "INSPECTOR_MAX_DATASET_VALUES")
    monkeypatch.setenv("INSPECTOR_MAX_DATASET_VALUES", "1920")
    assert open_dataset(str(path)).info.size == 10
    monkeypatch.setenv("INSPECTOR_MAX_DATASET_VALUES", "lots")
    refused(path, "INSPECTOR_MAX_DATASET_VALUES='lots'", "positive whole number")


# --- CIFAR-10 ---------------------------------------------------------------------------


def test_cifar_labels_out_of_range_for_ten_classes(tmp_path: Path) -> None:
    batch = {b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 255, 1]}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    refused(tmp_path, "label 255 is out of range for 10 classes", "0..9")
    batch[b"labels"] = [0.5, 1.0, 2.0]
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    refused(tmp_path, "not integers")


def _ndarray_bomb() -> bytes:
    """The 181-byte batch: numpy.ndarray(shape) allocated 3.6 GB of uninitialised labels."""
    batch = {
        b"data": Call(np.ndarray, ((1_160_000, 3072), "u1")),
        b"labels": Call(np.ndarray, ((1_160_000,), "i8")),
    }
    return pickle.dumps(batch, protocol=2)


def test_cifar_pickles_cannot_allocate_declared_sizes(tmp_path: Path) -> None:
    path = tmp_path / "test_batch"
    path.write_bytes(_ndarray_bomb())
    assert len(path.read_bytes()) < 200
    refused(tmp_path, "test_batch", "numpy.ndarray", "not a cifar batch")
    reconstruct = np.zeros(0).__reduce__()[0]
    path.write_bytes(pickle.dumps({b"data": Call(reconstruct, (np.ndarray, (10**9,), b"b"))}))
    refused(tmp_path, "declared size")
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    lie = Call(frombuffer, (b"\0" * 8, np.dtype("u1"), (10**6, 3072), "C"))
    path.write_bytes(pickle.dumps({b"data": lie}, protocol=2))
    refused(tmp_path, "declares more data")


@pytest.mark.slow
def test_cifar_bombs_end_to_end_in_bounded_memory(tmp_path: Path) -> None:
    cases = {
        "ndarray": _ndarray_bomb(),
        "memo": b"\x80\x02N" + b"r\xf0\xff\xff\x0f" + b".",  # memo index 2**28: a 4 GB table
    }
    for name, raw in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "test_batch").write_bytes(raw)
        outcome = evaluate(folder, tmp_path)
        assert_user_error(outcome, "test_batch")
        assert outcome.peak_rss_mb < BOMB_RSS_MB, (name, outcome.peak_rss_mb)


# --- MNIST ------------------------------------------------------------------------------


def _zeros_gzip(total: int) -> bytes:
    """`total` zero bytes as concatenated gzip members (one compressed, then repeated)."""
    member = gzip.compress(bytes(1 << 26), compresslevel=1)
    return member * (total >> 26)


def test_mnist_gzip_declaring_a_huge_array_is_refused_after_the_header(tmp_path: Path) -> None:
    images = gzip.compress(idx(0x803, (6_000_000, 28, 28)) + bytes(1000))
    folder = mnist_pair(tmp_path / "m", images, idx(0x801, (2,)) + bytes(2))
    refused(folder, "t10k-images-idx3-ubyte.gz", "4,704,000,000 values", "INSPECTOR_MAX_DATASET")


@pytest.mark.slow
def test_mnist_trailing_gzip_bomb_end_to_end_stops_at_the_declared_size(tmp_path: Path) -> None:
    head = gzip.compress(idx(0x803, (2, 28, 28)) + bytes(2 * 784))
    folder = mnist_pair(tmp_path / "m", head + _zeros_gzip(2 << 30), idx(0x801, (2,)) + bytes(2))
    outcome = evaluate(folder, tmp_path)
    assert_user_error(outcome, "t10k-images", "more than 1,568")
    assert outcome.peak_rss_mb < BOMB_RSS_MB and outcome.seconds < 60


def test_mnist_size_mismatches_are_refused_before_reading(tmp_path: Path) -> None:
    labels = idx(0x801, (2,)) + bytes(2)
    folder = mnist_pair(tmp_path / "short", gzip.compress(idx(0x803, (2, 28, 28))), labels)
    refused(folder, "holds 0 data bytes", "1,568")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "t10k-images-idx3-ubyte").write_bytes(idx(0x803, (10**4, 500, 90)))
    (plain / "t10k-labels-idx1-ubyte").write_bytes(labels)
    refused(plain, "holds 0 data bytes", "450,000,000")
    (plain / "t10k-images-idx3-ubyte").write_bytes(b"\x1f\x8b not gzip at all")
    refused(plain, "cannot read", "re-download")


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize("side", [12_000, 20_000])
def test_huge_image_is_refused_from_its_header(tmp_path: Path, side: int) -> None:
    root = image_folder(tmp_path / "data")
    (root / "cat" / "big.png").write_bytes(png_header(side, side))
    refused(root, "big.png", "too large" if side == 20_000 else "INSPECTOR_MAX_IMAGE_PIXELS")


@pytest.mark.slow
def test_image_bomb_end_to_end_in_bounded_memory(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "data")
    (root / "dog" / "big.png").write_bytes(png_header(12_000, 12_000))
    outcome = evaluate(root, tmp_path)
    assert_user_error(outcome, "big.png", "144,000,000 pixels", "INSPECTOR_MAX_IMAGE_PIXELS")
    assert outcome.peak_rss_mb < BOMB_RSS_MB


def test_pixel_limit_is_raisable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = image_folder(tmp_path / "data", size=6)
    monkeypatch.setenv("INSPECTOR_MAX_IMAGE_PIXELS", "35")
    refused(root, "36 pixels", "limit of 35")
    monkeypatch.setenv("INSPECTOR_MAX_IMAGE_PIXELS", "36")
    assert open_dataset(str(root)).load(np.arange(4)).shape == (4, 1, 6, 6)


def test_other_formats_behind_an_image_suffix_are_not_decoded(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "data")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    (root / "cat" / "z.png").write_bytes(eps)  # Pillow's EPS plugin would run Ghostscript
    refused(root, "cannot read image", "z.png")


# --- folders ----------------------------------------------------------------------------


def _rescue(fifo: Path) -> threading.Timer:
    """If a regression blocks on the FIFO, open its other end so the test fails, not hangs."""
    timer = threading.Timer(20.0, lambda: open(fifo, "wb").close())
    timer.daemon = True
    timer.start()
    return timer


def test_fifo_in_an_image_folder_is_refused_without_opening_it(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "data")
    fifo = root / "dog" / "stuck.png"
    os.mkfifo(fifo)
    timer = _rescue(fifo)
    started = time.monotonic()
    try:
        refused(root, "stuck.png", "not a regular file")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_fifo_end_to_end_exits_without_hanging(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "data")
    os.mkfifo(root / "cat" / "stuck.png")
    outcome = evaluate(root, tmp_path)  # run_inspector fails the test if its timeout is hit
    assert_user_error(outcome, "stuck.png", "regular file")
    assert outcome.seconds < 60


def test_special_files_as_the_dataset_are_refused(tmp_path: Path) -> None:
    refused("/dev/zero", "/dev/zero", "character device")
    for name in ("test_batch", "pipe.npz"):
        os.mkfifo(tmp_path / name)
        timer = _rescue(tmp_path / name)
        try:
            refused(tmp_path / name, name, "named pipe")
        finally:
            timer.cancel()


def test_root_of_the_file_system_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(InspectorError):
        open_dataset("/")
    assert time.monotonic() - started < 10


def test_deep_trees_are_not_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = image_folder(tmp_path / "data")
    deep = root / "cat" / "nested"
    for i in range(30):
        deep = deep / str(i)
    deep.mkdir(parents=True)
    listed: list[str] = []
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda p: listed.append(str(p)) or real_scandir(p))
    refused(root, str(root / "cat" / "nested"), "ROOT/<class>/<image>")
    assert set(listed) <= {str(root), str(root / "cat"), str(root / "dog")}, listed


def test_entry_and_image_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = image_folder(tmp_path / "data", n=5)
    for i in range(20):
        (root / "dog" / f"notes{i}.txt").write_text("x")
    monkeypatch.setenv("INSPECTOR_MAX_FOLDER_ENTRIES", "20")
    refused(root, "more than 20 entries", "INSPECTOR_MAX_FOLDER_ENTRIES")
    monkeypatch.delenv("INSPECTOR_MAX_FOLDER_ENTRIES")
    monkeypatch.setenv("INSPECTOR_MAX_FOLDER_IMAGES", "9")
    refused(root, "more than 9 images", "INSPECTOR_MAX_FOLDER_IMAGES")
    monkeypatch.setenv("INSPECTOR_MAX_FOLDER_IMAGES", "10")
    assert open_dataset(str(root)).info.size == 10


def test_symlinks_leaving_the_folder_are_refused_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = image_folder(tmp_path / "data")
    outside = image_folder(tmp_path / "elsewhere")
    (root / "cat" / "inside.png").symlink_to(root / "dog" / "0.png")
    assert open_dataset(str(root)).info.size == 5  # a link within the folder is fine
    (root / "cat" / "stolen.png").symlink_to(outside / "dog" / "1.png")
    refused(root, "stolen.png", "outside the dataset folder", "INSPECTOR_FOLLOW_SYMLINKS=1")
    monkeypatch.setenv("INSPECTOR_FOLLOW_SYMLINKS", "1")
    assert open_dataset(str(root)).info.size == 6
    monkeypatch.delenv("INSPECTOR_FOLLOW_SYMLINKS")
    (root / "cat" / "stolen.png").unlink()
    (root / "bird").symlink_to(outside / "cat", target_is_directory=True)
    refused(root, "bird", "outside the dataset folder")


def test_unrelated_links_and_files_are_left_alone(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "data")
    (root / "README").symlink_to("/etc/hostname")  # never opened: not a class folder
    (root / "cat" / "notes.txt").symlink_to("/etc/hostname")  # not an image
    os.mkfifo(root / "cat" / "control")  # not an image name either
    ds = open_dataset(str(root))
    assert ds.info.size == 4 and ds.info.class_names == ("cat", "dog")


def test_cifar_and_mnist_folders_refuse_links_leaving_them(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0]}
    (elsewhere / "batch").write_bytes(pickle.dumps(batch, protocol=2))
    (elsewhere / "labels").write_bytes(idx(0x801, (1,)) + bytes(1))
    cifar_dir, mnist_dir = tmp_path / "c", tmp_path / "m"
    cifar_dir.mkdir()
    (cifar_dir / "test_batch").symlink_to(elsewhere / "batch")
    refused(cifar_dir, "test_batch", "outside the dataset folder")
    mnist_pair(mnist_dir, gzip.compress(idx(0x803, (1, 2, 2)) + bytes(4)), b"")
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    (mnist_dir / "t10k-labels-idx1-ubyte").symlink_to(elsewhere / "labels")
    refused(mnist_dir, "t10k-labels-idx1-ubyte", "outside the dataset folder")
    refused(mnist_dir / "t10k-images-idx3-ubyte.gz", "outside the dataset folder")
