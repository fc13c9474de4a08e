"""The window's open dialogs for models and datasets, starting where the last one ended."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

MODEL_SUFFIXES = {".pt2", ".pt", ".ts", ".pth", ".onnx"}
MODEL_FILTER = "Models (*.pt2 *.pt *.ts *.pth *.onnx);;All files (*)"
# Every file the CLI's --data accepts (core/data/files.py): CIFAR-10 batches have no suffix.
DATASET_FILTER = (
    "Datasets (*.npz *idx3-ubyte *idx3-ubyte.gz *images.idx3* test_batch data_batch_*);;"
    "NumPy archives (*.npz);;MNIST images (*idx3-ubyte *idx3-ubyte.gz *images.idx3*);;"
    "CIFAR-10 batches (test_batch data_batch_*);;All files (*)"
)
DATASET_FOLDER_TITLE = "Open dataset folder (image folder, CIFAR-10, MNIST)"


def ask_model_paths(parent: QWidget, settings: QSettings) -> list[str]:
    """Model files the user picked (none if cancelled); their folder is remembered."""
    start = settings.value("lastModelFolder", "")
    paths, _ = QFileDialog.getOpenFileNames(parent, "Open model", start, MODEL_FILTER)
    for path in paths:
        settings.setValue("lastModelFolder", str(Path(path).parent))
    return list(paths)


def ask_dataset_file(parent: QWidget, settings: QSettings) -> str:
    """A dataset file (.npz, MNIST images, a CIFAR-10 batch) the user picked, or ""."""
    start = settings.value("lastDataFolder", "")
    path, _ = QFileDialog.getOpenFileName(parent, "Open dataset file", start, DATASET_FILTER)
    if path:
        settings.setValue("lastDataFolder", str(Path(path).parent))
    return path


def ask_dataset_path(parent: QWidget, settings: QSettings) -> str:
    """A dataset folder the user picked ("" if cancelled); it is remembered."""
    start = settings.value("lastDataFolder", "")
    path = QFileDialog.getExistingDirectory(parent, DATASET_FOLDER_TITLE, start)
    if path:
        settings.setValue("lastDataFolder", path)
    return path


def is_model_file(path: str) -> bool:
    """A dropped file is a model by its suffix; anything else is opened as a dataset."""
    return Path(path).suffix.lower() in MODEL_SUFFIXES
