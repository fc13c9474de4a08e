"""Dataset layer: built-ins, file formats, subset selection and shape adaptation."""

from __future__ import annotations

import gzip
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.core.data import (
    DatasetInfo,
    ImageDataset,
    adapt,
    builtin,
    cifar,
    image_folder,
    open_dataset,
    stratified_subset,
)
from inspector.core.errors import InspectorError


def load_all(ds: ImageDataset) -> np.ndarray:
    return ds.load(np.arange(ds.info.size))


# --- digits -----------------------------------------------------------------------------


def test_digits_split_sizes_shape_and_range() -> None:
    test, train = open_dataset("digits"), open_dataset("digits:train")
    assert isinstance(test, ImageDataset) and isinstance(test.info, DatasetInfo)
    assert (test.info.size, train.info.size) == (360, 1437)
    assert test.info.kind == "digits" and test.info.shape == (1, 8, 8)
    assert test.info.class_names == tuple(str(i) for i in range(10))
    x = load_all(test)
    assert x.shape == (360, 1, 8, 8) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0  # 0..16 divided by 16
    assert np.allclose(x * 16, np.round(x * 16))  # exactly the 17 grey levels of the source
    assert test.labels.dtype == np.int64 and test.labels.shape == (360,)


def test_digits_split_is_stratified_and_partitions_the_data() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    full = np.bincount(bunch.target, minlength=10)
    test, train = open_dataset("digits:test"), open_dataset("digits:train")
    test_counts = np.bincount(test.labels, minlength=10)
    # stratify=y: every class keeps 20 % of its examples, up to rounding
    assert np.all(np.abs(test_counts - 0.2 * full) <= 1)
    assert np.array_equal(test_counts + np.bincount(train.labels, minlength=10), full)
    rows = np.concatenate([load_all(test), load_all(train)]).reshape(1797, 64) * 16
    labelled = np.column_stack([rows, np.concatenate([test.labels, train.labels])])
    source = np.column_stack([bunch.data, bunch.target])
    assert np.array_equal(np.unique(labelled, axis=0), np.unique(source, axis=0))


def test_digits_is_deterministic_and_default_split_is_test() -> None:
    a, b = open_dataset("digits"), open_dataset("digits:test")
    assert a.info.sha256 == b.info.sha256
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(load_all(a), load_all(b))
    assert open_dataset("digits:train").info.sha256 != a.info.sha256
    with pytest.raises(InspectorError, match="digits:train"):
        open_dataset("digits:validation")


# --- tsipras ----------------------------------------------------------------------------


def test_tsipras_constants() -> None:
    assert builtin.TSIPRAS_D == 63
    assert math.isclose(builtin.TSIPRAS_ETA, 3 / math.sqrt(63))
    assert builtin.tsipras_eta(63) == builtin.TSIPRAS_ETA
    assert builtin.TSIPRAS_PIXEL_SCALE == 0.1
    assert math.isclose(builtin.TSIPRAS_WEAK_FLIP_EPS, 0.0756, abs_tol=1e-4)
    assert math.isclose(builtin.TSIPRAS_STRONG_FLIP_EPS, 0.1)
    assert math.isclose(builtin.pixel_eps_to_z(0.05), 0.5)


def test_tsipras_defaults_and_spec_parsing() -> None:
    ds = open_dataset("tsipras")
    assert ds.info.size == 1000 and ds.info.shape == (1, 8, 8)
    assert ds.info.class_names == ("-1", "+1") and ds.info.kind == "tsipras"
    assert builtin.parse_tsipras_spec("") == builtin.TsiprasParams(1000, 0.9, 0, "test")
    params = builtin.parse_tsipras_spec(" n=50 , p=0.75,seed=7,split=train")
    assert params == builtin.TsiprasParams(50, 0.75, 7, "train")
    for bad in (
        "tsipras:q=1",
        "tsipras:n=0",
        "tsipras:p=1.5",
        "tsipras:n=ten",
        "tsipras:split=val",
    ):
        with pytest.raises(InspectorError):
            open_dataset(bad)


def test_tsipras_deterministic_by_seed() -> None:
    a, b = open_dataset("tsipras:n=300,seed=5"), open_dataset("tsipras:n=300,seed=5")
    assert np.array_equal(load_all(a), load_all(b)) and np.array_equal(a.labels, b.labels)
    assert a.info.sha256 == b.info.sha256
    for other in ("tsipras:n=300,seed=6", "tsipras:n=300,seed=5,split=train"):
        c = open_dataset(other)
        assert not np.array_equal(load_all(a), load_all(c))
        assert c.info.sha256 != a.info.sha256


def test_tsipras_statistics_match_the_distribution() -> None:
    n, p = 20000, 0.8
    ds = open_dataset(f"tsipras:n={n},p={p},seed=1")
    z = builtin.pixels_to_z(load_all(ds).reshape(n, 64))
    y = ds.labels * 2 - 1
    # labels uniform: sd of the fraction is 0.5/sqrt(n) = 0.0035; allow 5 sd
    assert abs(ds.labels.mean() - 0.5) < 5 * 0.5 / math.sqrt(n)
    # z1 is exactly +-1 and agrees with y with probability p (sd sqrt(p(1-p)/n) = 0.0028)
    assert np.allclose(np.abs(z[:, 0]), 1.0, atol=1e-5)
    agree = np.mean(np.sign(z[:, 0]) == y)
    assert abs(agree - p) < 5 * math.sqrt(p * (1 - p) / n)
    # weak features ~ N(eta*y, 1): y*z has mean eta; n*63 values give sd 1/sqrt(n*63) = 0.0009
    weak = z[:, 1:] * y[:, None]
    tol = 5 / math.sqrt(weak.size)
    assert abs(weak.mean() - builtin.TSIPRAS_ETA) < tol
    assert abs(weak.std() - 1.0) < 0.01
    for sign in (-1, 1):
        rows = z[y == sign, 1:]
        assert abs(rows.mean() - sign * builtin.TSIPRAS_ETA) < 5 / math.sqrt(rows.size)


def test_tsipras_pixel_mapping_and_adversary_thresholds() -> None:
    params = builtin.TsiprasParams(n=500, p=0.9, seed=2)
    z, y = builtin.generate_tsipras_z(params)
    ds = builtin.open_tsipras("tsipras", params)
    x = load_all(ds).reshape(500, 64)
    assert np.array_equal(x, np.clip(0.5 + z / 10, 0, 1).astype(np.float32))
    assert np.array_equal(ds.labels, (y + 1) // 2)
    assert np.allclose(x[:, 0], 0.5 + 0.1 * z[:, 0])  # z1 first in row-major order, at 0.4/0.6
    assert np.allclose(np.abs(x[:, 0] - 0.5), 0.1)
    # an L-inf step of WEAK_FLIP_EPS pixels against y turns every weak mean from +eta to -eta
    shifted = builtin.pixels_to_z(x - builtin.TSIPRAS_WEAK_FLIP_EPS * y[:, None])
    assert (shifted[:, 1:] * y[:, None]).mean() == pytest.approx(
        (z[:, 1:] * y[:, None]).mean() - 2 * builtin.TSIPRAS_ETA, abs=1e-5
    )
    # z1 keeps its sign under any budget below 0.1 pixels
    moved = x[:, 0] - 0.099 * np.sign(x[:, 0] - 0.5)
    assert np.array_equal(np.sign(moved - 0.5), np.sign(x[:, 0] - 0.5))


# --- image folder -----------------------------------------------------------------------


def _gray(h: int, w: int, offset: int) -> np.ndarray:
    return ((np.arange(h * w).reshape(h, w) * 7 + offset) % 256).astype(np.uint8)


def make_gray_folder(root: Path) -> dict[str, np.ndarray]:
    """dog/ (2 images) and cat/ (1 image, .PNG in capitals), 5x6 grayscale PNGs."""
    arrays = {
        "cat/a.PNG": _gray(5, 6, 0),
        "dog/b.png": _gray(5, 6, 50),
        "dog/c.png": _gray(5, 6, 99),
    }
    for rel, arr in arrays.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(arr, mode="L").save(root / rel)
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / ".hidden.png").write_bytes(b"junk")
    return arrays


def test_image_folder_grayscale(tmp_path: Path) -> None:
    arrays = make_gray_folder(tmp_path)
    ds = open_dataset(str(tmp_path))
    assert ds.info.kind == "image-folder" and ds.info.class_names == ("cat", "dog")
    assert ds.info.shape == (1, 5, 6) and ds.info.size == 3
    assert ds.labels.tolist() == [0, 1, 1]
    x = load_all(ds)
    expected = np.stack([arrays[k] for k in ("cat/a.PNG", "dog/b.png", "dog/c.png")]) / 255.0
    assert np.allclose(x[:, 0], expected, atol=1e-6)
    assert np.array_equal(ds.load(np.array([2, 0])), x[[2, 0]])


def test_image_folder_mixed_is_rgb(tmp_path: Path) -> None:
    make_gray_folder(tmp_path)
    rgb = np.zeros((5, 6, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 30
    (tmp_path / "eel").mkdir()
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "eel" / "x.jpg", quality=95)
    ds = open_dataset(str(tmp_path))
    assert ds.info.shape == (3, 5, 6) and ds.info.class_names == ("cat", "dog", "eel")
    x = load_all(ds)
    assert np.allclose(x[3].mean(axis=(1, 2)), [200 / 255, 100 / 255, 30 / 255], atol=0.03)
    assert np.array_equal(x[0, 0], x[0, 1]) and np.array_equal(x[0, 1], x[0, 2])  # gray repeated


def test_image_folder_load_opens_only_requested_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_gray_folder(tmp_path)
    ds = open_dataset(str(tmp_path))
    opened: list[str] = []
    real_open = Image.open

    def counting_open(fp, *args, **kwargs):
        opened.append(Path(fp).name)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", counting_open)
    ds.load(np.array([1]))
    assert opened == ["b.png"]
    ds.load(np.array([2, 0]))
    assert opened == ["b.png", "c.png", "a.PNG"]


def test_image_folder_hash_is_lazy_and_tracks_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_gray_folder(tmp_path)
    calls: list[int] = []
    real = image_folder.sha256_files
    monkeypatch.setattr(image_folder, "sha256_files", lambda *a: calls.append(1) or real(*a))
    ds = open_dataset(str(tmp_path))
    assert calls == []
    first = ds.info.sha256
    assert calls == [1] and ds.info.sha256 == first and calls == [1]
    assert open_dataset(str(tmp_path)).info.sha256 == first
    Image.fromarray(_gray(5, 6, 1), mode="L").save(tmp_path / "dog" / "c.png")
    assert open_dataset(str(tmp_path)).info.sha256 != first


def test_image_folder_errors(tmp_path: Path) -> None:
    make_gray_folder(tmp_path)
    Image.fromarray(_gray(7, 6, 0), mode="L").save(tmp_path / "dog" / "d.png")
    with pytest.raises(InspectorError, match="resize"):
        open_dataset(str(tmp_path))
    (tmp_path / "dog" / "d.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InspectorError, match=r"cannot read image .*d\.png"):
        open_dataset(str(tmp_path))
    (tmp_path / "dog" / "d.png").unlink()
    with pytest.raises(InspectorError, match="suffix"):
        open_dataset(f"{tmp_path}:train")


def test_folder_of_empty_class_folders_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(InspectorError, match="no dataset found"):
        open_dataset(str(tmp_path))


# --- npz --------------------------------------------------------------------------------


def test_npz_uint8_nchw(tmp_path: Path) -> None:
    x = np.random.default_rng(0).integers(0, 256, size=(4, 3, 5, 6), dtype=np.uint8)
    np.savez(
        tmp_path / "d.npz", x=x, y=np.array([0, 2, 1, 2]), class_names=np.array(["a", "b", "c"])
    )
    ds = open_dataset(str(tmp_path / "d.npz"))
    assert ds.info.kind == "npz" and ds.info.shape == (3, 5, 6) and ds.info.size == 4
    assert ds.info.class_names == ("a", "b", "c")
    assert np.array_equal(load_all(ds), x.astype(np.float32) / 255)
    assert ds.labels.tolist() == [0, 2, 1, 2] and ds.labels.dtype == np.int64


def test_npz_float_nhwc_and_nhw(tmp_path: Path) -> None:
    x = np.random.default_rng(1).random((3, 4, 5, 3))
    np.savez(tmp_path / "hwc.npz", x=x, y=np.array([1, 0, 1]))
    ds = open_dataset(str(tmp_path / "hwc.npz"))
    assert ds.info.shape == (3, 4, 5) and ds.info.class_names == ("0", "1")
    assert np.allclose(load_all(ds), x.transpose(0, 3, 1, 2), atol=1e-7)
    np.savez(tmp_path / "hw.npz", x=x[..., 0].astype(np.float32), y=np.array([0, 0, 3]))
    ds = open_dataset(str(tmp_path / "hw.npz"))
    assert ds.info.shape == (1, 4, 5) and ds.info.class_names == ("0", "1", "2", "3")
    assert np.array_equal(load_all(ds)[:, 0], x[..., 0].astype(np.float32))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"x": np.full((2, 1, 4, 4), 2.0), "y": np.array([0, 1])}, r"\[2, 2\].*divide by 255"),
        ({"x": np.full((2, 1, 4, 4), -0.5), "y": np.array([0, 1])}, r"\[-0\.5, -0\.5\]"),
        ({"x": np.zeros((2, 1, 4, 4))}, "no 'y' array"),
        ({"images": np.zeros((2, 1, 4, 4)), "y": np.array([0, 1])}, "no 'x' array"),
        ({"x": np.zeros((2, 1, 4, 4)), "y": np.array([0, -1])}, "negative label"),
        ({"x": np.zeros((2, 1, 4, 4)), "y": np.array([0.0, 1.0])}, "integer"),
        ({"x": np.zeros((2, 1, 4, 4)), "y": np.array([0, 1, 1])}, "2 images but 3 labels"),
        ({"x": np.zeros((2, 5, 4, 4)), "y": np.array([0, 1])}, "C = 1 or 3"),
        ({"x": np.zeros((2, 1, 4, 4), np.int32), "y": np.array([0, 1])}, "uint8"),
        ({"x": np.zeros((0, 1, 4, 4)), "y": np.zeros(0, np.int64)}, "no examples"),
        ({"x": np.zeros((2, 1, 4, 4)), "y": np.array([0, 1], dtype=object)}, "Python objects"),
    ],
)
def test_npz_errors(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InspectorError, match=message):
        open_dataset(str(tmp_path / "bad.npz"))


def test_npz_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(InspectorError, match="cannot read"):
        open_dataset(str(tmp_path / "bad.npz"))


# --- CIFAR-10 ---------------------------------------------------------------------------


def _batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def _dump(path: Path, obj: object, protocol: int = 2) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def make_cifar_dir(root: Path, meta: bool = True) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Like cifar-10-batches-py: bytes keys, protocol 2, labels as a list."""
    root.mkdir(parents=True, exist_ok=True)
    batches = {"test_batch": _batch(4, 0)} | {f"data_batch_{i}": _batch(2, i) for i in range(1, 6)}
    for name, (data, labels) in batches.items():
        record = {b"batch_label": name.encode(), b"labels": labels, b"data": data,
                  b"filenames": [f"{i}.png".encode() for i in range(len(labels))]}  # fmt: skip
        _dump(root / name, record)
    if meta:
        names = [f"class{i}".encode() for i in range(10)]
        _dump(root / "batches.meta", {b"label_names": names, b"num_vis": 3072})
    return batches


def test_cifar_dir_test_and_train(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    batches = make_cifar_dir(folder)
    test = open_dataset(str(folder))
    assert test.info.kind == "cifar10" and test.info.shape == (3, 32, 32) and test.info.size == 4
    assert test.info.class_names == tuple(f"class{i}" for i in range(10))
    data, labels = batches["test_batch"]
    x = load_all(test)
    assert np.array_equal(x, data.reshape(4, 3, 32, 32).astype(np.float32) / 255)
    assert x[1, 2, 0, 5] == pytest.approx(data[1, 2 * 1024 + 5] / 255)  # CHW row order
    assert test.labels.tolist() == labels
    train = open_dataset(f"{folder}:train")
    assert train.info.size == 10
    expected = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert np.array_equal(load_all(train), expected.reshape(10, 3, 32, 32) / np.float32(255))
    assert open_dataset(f"{folder}:test").info.sha256 == test.info.sha256 != train.info.sha256
    assert open_dataset(str(tmp_path)).info.size == 4  # parent of cifar-10-batches-py


def test_cifar_single_file_default_names_and_other_encodings(tmp_path: Path) -> None:
    make_cifar_dir(tmp_path, meta=False)
    ds = open_dataset(str(tmp_path / "data_batch_3"))
    assert ds.info.size == 2 and ds.info.class_names == cifar.CIFAR10_CLASS_NAMES
    data, labels = _batch(3, 9)
    # numpy 1.x files name numpy.core.multiarray; re-saved files may use str keys, protocol 5
    raw = pickle.dumps({b"data": data, b"labels": labels}, protocol=2)
    (tmp_path / "np1").write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    _dump(tmp_path / "p5", {"data": data, "labels": np.array(labels)}, protocol=5)
    for name in ("np1", "p5"):
        ds = open_dataset(str(tmp_path / name))
        assert np.array_equal(load_all(ds), data.reshape(3, 3, 32, 32) / np.float32(255))
        assert ds.labels.tolist() == labels


class _Evil:
    def __init__(self, call: object, args: tuple) -> None:
        self.call, self.args = call, args

    def __reduce__(self) -> tuple:
        return self.call, self.args


@pytest.mark.parametrize("target", ["test_batch", "batches.meta"])
@pytest.mark.parametrize("how", ["system", "open", "eval"])
def test_cifar_malicious_pickle_is_refused(tmp_path: Path, target: str, how: str) -> None:
    folder = tmp_path / "cifar"
    make_cifar_dir(folder)
    marker = tmp_path / "MARKER"
    payload = {
        "system": _Evil(os.system, (f"touch {marker}",)),
        "open": _Evil(open, (str(marker), "w")),
        "eval": _Evil(eval, (f"open({str(marker)!r}, 'w')",)),
    }[how]
    data, labels = _batch(1, 0)
    _dump(folder / target, {b"data": data, b"labels": labels, b"label_names": payload})
    with pytest.raises(InspectorError, match="refusing"):
        open_dataset(str(folder))
    assert not marker.exists()


def test_cifar_errors(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    make_cifar_dir(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(InspectorError, match="data_batch_3"):
        open_dataset(f"{folder}:train")
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": 1}, protocol=2)[:-5])
    with pytest.raises(InspectorError, match="cannot read CIFAR batch"):
        open_dataset(str(folder))
    _dump(folder / "test_batch", {b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]})
    with pytest.raises(InspectorError, match="3072"):
        open_dataset(str(folder))
    _dump(folder / "test_batch", {b"data": np.zeros((0, 3072), np.uint8), b"labels": []})
    with pytest.raises(InspectorError, match="no examples"):
        open_dataset(str(folder))
    _dump(folder / "test_batch", {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]})
    with pytest.raises(InspectorError, match="label 10 is out of range for 10 classes"):
        open_dataset(str(folder))


# --- MNIST ------------------------------------------------------------------------------


def _idx(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def make_mnist(
    folder: Path, prefix: str, n: int, gz: bool, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, magic, array in (("images-idx3", 0x803, images), ("labels-idx1", 0x801, labels)):
        raw = _idx(magic, array)
        name = f"{prefix}-{kind}-ubyte" + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(raw) if gz else raw)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_dir_and_file(tmp_path: Path, gz: bool) -> None:
    test_x, test_y = make_mnist(tmp_path, "t10k", 5, gz, seed=0)
    train_x, train_y = make_mnist(tmp_path, "train", 7, gz, seed=1)
    ds = open_dataset(str(tmp_path))
    assert ds.info.kind == "mnist" and ds.info.shape == (1, 28, 28) and ds.info.size == 5
    assert ds.info.class_names == tuple(str(i) for i in range(10))
    assert np.array_equal(load_all(ds)[:, 0], test_x / np.float32(255))
    assert np.array_equal(ds.labels, test_y.astype(np.int64))
    train = open_dataset(f"{tmp_path}:train")
    assert train.info.size == 7 and np.array_equal(train.labels, train_y)
    assert np.array_equal(load_all(train)[:, 0], train_x / np.float32(255))
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    single = open_dataset(str(tmp_path / name))
    assert single.info.size == 7 and np.array_equal(single.labels, train_y)


def test_mnist_errors(tmp_path: Path) -> None:
    make_mnist(tmp_path, "t10k", 5, False, seed=0)
    images = tmp_path / "t10k-images-idx3-ubyte"
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    good = images.read_bytes()
    images.write_bytes(good[:-10])
    with pytest.raises(InspectorError, match="truncated"):
        open_dataset(str(tmp_path))
    images.write_bytes(struct.pack(">I", 0x801) + good[4:])
    with pytest.raises(InspectorError, match="magic"):
        open_dataset(str(tmp_path))
    images.write_bytes(good)
    labels.write_bytes(_idx(0x801, np.zeros(4, np.uint8)))
    with pytest.raises(InspectorError, match=r"5 images but .* 4 labels"):
        open_dataset(str(tmp_path))
    with pytest.raises(InspectorError, match="train"):
        open_dataset(f"{tmp_path}:train")
    labels.unlink()
    with pytest.raises(InspectorError, match="labels"):
        open_dataset(str(images))


# --- open_dataset ---------------------------------------------------------------------


def test_missing_and_unknown_paths(tmp_path: Path) -> None:
    with pytest.raises(InspectorError, match=r"dataset not found: .*expected digits, tsipras"):
        open_dataset(str(tmp_path / "nope"))
    with pytest.raises(InspectorError, match="dataset not found"):
        open_dataset(f"{tmp_path / 'nope'}:train")
    with pytest.raises(InspectorError, match="no dataset given"):
        open_dataset("  ")
    with pytest.raises(InspectorError, match=r"no dataset found in .*CIFAR-10.*MNIST"):
        open_dataset(str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InspectorError, match="cannot tell what"):
        open_dataset(str(tmp_path / "notes.txt"))


def test_path_with_colon_is_not_split(tmp_path: Path) -> None:
    odd = tmp_path / "a:train"
    np.savez(odd, x=np.zeros((1, 1, 2, 2), np.uint8), y=np.array([0]))
    assert open_dataset(str(odd) + ".npz").info.size == 1


# --- stratified_subset ------------------------------------------------------------------


def _counts(labels: np.ndarray, idx: np.ndarray) -> list[int]:
    return np.bincount(labels[idx], minlength=labels.max() + 1).tolist()


def test_stratified_subset_all_when_no_or_large_limit() -> None:
    labels = np.array([0, 1, 1, 2])
    for limit in (None, 4, 100):
        idx = stratified_subset(labels, limit, seed=0)
        assert idx.dtype == np.int64 and idx.tolist() == [0, 1, 2, 3]


def test_stratified_subset_proportions() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    np.random.default_rng(0).shuffle(labels)
    idx = stratified_subset(labels, 10, seed=3)
    assert idx.dtype == np.int64 and np.all(np.diff(idx) > 0)  # sorted, unique
    assert _counts(labels, idx) == [5, 3, 2]
    # quotas 3.5, 1, 0.5: the spare one goes to class 0 (tie broken by class index), then
    # class 2 gets its guaranteed example from the largest class
    tie = np.repeat([0, 1, 2], [7, 2, 1])
    assert _counts(tie, stratified_subset(tie, 5, seed=0)) == [3, 1, 1]
    rare = np.repeat([0, 1, 2], [98, 1, 1])
    assert _counts(rare, stratified_subset(rare, 10, seed=0)) == [8, 1, 1]
    few = np.repeat([0, 1, 2], [5, 5, 5])
    assert len(stratified_subset(few, 2, seed=0)) == 2
    assert max(_counts(few, stratified_subset(few, 2, seed=0))) == 1


def test_stratified_subset_deterministic_by_seed() -> None:
    labels = open_dataset("digits").labels
    a, b = stratified_subset(labels, 100, seed=1), stratified_subset(labels, 100, seed=1)
    assert np.array_equal(a, b) and len(a) == 100
    assert not np.array_equal(a, stratified_subset(labels, 100, seed=2))
    assert all(c in (9, 10, 11) for c in _counts(labels, a))  # 35..37 per class of 360
    with pytest.raises(InspectorError, match="positive"):
        stratified_subset(labels, 0, seed=0)


# --- adapt ------------------------------------------------------------------------------


def test_adapt_same_shape_is_identity() -> None:
    ds = open_dataset("digits")
    assert adapt(ds, (1, 8, 8)) is ds


def test_adapt_gray_to_rgb_upsampled() -> None:
    ds = open_dataset("digits")
    big = adapt(ds, (3, 32, 32))
    assert big.info.shape == (3, 32, 32) and "resized 1x8x8 -> 3x32x32" in big.info.spec
    assert big.info.size == 360 and big.info.sha256 == ds.info.sha256
    assert np.array_equal(big.labels, ds.labels)
    x = big.load(np.arange(10))
    assert x.shape == (10, 3, 32, 32) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert np.array_equal(x[:, 0], x[:, 1]) and np.array_equal(x[:, 1], x[:, 2])
    # bilinear upsampling keeps the mean brightness close to the source's
    assert np.allclose(
        x.mean(axis=(1, 2, 3)), ds.load(np.arange(10)).mean(axis=(1, 2, 3)), atol=0.03
    )


def test_adapt_rgb_to_gray_downsampled(tmp_path: Path) -> None:
    x = np.zeros((2, 3, 8, 8), dtype=np.float32)
    x[0, 0] = 1.0  # pure red
    x[1] = np.indices((8, 8)).sum(axis=0) % 2  # checkerboard in every channel
    np.savez(tmp_path / "rgb.npz", x=x, y=np.array([0, 1]))
    small = adapt(open_dataset(str(tmp_path / "rgb.npz")), (1, 4, 4))
    assert small.info.shape == (1, 4, 4) and "RGB to gray" in small.info.spec
    out = small.load(np.array([0, 1]))
    assert out.shape == (2, 1, 4, 4)
    assert np.allclose(out[0], 0.299, atol=1e-6)  # luminance of red, constant after resizing
    assert np.allclose(out[1], 0.5, atol=0.02)  # the checkerboard averages out (edges +-0.01)
    assert small.load(np.array([], dtype=np.int64)).shape == (0, 1, 4, 4)


def test_adapt_refuses_bad_shapes() -> None:
    ds = open_dataset("digits")
    with pytest.raises(InspectorError, match="channels"):
        adapt(ds, (2, 8, 8))
    with pytest.raises(InspectorError, match="positive"):
        adapt(ds, (1, 0, 8))
