"""Gallery rows: example images (nearest-neighbour enlarged, never smoothed) with captions.

A boundary-error cell shows clean, adversarial, the perturbation δ (amplified, factor
printed over it) and a saliency map when given; a natural-error cell shows the clean image.
Images are enlarged by an integer factor before embedding, so no viewer can blur the pixels
an attack changed; painting uses the lossless hint, so nothing is JPEG-compressed either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from inspector.core.saliency.display import colormap, robust_scale
from inspector.core.threat import format_eps
from inspector.render.images import format_factor, perturbation_image, to_qimage
from inspector.render.pdf.blocks import Block
from inspector.render.pdf.page import FAINT, INK, MUTED, RULE, Context, draw_text, font, mm, pen
from inspector.reporting.gallery import GalleryExample

IMAGE_MM = 17.0  # the smallest an image may be; rows with room enlarge them up to MAX_IMAGE_MM
SALIENCY_IMAGE_MM = 14.0  # with two saliency maps (five images) two cells still fit a row
MAX_IMAGE_MM = 22.0
IMAGE_GAP_MM = 1.6
CELL_GAP_MM = 6.0
TARGET_PX = 200  # embed images at least this many pixels across (≈ 300 dpi at 17 mm)


def enlarged(image: QImage) -> QImage:
    """The image enlarged by the integer factor that makes it at least TARGET_PX across."""
    longest = max(image.width(), image.height(), 1)
    factor = max(1, -(-TARGET_PX // longest))
    if factor == 1:
        return image
    return image.scaled(
        image.width() * factor,
        image.height() * factor,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )


def saliency_image(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """|map| on the window's absolute colour map and robust scale (its own, or `scale`
    shared with the example's other map): 3×H×W in [0, 1]."""
    magnitude = _magnitude(values)
    rgb = colormap(magnitude / (robust_scale(magnitude) if scale is None else scale), signed=False)
    return np.moveaxis(rgb.astype(np.float32) / 255.0, -1, 0)


def _magnitude(values: np.ndarray) -> np.ndarray:
    return np.abs(np.nan_to_num(np.asarray(values, dtype=np.float32)))


def saliency_panels(example: GalleryExample, adversarial: bool) -> list[Panel]:
    """The clean map, and with `adversarial` the adversarial one on the same scale (a panel
    with no map says "no image")."""
    found = [m for m in (example.saliency, example.adv_saliency) if m is not None]
    scale = robust_scale(np.concatenate([_magnitude(m).ravel() for m in found])) if found else 1.0

    def panel(label: str, values: np.ndarray | None) -> Panel:
        return Panel(label, _qimage(None if values is None else saliency_image(values, scale)))

    if not adversarial:
        return [panel("saliency", example.saliency)]
    return [panel("sal. clean", example.saliency), panel("sal. adv.", example.adv_saliency)]


@dataclass(frozen=True)
class Panel:
    label: str
    image: QImage | None


def boundary_panels(
    example: GalleryExample, with_saliency: bool, adversarial_saliency: bool = False
) -> list[Panel]:
    panels = [Panel("clean", _qimage(example.clean_image))]
    if example.adv_image is not None:
        panels.append(Panel("adversarial", _qimage(example.adv_image)))
        if example.clean_image is not None and example.clean_image.shape == example.adv_image.shape:
            delta, factor = perturbation_image(example.adv_image - example.clean_image)
            panels.append(Panel(f"δ ×{format_factor(factor)}", _qimage(delta)))
    if with_saliency:
        panels += saliency_panels(example, adversarial_saliency)
    return panels


def _qimage(array: np.ndarray | None) -> QImage | None:
    return None if array is None else enlarged(to_qimage(array))


def boundary_caption(e: GalleryExample) -> list[str]:
    lines = [
        f"#{e.index} · true {e.true_label}",
        f"clean {e.clean_pred} ({e.clean_conf:.2f}) → adv. {e.adv_pred} ({e.adv_conf:.2f})",
    ]
    breaking = "–" if e.breaking_eps is None else format_eps(e.breaking_eps)
    lines.append(f"breaks at ε = {breaking}" + (f" ({e.broken_by})" if e.broken_by else ""))
    return lines


def natural_caption(e: GalleryExample) -> list[str]:
    return [f"#{e.index} · true {e.true_label}", f"predicted {e.clean_pred} ({e.clean_conf:.2f})"]


@dataclass(frozen=True)
class Cell:
    panels: list[Panel]
    caption: list[str]


def clean_panel(example: GalleryExample) -> Panel:
    return Panel("clean", _qimage(example.clean_image))


def cell_width(cell: Cell, image_mm: float = IMAGE_MM) -> float:
    n = max(1, len(cell.panels))
    return mm(n * image_mm + (n - 1) * IMAGE_GAP_MM)


@dataclass
class GalleryRow(Block):
    """Cells side by side: labels above the images, caption lines below."""

    cells: list[Cell]
    columns: int
    max_image_mm: float = MAX_IMAGE_MM
    min_image_mm: float = IMAGE_MM

    def _line(self, ctx: Context) -> float:
        return ctx.metrics(font("caption")).height()

    def _side(self, width: float) -> float:
        """Image size: as large as the column allows, between IMAGE_MM and MAX_IMAGE_MM."""
        n = max(max(len(c.panels) for c in self.cells), 1)
        pitch = width / self.columns - mm(CELL_GAP_MM)
        fit = (pitch - (n - 1) * mm(IMAGE_GAP_MM)) / n
        least = min(self.min_image_mm, self.max_image_mm)
        return min(max(fit, mm(least)), mm(self.max_image_mm))

    def height(self, ctx: Context, width: float) -> float:
        lines = max(len(c.caption) for c in self.cells)
        return self._line(ctx) * (1 + lines) + self._side(width) + mm(1.2 + CELL_GAP_MM * 0.6)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        pitch, side = width / self.columns, self._side(width)
        for i, cell in enumerate(self.cells):
            left = x + i * pitch
            self._paint_cell(ctx, painter, cell, left, y, pitch - mm(CELL_GAP_MM), side)

    def _paint_cell(self, ctx, painter: QPainter, cell: Cell, x, y, room: float, side: float):
        line, f = self._line(ctx), font("caption")
        for j, panel in enumerate(cell.panels):
            left = x + j * (side + mm(IMAGE_GAP_MM))
            draw_text(painter, QRectF(left, y, side + mm(4), line), panel.label, f, MUTED)
            target = _fit(panel.image, QRectF(left, y + line, side, side))
            if panel.image is None:
                _missing(painter, target)
            else:
                painter.drawImage(target, panel.image)
                painter.setPen(pen(RULE, 0.12))
                painter.drawRect(target)
        top = y + line + side + mm(1.0)
        fm = ctx.metrics(f)
        for k, text in enumerate(cell.caption):
            shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
            draw_text(painter, QRectF(x, top + k * line, room, line), shown, f, INK)


def _fit(image: QImage | None, box: QRectF) -> QRectF:
    """The largest rectangle of the image's aspect ratio in the box, centred at its top."""
    if image is None or image.width() == image.height():
        return box
    scale = min(box.width() / image.width(), box.height() / image.height())
    w, h = image.width() * scale, image.height() * scale
    return QRectF(box.left() + (box.width() - w) / 2, box.top(), w, h)


def _missing(painter: QPainter, rect: QRectF) -> None:
    painter.setPen(pen(FAINT, 0.2))
    painter.drawRect(rect)
    draw_text(painter, rect, "no image", font("caption"), MUTED, Qt.AlignmentFlag.AlignCenter)


def rows_of(
    cells: list[Cell],
    width: float,
    min_cell_mm: float,
    max_image_mm: float = MAX_IMAGE_MM,
    min_image_mm: float = IMAGE_MM,
) -> list[GalleryRow]:
    """As many cells per row as fit the width (each cell its images' or caption's width)."""
    if not cells:
        return []
    widest = max(max(cell_width(c, min_image_mm), mm(min_cell_mm)) for c in cells)
    columns = max(1, int((width + mm(CELL_GAP_MM)) / (widest + mm(CELL_GAP_MM)) + 1e-6))
    return [
        GalleryRow(cells[i : i + columns], columns, max_image_mm, min_image_mm)
        for i in range(0, len(cells), columns)
    ]
