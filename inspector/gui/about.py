"""The window's two message boxes: About (what the tool is, where it computes, every
version in use) and the error dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from inspector import __version__
from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel
from inspector.core.results import library_versions


def _version_of(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def about_text(device: str, models: list[LoadedModel]) -> str:
    """The About box's body: what the tool is, where it computes, and every version."""
    import torch

    from inspector.core.devices import resolve_device, usable_cores

    try:
        default = str(resolve_device(device))
    except InspectorError:
        default = f"{device} (not available)"
    devices = sorted({m.info.device for m in models}) or [default]
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none found (CPU only)"
    providers = sorted({p for m in models for p in m.info.providers})
    used, cores = torch.get_num_threads(), usable_cores()
    threads = f"{used} of {cores} cores" + (", one left to the window" if used < cores else "")
    rows = [("Device in use", ", ".join(devices)), ("GPU", gpu), ("CPU threads", threads)]
    if providers:
        rows.append(("ONNX Runtime providers in use", ", ".join(providers)))
    rows += list(library_versions().items())
    rows += [(name, _version_of(name)) for name in ("PySide6", "pyqtgraph", "superqt", "captum")]
    cells = "".join(
        f'<tr><td style="padding-right:14px;color:gray">{k}</td><td>{v}</td></tr>' for k, v in rows
    )
    return (
        f"<h3>Robustness Inspector {__version__}</h3>"
        "<p>How an image classifier behaves under adversarial attack: clean and adversarial "
        "predictions, boundary errors, and the clean/robust tradeoff over ε.</p>"
        "<p>Attack-based robust accuracy is an <i>upper bound</i> on the true robust "
        "accuracy: a stronger attack can only lower it.</p>"
        f"<table>{cells}</table>"
    )


def open_about_box(parent: QWidget, device: str, models: list[LoadedModel]) -> QMessageBox:
    """Versions and the device in use: what a bug report or an audit needs to cite."""
    box = QMessageBox(parent)
    box.setObjectName("aboutBox")
    box.setWindowTitle("About Robustness Inspector")
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(device, models))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box


def open_error_box(parent: QWidget, message: str, details: str = "") -> QMessageBox:
    """A window-modal dialog that does not block the event loop."""
    box = QMessageBox(
        QMessageBox.Icon.Critical,
        "Robustness Inspector",
        message,
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("errorDialog")
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote names from hostile files
    if details:
        box.setDetailedText(details)
    box.open()
    return box
