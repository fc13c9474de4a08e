"""File ▸ Open Dataset opens whatever the CLI's --data opens, the same way, off the GUI thread.

Each dataset is built in the test (the builders of test_datasets.py), picked through the
menu as a user would (the file dialogs answered by monkeypatch), and compared with the
CLI's own `open_dataset` on the same spec. Hostile inputs end in one line in one dialog:
no traceback, and no command-line flag (the window's dialogs are worded for the window).
"""

from __future__ import annotations

import fnmatch
import pickle
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
    wait_loaded,
)
from PySide6.QtWidgets import QFileDialog
from test_datasets import make_cifar_dir, make_gray_folder, make_mnist

import inspector.gui.main_window as main_window
from inspector.core.data import open_dataset
from inspector.core.data.builtin import BUILTIN_CHOICES
from inspector.core.errors import InspectorError
from inspector.gui.dataset_menu import BUILTIN_HEADER
from inspector.gui.file_dialogs import DATASET_FILTER
from inspector.gui.main_window import MainWindow

FLAG = re.compile(r"--[a-z]")


def _window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    return window


def _answer_dialogs(monkeypatch, file: str = "", folder: str = "") -> None:
    """The file and folder dialogs return these paths at once (as if the user picked them)."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (file, ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: folder)


def _record_threads(monkeypatch) -> list[bool]:
    """Whether each open_dataset call ran on the GUI thread (it must not)."""
    on_gui: list[bool] = []
    real = main_window.open_dataset

    def spy(spec: str):
        on_gui.append(threading.current_thread() is threading.main_thread())
        return real(spec)

    monkeypatch.setattr(main_window, "open_dataset", spy)
    return on_gui


def _make_npz(tmp_path: Path) -> str:
    x = np.random.default_rng(0).integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)  # NHWC
    np.savez(tmp_path / "imgs.npz", x=x, y=np.array([0, 1, 2, 0, 1, 2]))
    return str(tmp_path / "imgs.npz")


def _make_mnist_file(tmp_path: Path) -> str:
    make_mnist(tmp_path, "t10k", 5, gz=True, seed=0)
    return str(tmp_path / "t10k-images-idx3-ubyte.gz")


def _make_cifar_file(tmp_path: Path) -> str:
    make_cifar_dir(tmp_path)
    return str(tmp_path / "test_batch")


def _make_image_folder(tmp_path: Path) -> str:
    make_gray_folder(tmp_path)
    return str(tmp_path)


def _make_mnist_folder(tmp_path: Path) -> str:
    make_mnist(tmp_path, "t10k", 5, gz=False, seed=0)
    make_mnist(tmp_path, "train", 7, gz=False, seed=1)
    return str(tmp_path)


def _make_cifar_folder(tmp_path: Path) -> str:
    make_cifar_dir(tmp_path / "cifar-10-batches-py")
    return str(tmp_path)  # the folder above the batches, as CIFAR-10's archive unpacks


# kind of pick, builder, the kind and size the CLI reads from it
CASES = {
    "npz": ("file", _make_npz, "npz", 6),
    "mnist-file": ("file", _make_mnist_file, "mnist", 5),
    "cifar-batch": ("file", _make_cifar_file, "cifar10", 4),
    "image-folder": ("folder", _make_image_folder, "image-folder", 3),
    "mnist-folder": ("folder", _make_mnist_folder, "mnist", 5),
    "cifar-folder": ("folder", _make_cifar_folder, "cifar10", 4),
}


def test_the_menu_offers_files_folders_and_every_builtin(qtbot):
    window = _window(qtbot)
    menu = window.dataset_menu
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[0].startswith("&File…") and ".npz" in texts[0] and "CIFAR-10" in texts[0]
    assert texts[1].startswith("F&older…") and texts[2] == BUILTIN_HEADER
    assert texts[3:] == [f"{spec} — {what}" for spec, what in BUILTIN_CHOICES]
    assert [s for s, _ in BUILTIN_CHOICES] == ["digits", "digits:train", "tsipras"]
    assert menu.file_action.shortcut().toString() == "Ctrl+Shift+O"
    assert menu in [a.menu() for a in window.menuBar().actions()[0].menu().actions()]
    window.close()


def test_the_file_dialog_shows_every_dataset_file_the_cli_reads(tmp_path):
    """The dialog's first filter lists each file format by name (CIFAR batches have no suffix)."""
    first = DATASET_FILTER.split(";;")[0]
    patterns = first[first.index("(") + 1 : first.index(")")].split()
    shown = ["imgs.npz", "t10k-images-idx3-ubyte", "train-images-idx3-ubyte.gz",
             "test_batch", "data_batch_3", "t10k-images.idx3-ubyte"]  # fmt: skip
    for name in shown:
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name
    for name in ("t10k-labels-idx1-ubyte", "notes.txt", "net.onnx"):
        assert not any(fnmatch.fnmatch(name, p) for p in patterns), name
    assert DATASET_FILTER.endswith("All files (*)")


def test_the_set_up_panels_button_pops_up_the_same_menu(qtbot):
    window = _window(qtbot)
    window.show()
    qtbot.waitExposed(window)
    window.setup.openDatasetRequested.emit()
    qtbot.waitUntil(window.dataset_menu.isVisible, timeout=2000)
    window.dataset_menu.hide()
    window.close()


@pytest.mark.parametrize("case", list(CASES))
def test_open_dataset_reads_what_the_cli_reads(qtbot, tmp_path, monkeypatch, case):
    pick, build, kind, size = CASES[case]
    path = build(tmp_path)
    _answer_dialogs(monkeypatch, **{pick: path})
    on_gui = _record_threads(monkeypatch)
    window = _window(qtbot)
    menu = window.dataset_menu
    (menu.file_action if pick == "file" else menu.folder_action).trigger()
    wait_loaded(qtbot, window)
    assert window.last_error is None
    assert on_gui == [False]  # opened on the loader's thread
    cli = open_dataset(path)
    opened = window.dataset
    assert opened is not None and opened.info.spec == path
    assert (opened.info.kind, opened.info.size) == (kind, size) == (cli.info.kind, cli.info.size)
    assert opened.info.shape == cli.info.shape and opened.info.class_names == cli.info.class_names
    everything = np.arange(size)
    assert np.array_equal(opened.labels, cli.labels)
    assert np.array_equal(opened.load(everything), cli.load(everything))
    assert window.settings.value("recentDatasets", [], type=list)[0] == path
    window.close()


def test_a_cancelled_dialog_opens_nothing(qtbot, monkeypatch):
    _answer_dialogs(monkeypatch)
    window = _window(qtbot)
    window.dataset_menu.file_action.trigger()
    window.dataset_menu.folder_action.trigger()
    assert not window.loader.busy and window.dataset is None and window.last_error is None
    window.close()


@pytest.mark.parametrize("spec", ["tsipras", "digits:train"])
def test_a_builtin_opens_from_the_menu(qtbot, monkeypatch, spec):
    on_gui = _record_threads(monkeypatch)
    window = _window(qtbot)
    action = next(a for a in window.dataset_menu.builtin_actions if a.text().startswith(spec))
    action.trigger()
    wait_loaded(qtbot, window)
    assert on_gui == [False]
    expected = {
        "tsipras": ("tsipras", 1000, (1, 8, 8)),
        "digits:train": ("digits", 1437, (1, 8, 8)),
    }
    info = window.dataset.info
    assert (info.kind, info.size, info.shape) == expected[spec] and info.spec == spec
    window.close()


# --- hostile files ---------------------------------------------------------------------


def _truncated_npz(tmp_path: Path) -> str:
    full = Path(_make_npz(tmp_path)).read_bytes()
    (tmp_path / "cut.npz").write_bytes(full[: len(full) // 2])
    return str(tmp_path / "cut.npz")


def _truncated_mnist(tmp_path: Path) -> str:
    make_mnist(tmp_path, "t10k", 5, gz=False, seed=0)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[: 16 + 2 * 28 * 28])  # the header says 5 images
    return str(images)


def _truncated_cifar(tmp_path: Path) -> str:
    batch = Path(_make_cifar_file(tmp_path))
    batch.write_bytes(batch.read_bytes()[:200])
    return str(batch)


def _labels_only(tmp_path: Path) -> str:
    make_mnist(tmp_path, "t10k", 5, gz=False, seed=0)
    return str(tmp_path / "t10k-labels-idx1-ubyte")


def _evil_pickle(tmp_path: Path) -> str:
    (tmp_path / "test_batch").write_bytes(pickle.dumps({"a": threading.Thread}, protocol=2))
    return str(tmp_path / "test_batch")


HOSTILE = {
    "truncated-npz": _truncated_npz,
    "truncated-mnist": _truncated_mnist,
    "truncated-cifar": _truncated_cifar,
    "mnist-labels-only": _labels_only,
    "pickle-with-code": _evil_pickle,
}


def _assert_one_line_dialog(window: MainWindow) -> str:
    box = window.last_error
    assert box is not None and box.isVisible()
    text = box.text()
    assert "\n" not in text and text.strip() == text and text
    assert "Traceback" not in text and box.detailedText() == ""
    assert not FLAG.search(text), text  # no command-line flag in a window's dialog
    box.accept()
    return text


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_dataset_is_one_line_in_a_dialog(qtbot, tmp_path, monkeypatch, case):
    path = HOSTILE[case](tmp_path)
    _answer_dialogs(monkeypatch, file=path)
    window = _window(qtbot)
    window.dataset_menu.file_action.trigger()
    wait_loaded(qtbot, window)
    text = _assert_one_line_dialog(window)
    with pytest.raises(InspectorError) as cli:  # the CLI refuses it with the same words
        open_dataset(path)
    assert text == str(cli.value)
    assert window.dataset is None and window.session.status == text
    window.close()


def test_the_cli_limits_hold_in_the_window(qtbot, tmp_path, monkeypatch):
    path = _make_npz(tmp_path)
    monkeypatch.setenv("INSPECTOR_MAX_DATASET_VALUES", "100")  # 6 x 3 x 5 x 4 = 360 values
    _answer_dialogs(monkeypatch, file=path)
    window = _window(qtbot)
    window.dataset_menu.file_action.trigger()
    wait_loaded(qtbot, window)
    text = _assert_one_line_dialog(window)
    assert "360 values, more than the limit of 100" in text
    assert "INSPECTOR_MAX_DATASET_VALUES" in text and window.dataset is None
    window.close()


def _state_dict(tmp_path: Path) -> str:
    path = tmp_path / "weights.pt"
    torch.save({"fc.weight": torch.zeros(10, 64), "fc.bias": torch.zeros(10)}, path)
    return str(path)


def _pickled_module(tmp_path: Path) -> str:
    path = tmp_path / "whole.pt"
    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)), path)
    return str(path)


def _not_a_model(tmp_path: Path) -> str:
    (tmp_path / "net.onnx").write_bytes(b"\x08\x07 not protobuf at all")
    return str(tmp_path / "net.onnx")


@pytest.mark.parametrize("build", [_state_dict, _pickled_module, _not_a_model])
def test_model_dialogs_name_no_flag(qtbot, tmp_path, build):
    window = _window(qtbot)
    window.add_model(build(tmp_path))
    wait_loaded(qtbot, window)
    _assert_one_line_dialog(window)
    assert not window.models
    window.close()


def test_every_dialog_is_one_line_in_the_windows_words(qtbot):
    """show_error is the window's one dialog: it words core errors and joins lines."""
    window = _window(qtbot)
    window.show_error("cannot open evil\nname.npz:\n  bad header")
    assert window.last_error.text() == "cannot open evil name.npz: bad header"
    window.last_error.accept()
    window.close()
