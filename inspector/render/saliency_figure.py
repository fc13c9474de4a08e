"""A saliency figure drawn with Pillow alone (no Qt, no matplotlib), for scripts and reports.

One row per model: the image, its saliency overlay, the adversarial image, its overlay,
and a colour bar in the map's true units, with the model's predictions and scores beside
the row; the method, target and threat model are written above, the caveat below.
Images are enlarged by an integer factor with nearest neighbour, so pixels stay pixels.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inspector.core.saliency.display import colormap

MARGIN, GAP, LABEL_WIDTH, BAR_WIDTH, BAR_TEXT = 16, 10, 250, 14, 70
CELL_TARGET = 128  # images are enlarged to about this size (integer factor)
TEXT, MUTED, BACKGROUND = (20, 20, 20), (90, 90, 90), (255, 255, 255)
# Outline of the object's pixels: sky blue on inferno, black on the green-white-magenta map.
OUTLINE = {False: (0x56, 0xB4, 0xE9), True: (0, 0, 0)}
FONT_SIZE, TITLE_SIZE = 13, 16
_FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
_ASCII = {"ε": "eps", "∞": "inf", "·": "-", "−": "-", "δ": "delta", "σ": "sigma", "≤": "<="}
_ASCII.update({"→": "->", "…": "...", "×": "x"})


@dataclass
class FigureRow:
    """One model's row: images as C×H×W in [0, 1], overlays as H×W×3 uint8."""

    title: str
    lines: list[str]
    image: np.ndarray
    overlay: np.ndarray
    scale: float
    signed: bool
    adv_image: np.ndarray | None = None
    adv_overlay: np.ndarray | None = None
    outline: np.ndarray | None = None  # H×W bool: the object's pixels, outlined on the maps


@dataclass
class Figure:
    header: list[str]
    rows: list[FigureRow]
    footer: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = ("image", "saliency", "adversarial", "saliency (adversarial)")


def cell_size(height: int, width: int) -> int:
    """Side of a cell: the image enlarged by the largest integer factor fitting CELL_TARGET."""
    longest = max(height, width)
    return longest * max(1, CELL_TARGET // longest)


def layout_size(figure: Figure, cell: int) -> tuple[int, int]:
    """Width and height of the figure in pixels (text wraps to the width, so it is fixed)."""
    n_cols = 4 if any(r.adv_image is not None for r in figure.rows) else 2
    width = 2 * MARGIN + LABEL_WIDTH + n_cols * (cell + GAP) + BAR_WIDTH + BAR_TEXT
    fonts = _fonts()
    header = _wrapped_height(figure.header, width, fonts, first_title=True)
    footer = _wrapped_height(figure.footer, width, fonts, first_title=False)
    rows = len(figure.rows) * (_row_height(figure, cell) + GAP)
    return width, MARGIN + header + GAP + fonts.line + rows + footer + MARGIN


def render(figure: Figure) -> Image.Image:
    """Draw the figure; its size is `layout_size`."""
    first = figure.rows[0].image
    cell = cell_size(first.shape[1], first.shape[2])
    width, height = layout_size(figure, cell)
    n_cols = 4 if any(r.adv_image is not None for r in figure.rows) else 2
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw, fonts = ImageDraw.Draw(canvas), _fonts()
    y = MARGIN + _draw_wrapped(draw, figure.header, MARGIN, MARGIN, width, fonts, True)
    y += GAP
    x0 = MARGIN + LABEL_WIDTH
    for i, name in enumerate(figure.columns[:n_cols]):
        draw.text((x0 + i * (cell + GAP), y), _text(name, fonts), font=fonts.small, fill=MUTED)
    y += fonts.line
    for row in figure.rows:
        _draw_row(canvas, draw, row, y, cell, fonts)
        y += _row_height(figure, cell) + GAP
    _draw_wrapped(draw, figure.footer, MARGIN, y, width, fonts, False)
    return canvas


def save_png(figure: Figure, path: str | Path) -> tuple[int, int]:
    """Render and write atomically; returns the size."""
    from inspector.core.atomic import atomic_open

    image = render(figure)
    with atomic_open(path, "wb") as handle:
        image.save(handle, format="PNG")
    return image.size


def _draw_row(canvas, draw, row: FigureRow, y: int, cell: int, fonts) -> None:
    room = LABEL_WIDTH - GAP
    draw.text(
        (MARGIN, y), _elide(_text(row.title, fonts), room, fonts.bold), font=fonts.bold, fill=TEXT
    )
    for j, line in enumerate(row.lines):
        ty = y + fonts.title_line + j * fonts.line
        text = _elide(_text(line, fonts), room, fonts.small)
        draw.text((MARGIN, ty), text, font=fonts.small, fill=MUTED)
    x = MARGIN + LABEL_WIDTH
    tiles = [_grey_or_rgb(row.image), row.overlay]
    if row.adv_image is not None and row.adv_overlay is not None:
        tiles += [_grey_or_rgb(row.adv_image), row.adv_overlay]
    for i, tile in enumerate(tiles):
        canvas.paste(_enlarge(tile, cell), (x, y))
        if row.outline is not None and i % 2 == 1:  # the saliency tiles
            _draw_outline(draw, row.outline, x, y, cell, OUTLINE[row.signed])
        x += cell + GAP
    _draw_bar(canvas, draw, x, y, cell, row, fonts)


def _draw_bar(canvas, draw, x: int, y: int, cell: int, row: FigureRow, fonts) -> None:
    """A vertical colour bar, top = +scale, labelled in the map's units."""
    ramp = np.linspace(1.0, -1.0 if row.signed else 0.0, cell, dtype=np.float32)
    bar = np.repeat(colormap(ramp, row.signed)[:, None, :], BAR_WIDTH, axis=1)
    canvas.paste(Image.fromarray(bar, "RGB"), (x, y))
    draw.rectangle((x, y, x + BAR_WIDTH - 1, y + cell - 1), outline=MUTED)
    top = f"{'+' if row.signed else ''}{row.scale:.3g}"
    labels = [(0, top), (cell - fonts.line, f"−{row.scale:.3g}" if row.signed else "0")]
    if row.signed:
        labels.append(((cell - fonts.line) // 2, "0"))
    for dy, text in labels:
        draw.text((x + BAR_WIDTH + 4, y + dy), _text(text, fonts), font=fonts.small, fill=TEXT)


def _draw_outline(draw, mask: np.ndarray, x: int, y: int, cell: int, colour) -> None:
    """Lines along every pixel edge where the mask changes, and along the tile's border."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    fy, fx = cell / h, cell / w
    padded = np.pad(mask, 1)
    rows, cols = np.nonzero(padded[1:, 1:-1] != padded[:-1, 1:-1])  # horizontal edges
    for r, c in zip(rows, cols, strict=True):
        yy = min(y + round(r * fy), y + cell - 1)
        draw.line((x + round(c * fx), yy, x + round((c + 1) * fx) - 1, yy), fill=colour)
    rows, cols = np.nonzero(padded[1:-1, 1:] != padded[1:-1, :-1])  # vertical edges
    for r, c in zip(rows, cols, strict=True):
        xx = min(x + round(c * fx), x + cell - 1)
        draw.line((xx, y + round(r * fy), xx, y + round((r + 1) * fy) - 1), fill=colour)


def _row_height(figure: Figure, cell: int) -> int:
    fonts = _fonts()
    lines = max(len(r.lines) for r in figure.rows)
    return max(cell, fonts.title_line + lines * fonts.line)


def _grey_or_rgb(image: np.ndarray) -> np.ndarray:
    img = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0.0, 1.0)
    rgb = np.repeat(img[:1], 3, axis=0) if img.shape[0] != 3 else img
    return np.rint(np.moveaxis(rgb, 0, -1) * 255.0).astype(np.uint8)


def _enlarge(pixels: np.ndarray, cell: int) -> Image.Image:
    image = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    if image.size == (cell, cell):
        return image
    return image.resize((cell, cell), Image.Resampling.NEAREST)


# --- text -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fonts:
    small: ImageFont.FreeTypeFont | ImageFont.ImageFont
    bold: ImageFont.FreeTypeFont | ImageFont.ImageFont
    title: ImageFont.FreeTypeFont | ImageFont.ImageFont
    unicode: bool  # False: the fallback font has no ε, ∞: text is spelled in ASCII
    line: int = FONT_SIZE + 5
    title_line: int = TITLE_SIZE + 6


@lru_cache(maxsize=1)
def _fonts() -> _Fonts:
    """DejaVu Sans (system or matplotlib's copy) for ε and ∞; Pillow's own font otherwise."""
    regular, bold = (_find_font(name) for name in _FONT_FILES)
    if regular is None:
        default = ImageFont.load_default(size=FONT_SIZE)
        return _Fonts(default, default, ImageFont.load_default(size=TITLE_SIZE), False)
    bold = bold or regular
    return _Fonts(
        ImageFont.truetype(str(regular), FONT_SIZE),
        ImageFont.truetype(str(bold), FONT_SIZE),
        ImageFont.truetype(str(bold), TITLE_SIZE),
        True,
    )


def _find_font(name: str) -> Path | None:
    candidates = [Path("/usr/share/fonts/truetype/dejavu") / name]
    spec = importlib.util.find_spec("matplotlib")  # located, not imported
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(root / "mpl-data" / "fonts" / "ttf" / name)
    return next((c for c in candidates if c.is_file()), None)


def _text(text: str, fonts: _Fonts) -> str:
    if fonts.unicode:
        return text
    return "".join(_ASCII.get(ch, ch) for ch in text)


def _elide(text: str, width: int, font) -> str:
    """Cut text that does not fit `width` pixels, ending it with an ellipsis."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, width: int, font) -> list[str]:
    words, lines, current = text.split(" "), [], ""
    for word in words:
        trial = f"{current} {word}".strip()
        if current and font.getlength(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current]


def _wrapped_lines(texts: list[str], width: int, fonts: _Fonts, first_title: bool):
    usable = width - 2 * MARGIN
    for i, text in enumerate(texts):
        title = first_title and i == 0
        font = fonts.title if title else fonts.small
        for line in _wrap(_text(text, fonts), usable, font):
            yield line, font, (fonts.title_line if title else fonts.line), title


def _wrapped_height(texts: list[str], width: int, fonts: _Fonts, first_title: bool) -> int:
    return sum(h for _, _, h, _ in _wrapped_lines(texts, width, fonts, first_title))


def _draw_wrapped(draw, texts, x: int, y: int, width: int, fonts, first_title: bool) -> int:
    """Draw wrapped lines from (x, y); returns the height used."""
    used = 0
    for line, font, height, title in _wrapped_lines(texts, width, fonts, first_title):
        draw.text((x, y + used), line, font=font, fill=TEXT if title else MUTED)
        used += height
    return used
