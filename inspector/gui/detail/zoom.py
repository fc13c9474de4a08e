"""One example, large: clean, adversarial and perturbation side by side at one integer factor.

8×8 digits at about 80 px cannot show which pixels the attack moved; here every image pixel is
a square of `factor` × `factor` screen pixels (nearest neighbour, no smoothing), so what the
user sees is the array itself, with the model's predictions under each image.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QWidget

from inspector.render.images import to_qimage

ZOOM_TARGET = 360  # logical px the longest side aims at; the factor stays an integer
MAX_FACTOR = 64
Entry = tuple[str, np.ndarray | None, str]  # title, C×H×W image in [0, 1], caption (rich text)


def zoom_factor(image: np.ndarray, target: int = ZOOM_TARGET) -> int:
    """The largest integer factor that keeps the image's longest side within `target`."""
    side = max(image.shape[-2:])
    return int(min(max(1, target // max(side, 1)), MAX_FACTOR))


def enlarged(image: np.ndarray, factor: int) -> QPixmap:
    """`image` with each pixel a factor × factor block, pixel-exact (device pixels, no DPR)."""
    qimage = to_qimage(image)
    scaled = qimage.scaled(
        qimage.width() * factor,
        qimage.height() * factor,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )
    return QPixmap.fromImage(scaled)


class ZoomDialog(QDialog):
    """The large view of one example under one model (double-click an image tile)."""

    def __init__(self, title: str, entries: list[Entry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("zoomDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        shown = [image for _, image, _ in entries if image is not None]
        self.factor = min((zoom_factor(image) for image in shown), default=1)
        self.images: list[QLabel] = []
        grid = QGridLayout(self)
        for column, (name, image, caption) in enumerate(entries):
            heading = QLabel(f"<b>{name}</b>")
            picture = QLabel()
            picture.setObjectName(f"zoom_{column}")
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if image is None:
                picture.setText("not available")
            else:
                picture.setPixmap(enlarged(image, self.factor))
            text = QLabel(caption)
            text.setWordWrap(True)
            text.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            for row, widget in enumerate((heading, picture, text)):
                grid.addWidget(widget, row, column, Qt.AlignmentFlag.AlignHCenter)
            self.images.append(picture)
        note = QLabel(f"each image pixel = {self.factor} × {self.factor} screen pixels")
        note.setEnabled(False)
        grid.addWidget(note, 3, 0, 1, max(1, len(entries)))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
