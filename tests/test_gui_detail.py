"""The per-example detail panel and its image helpers, on hand-made sweeps with known values."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QWidget

from inspector.core.data.base import DatasetInfo
from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.models.base import ModelInfo
from inspector.core.sweep import ModelSweep
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.detail import ADV_COLOR, CLEAN_COLOR, DetailPanel, top_classes
from inspector.render.images import (
    NEGATIVE_RGB,
    POSITIVE_RGB,
    perturbation_image,
    to_pixmap,
    to_qimage,
)
from inspector.render.palette import STATUS_COLORS

EPS = (0.0, 0.1, 0.2)
N, SHAPE = 12, (1, 8, 8)
CLASSES = ("plane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BROKEN, ROBUST_POS, WRONG = 3, 5, 7  # positions with a known story (see make_sweep)


class ArrayDataset:
    """The smallest ImageDataset: images in memory, looked up by dataset index."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self._images, self._labels = images, labels
        self.info = DatasetInfo("synthetic", "npz", SHAPE, CLASSES, len(labels), "0" * 64)

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def load(self, indices: np.ndarray) -> np.ndarray:
        return self._images[indices]


def clean_images() -> np.ndarray:
    """Values in [0.3, 0.7]: a ±0.2 perturbation never meets the [0, 1] box."""
    rng = np.random.default_rng(1)
    return rng.uniform(0.3, 0.7, size=(N, *SHAPE)).astype(np.float32)


def checkerboard() -> np.ndarray:
    return np.where(np.indices(SHAPE[1:]).sum(axis=0) % 2 == 0, 1.0, -1.0)[None]


def make_sweep(seed: int, eps_done: int) -> ModelSweep:
    """Example BROKEN flips at ε = 0.1 (to class 8), ROBUST_POS never, WRONG is wrong clean."""
    rng = np.random.default_rng(seed)
    labels = np.arange(N) % len(CLASSES)
    clean_probs = rng.dirichlet(np.ones(len(CLASSES)), size=N).astype(np.float32)
    clean_probs[np.arange(N), labels] += 2.0  # the true class wins clean...
    clean_probs[WRONG, labels[WRONG]] -= 2.0
    clean_probs[WRONG, 0] += 2.0  # ...except for WRONG, predicted as class 0
    clean_probs /= clean_probs.sum(axis=1, keepdims=True)
    adv_probs = np.repeat(clean_probs[:, None], len(EPS), axis=1)
    for k in range(1, eps_done):  # BROKEN: class 8 overtakes the true class from ε = 0.1 on
        adv_probs[BROKEN, k] = np.full(len(CLASSES), 0.02, dtype=np.float32)
        adv_probs[BROKEN, k, 8], adv_probs[BROKEN, k, labels[BROKEN]] = 0.6, 0.24 - 0.1 * k
    adv_probs[:, eps_done:] = 0  # never written by the sweep
    clean = clean_images()
    adv_images = np.repeat(clean[:, None], len(EPS), axis=1)
    for k, eps in enumerate(EPS[:eps_done]):
        adv_images[:, k] += (eps * checkerboard()).astype(np.float32)
    breaking = np.full(N, np.nan)
    breaking[BROKEN] = 0.1 if eps_done > 1 else np.nan
    return ModelSweep(
        eps=EPS,
        indices=np.arange(N) + 100,
        labels=labels,
        clean_pred=clean_probs.argmax(axis=1),
        clean_conf=clean_probs.max(axis=1),
        adv_pred=adv_probs.argmax(axis=2),
        adv_conf=adv_probs.max(axis=2),
        breaking_eps=breaking,
        eps_done=eps_done,
        clean_probs=clean_probs,
        adv_probs=adv_probs,
        adv_images=adv_images.astype(np.float16),
    )


def model_info(name: str) -> ModelInfo:
    return ModelInfo(name, f"{name}.pt", "0" * 64, "state_dict", "cpu", SHAPE, CLASSES, None, None)


def make_view(*, dataset: bool = True) -> ResultsView:
    """Two models: "full" has every ε, "partial" stopped after two (eps_done = 2)."""
    images = np.zeros((N + 100, *SHAPE), dtype=np.float32)
    images[100:] = clean_images()
    labels = np.zeros(N + 100, dtype=np.int64)
    labels[100:] = np.arange(N) % len(CLASSES)
    data = ArrayDataset(images, labels)
    threat = ThreatModel(norm="linf", eps=EPS, attack="pgd", steps=10).with_examples(N)
    view = ResultsView(threat, data.info, [model_info("full"), model_info("partial")])
    view.dataset = data if dataset else None
    view.update(0, make_sweep(0, eps_done=3))
    view.update(1, make_sweep(1, eps_done=2))
    return view


def plain(html: str) -> str:
    """What the user reads: rich text rendered, special spaces made plain."""
    doc = QTextDocument()
    doc.setHtml(html)
    text = doc.toPlainText()
    for special, plain_char in (("\u00a0", " "), ("\u2060", ""), ("\u00ad", ""), ("\n", " ")):
        text = text.replace(special, plain_char)
    return text


def shown_panel(qtbot) -> DetailPanel:
    """A detail panel on make_view(), shown at 420×700 (the fixture here and elsewhere)."""
    widget = DetailPanel()
    qtbot.addWidget(widget)
    widget.resize(420, 700)
    widget.set_view(make_view())
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def panel(qtbot) -> DetailPanel:
    return shown_panel(qtbot)


# --- images.py ---------------------------------------------------------------------------------


def test_to_qimage_grey_values_and_ownership():
    image = np.full((1, 3, 4), 0.5, dtype=np.float32)
    image[0, 0, 0], image[0, 2, 3] = 0.0, 1.0
    qimage = to_qimage(image)
    assert (qimage.width(), qimage.height()) == (4, 3)
    assert qimage.format() == QImage.Format.Format_Grayscale8
    assert QColor(qimage.pixel(1, 1)).red() in (127, 128)
    assert QColor(qimage.pixel(0, 0)).red() == 0
    assert QColor(qimage.pixel(3, 2)).red() == 255
    image[:] = 1.0  # the QImage owns its pixels
    del image
    assert QColor(qimage.pixel(1, 1)).red() in (127, 128)


def test_to_qimage_rgb_and_clipping():
    image = np.zeros((3, 2, 2), dtype=np.float32)
    image[0, 0, 0] = 1.0  # red
    image[2, 1, 1] = 2.0  # blue, out of range: clipped
    image[1, 0, 1] = -1.0
    qimage = to_qimage(image)
    assert QColor(qimage.pixel(0, 0)).getRgb()[:3] == (255, 0, 0)
    assert QColor(qimage.pixel(1, 1)).getRgb()[:3] == (0, 0, 255)
    assert QColor(qimage.pixel(1, 0)).getRgb()[:3] == (0, 0, 0)


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_to_pixmap_integer_nearest_neighbour(qtbot, dpr):
    image = np.random.default_rng(0).uniform(size=(1, 8, 8)).astype(np.float32)
    pixmap = to_pixmap(image, 64, dpr)
    assert pixmap.devicePixelRatio() == dpr
    assert (pixmap.width(), pixmap.height()) == (int(64 * dpr), int(64 * dpr))
    assert pixmap.deviceIndependentSize().width() == pytest.approx(64)
    rendered = pixmap.toImage()
    block = int(8 * dpr)
    source = to_qimage(image)
    for r, c in [(0, 0), (3, 5), (7, 7)]:
        expected = QColor(source.pixel(c, r)).red()
        values = {
            QColor(rendered.pixel(c * block + dx, r * block + dy)).red()
            for dx in range(block)
            for dy in range(block)
        }
        assert values == {expected}  # a uniform block: no smoothing


def test_to_pixmap_fits_the_box_with_an_integer_factor(qtbot):
    image = np.zeros((1, 8, 8), dtype=np.float32)
    assert to_pixmap(image, 100).width() == 96  # factor 12, not a blurry 12.5
    assert to_pixmap(image, 4).width() <= 4  # larger than the box: shrunk to fit


def test_perturbation_image_scale_and_colours():
    delta = np.zeros((1, 2, 2), dtype=np.float32)
    delta[0, 0, 0], delta[0, 1, 1], delta[0, 0, 1] = 0.1, -0.1, 0.05
    image, factor = perturbation_image(delta)
    assert image.shape == (3, 2, 2)
    assert factor == pytest.approx(5.0)  # 0.5 + 5 · 0.1 reaches the end of the range
    np.testing.assert_allclose(image[:, 1, 0], 0.5)  # δ = 0 is mid grey
    np.testing.assert_allclose(image[:, 0, 0], POSITIVE_RGB, atol=1e-6)
    np.testing.assert_allclose(image[:, 1, 1], NEGATIVE_RGB, atol=1e-6)
    np.testing.assert_allclose(image[:, 0, 1], (0.5 + POSITIVE_RGB) / 2, atol=1e-6)


def test_perturbation_image_rgb_and_zero():
    delta = np.zeros((3, 2, 2), dtype=np.float32)
    delta[1, 0, 0] = -0.02
    image, factor = perturbation_image(delta)
    assert factor == pytest.approx(25.0)
    np.testing.assert_allclose(image, 0.5 + 25.0 * delta, atol=1e-6)
    flat, one = perturbation_image(np.zeros((1, 3, 3), dtype=np.float32))
    assert one == 1.0 and np.allclose(flat, 0.5)


# --- detail.py ---------------------------------------------------------------------------------


def test_header_and_statuses(panel):
    panel.show_example(BROKEN, 1)
    header = plain(panel.header.text())
    assert "#103" in header and "cat" in header and "ε = 0.1" in header
    full, partial = panel.columns
    assert "full" in plain(full.name_label.text())
    assert "boundary error" in plain(full.status_label.text())
    assert STATUS_COLORS[BOUNDARY_ERROR] in full.status_label.text()  # colour and text
    assert plain(full.breaking_label.text()) == "breaking ε = 0.1"
    panel.show_example(ROBUST_POS, 2)
    assert "robust" in plain(full.status_label.text())
    assert STATUS_COLORS[ROBUST] in full.status_label.text()
    assert "no flip up to ε = 0.2" in plain(full.breaking_label.text())
    assert "not computed" in plain(partial.status_label.text())  # partial stopped at ε = 0.1
    assert "so far" in plain(partial.breaking_label.text())
    panel.show_example(WRONG, 1)
    assert "natural error" in plain(full.status_label.text())
    assert STATUS_COLORS[NATURAL_ERROR] in full.status_label.text()


def test_images_and_captions(panel):
    panel.show_example(BROKEN, 1)
    column = panel.columns[0]
    np.testing.assert_array_equal(column.clean.view.image, clean_images()[BROKEN])
    expected_adv = make_view().sweep(0).adv_images[BROKEN, 1].astype(np.float32)
    np.testing.assert_array_equal(column.adversarial.view.image, expected_adv)
    assert "clean" in plain(column.clean.caption.text())
    assert "cat ✓" in plain(column.clean.caption.text())
    adv_caption = plain(column.adversarial.caption.text())
    assert "adversarial, ε = 0.1" in adv_caption and "ship ✗" in adv_caption
    delta_caption = plain(column.perturbation.caption.text())
    assert "perturbation δ ×5" in delta_caption and "max |δ| = 0.1" in delta_caption
    pixmap = column.adversarial.view.pixmap()
    assert pixmap is not None and pixmap.width() % 8 == 0  # an integer enlargement
    panel.show_example(BROKEN, 0)  # ε = 0: no perturbation, exactly (no float16 noise)
    assert "δ = 0" in plain(column.perturbation.caption.text())


def test_top5_bars_are_the_probabilities(panel):
    panel.show_example(BROKEN, 1)
    sweep = panel.view.sweep(0)
    column = panel.columns[0]
    clean, adv = sweep.clean_probs[BROKEN], sweep.adv_probs[BROKEN, 1]
    expected = [int(c) for c in np.argsort(-np.maximum(clean, adv), kind="stable")[:5]]
    assert column.bars.classes == expected
    assert {8, 3} <= set(expected)  # the adversarial winner and the true class
    np.testing.assert_allclose(column.bars_clean.opts["width"], clean[expected])
    np.testing.assert_allclose(column.bars_adv.opts["width"], adv[expected])
    assert column.bars_clean.opts["brush"] == CLEAN_COLOR
    assert column.bars_adv.opts["brush"] == ADV_COLOR
    ticks = dict(column.bars.plot.getAxis("left")._tickLevels[0])
    assert ticks[float(expected.index(3))] == "cat ✓"
    assert "automob…" in ticks.values() or 1 not in expected  # long names are elided


def test_top_classes_always_include_the_true_class():
    clean = np.array([0.5, 0.2, 0.1, 0.08, 0.06, 0.04, 0.02])
    assert top_classes(clean, None, label=6) == [0, 1, 2, 3, 6]
    assert top_classes(clean, None, label=1) == [0, 1, 2, 3, 4]
    assert top_classes(np.array([0.7, 0.3]), None, label=1) == [0, 1]


def test_true_class_curve(panel):
    panel.show_example(BROKEN, 1)
    for index, column in enumerate(panel.columns):
        sweep = panel.view.sweep(index)
        x, y = column.true_prob_curve.getData()
        np.testing.assert_allclose(x, EPS[: sweep.eps_done])
        np.testing.assert_allclose(y, sweep.adv_probs[BROKEN, : sweep.eps_done, 3])
        mx, my = column.true_prob_marker.getData()
        assert list(mx) == [0.1] and my[0] == pytest.approx(sweep.adv_probs[BROKEN, 1, 3])
    panel.show_example(BROKEN, 2)  # beyond the partial model's sweep: no marker
    assert len(panel.columns[1].true_prob_marker.getData()[0]) == 0
    assert len(panel.columns[0].true_prob_marker.getData()[0]) == 1


def test_missing_data_shows_grey_text(panel):
    view = make_view(dataset=False)
    sweep = view.sweep(0)
    sweep.adv_images, sweep.adv_probs, sweep.clean_probs = None, None, None
    view.models[1].sweep = None
    panel.set_view(view)
    panel.show_example(BROKEN, 1)
    full, missing = panel.columns
    assert missing.placeholder.isVisible() and not missing.clean.isVisible()
    assert "no results yet" in plain(missing.placeholder.text())
    assert full.clean.view.image is None  # no dataset and no stored images
    assert full.adversarial.view.image is None
    assert "not kept" in full.adversarial.view.message
    assert full.bar_stack.currentIndex() == 1 and full.curve_stack.currentIndex() == 1
    panel.grab()  # paints the placeholders without error
    panel.show_example(N + 5, 1)  # beyond the results
    assert "not in this model" in plain(full.placeholder.text())
    panel.show_example(None, 0)
    assert "no example selected" in plain(full.placeholder.text())
    panel.set_view(None)
    assert panel.columns == []
    panel.show_example(BROKEN, 1)
    assert "No results" in plain(panel.header.text())


def test_eps_not_computed_for_the_partial_model(panel):
    panel.show_example(BROKEN, 2)
    partial = panel.columns[1]
    assert partial.adversarial.view.image is None
    assert "not computed" in partial.adversarial.view.message
    np.testing.assert_allclose(partial.bars_adv.opts["width"], 0)  # no adversarial bars


def test_updates_reuse_widgets_and_are_cheap(panel):
    panel.show_example(0, 0)
    columns = list(panel.columns)
    widgets = set(panel.findChildren(QWidget))
    started = time.perf_counter()
    for i in range(60):
        panel.show_example(i % N, i % len(EPS))
        panel.repaint()
    elapsed = time.perf_counter() - started
    assert panel.columns == columns and set(panel.findChildren(QWidget)) == widgets
    assert elapsed < 3.0  # about 60 slider moves; typically well under a second
    panel.set_view(make_view())  # same number of models: same columns
    assert panel.columns == columns


def test_screenshot(panel, tmp_path):
    panel.show_example(BROKEN, 1)
    path = tmp_path / "detail.png"
    assert panel.grab().save(str(path))
    assert path.stat().st_size > 0


def test_header_says_when_the_table_filters_the_example_out(panel):
    panel.show_example(BROKEN, 1, hidden=True)
    assert "filtered out of the table here" in plain(panel.header.text())
    panel.refresh()  # a new snapshot: still the same example, still filtered out
    assert "filtered out of the table here" in plain(panel.header.text())
    panel.show_example(BROKEN, 1)
    assert "filtered out" not in plain(panel.header.text())
