"""The window's open dialogs for models and datasets, starting where the last one ended."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

MODEL_SUFFIXES = {".pt2", ".pt", ".ts", ".pth", ".onnx"}
MODEL_FILTER = "Models (*.pt2 *.pt *.ts *.pth *.onnx);;All files (*)"


def ask_model_paths(parent: QWidget, settings: QSettings) -> list[str]:
    """Model files the user picked (none if cancelled); their folder is remembered."""
    start = settings.value("lastModelFolder", "")
    paths, _ = QFileDialog.getOpenFileNames(parent, "Open model", start, MODEL_FILTER)
    for path in paths:
        settings.setValue("lastModelFolder", str(Path(path).parent))
    return list(paths)


def ask_dataset_path(parent: QWidget, settings: QSettings) -> str:
    """A dataset folder the user picked ("" if cancelled); it is remembered."""
    path = QFileDialog.getExistingDirectory(
        parent,
        "Open dataset folder (image folder, CIFAR-10, MNIST)",
        settings.value("lastDataFolder", ""),
    )
    if path:
        settings.setValue("lastDataFolder", path)
    return path


def is_model_file(path: str) -> bool:
    """A dropped file is a model by its suffix; anything else is opened as a dataset."""
    return Path(path).suffix.lower() in MODEL_SUFFIXES
