"""The verdict rule and the frontier's geometry: values, not that code ran."""

from __future__ import annotations

import pytest

from inspector.reporting.verdict import (
    FRAGILE,
    NO_ROBUSTNESS,
    NOT_EVALUATED,
    NOT_INFORMATIVE,
    SOME_ROBUSTNESS,
    kept_share,
    verdict,
)


@pytest.mark.parametrize(
    ("clean", "robust", "eps", "classes", "warnings", "level"),
    [
        (0.98, 0.097, 0.15, 10, (), NO_ROBUSTNESS),  # keeps 9.9 % of its clean accuracy
        (0.98, 0.098, 0.15, 10, (), FRAGILE),  # exactly 10 %: not under it
        (0.96, 0.47, 0.15, 10, (), FRAGILE),
        (0.96, 0.48, 0.15, 10, (), SOME_ROBUSTNESS),  # exactly half
        (0.967, 0.647, 0.15, 10, (), SOME_ROBUSTNESS),
        (0.96, 0.71, 0.15, 10, ("more steps and restarts",), NOT_INFORMATIVE),
        (0.96, 0.0, 0.15, 10, ("x", "y"), NOT_INFORMATIVE),  # a warning outranks the numbers
        (0.96, None, 0.15, 10, (), NOT_EVALUATED),
        (0.96, 0.96, 0.0, 10, (), NOT_INFORMATIVE),  # ε = 0 tests nothing
        (0.15, 0.15, 0.1, 10, (), NOT_INFORMATIVE),  # 1.5 × chance
        (0.16, 0.15, 0.1, 10, (), SOME_ROBUSTNESS),  # just above it
        (0.15, 0.15, 0.1, 0, (), SOME_ROBUSTNESS),  # class count unknown: no chance test
        (0.0, 0.0, 0.1, 10, (), NOT_INFORMATIVE),
    ],
)
def test_verdict_levels(clean, robust, eps, classes, warnings, level):
    assert verdict(clean, robust, eps, classes, warnings).level == level


def test_verdict_reasons_quote_the_figures():
    v = verdict(0.981, 0.097, 0.15, 10)
    assert v.text == (
        "no robustness: at ε = 0.15 robust accuracy ≤ 0.097 keeps 9.9 % of clean accuracy "
        "0.981: the attack breaks almost every example"
    )
    some = verdict(0.967, 0.647, 0.15, 10)
    assert "keeps 66.9 % of clean accuracy 0.967" in some.reason
    assert "upper bound" in some.reason
    warned = verdict(0.96, 0.71, 0.15, 10, ("more steps and restarts",))
    assert warned.reason == (
        "the sanity check \u201cmore steps and restarts\u201d warns, so the robust accuracy "
        "may be too optimistic"
    )
    two = verdict(0.96, 0.71, 0.15, 10, ("a", "b"))
    assert "the sanity checks \u201ca\u201d, \u201cb\u201d warn," in two.reason
    assert verdict(0.12, 0.1, 0.1, 10).reason == (
        "clean accuracy 0.120 is near chance (0.100 for 10 classes)"
    )
    assert kept_share(0.0, 0.0) == 0.0 and kept_share(0.5, 0.25) == 0.5


def test_frontier_axes_zoom_to_the_data_with_margins():
    from inspector.render.pdf.frontier import diagonal_segment, nice_ticks, zoomed

    lo, hi = zoomed([0.961, 0.967, 0.981])  # the demo's clean accuracies
    assert lo == pytest.approx(0.971 - 0.02 - 0.0032) and hi == pytest.approx(0.971 + 0.0232)
    assert hi - lo == pytest.approx(0.0464)  # a twentieth of the old 0-1 axis
    assert zoomed([0.0, 0.98]) == pytest.approx((-0.02, 1.02))  # clipped to the limits
    assert zoomed([0.995, 1.0]) == pytest.approx((1.02 - 0.0464, 1.02))  # shifted, not cut
    assert nice_ticks(lo, hi) == [0.95, 0.96, 0.97, 0.98, 0.99]
    assert nice_ticks(-0.02, 1.02) == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the diagonal robust = clean is drawn where both ranges hold it, else not at all
    assert diagonal_segment((-0.02, 1.02), (lo, hi)) == pytest.approx((lo, hi))
    assert diagonal_segment((0.0, 0.5), (0.9, 1.0)) is None


def test_frontier_labels_cover_no_marker_and_no_other_label(qapp):
    from PySide6.QtCore import QPointF, QRectF, QSizeF

    from inspector.render.pdf.frontier import place_labels

    # three points in a row, close together (as on a zoomed axis), labels wider than the gaps
    anchors = [QPointF(100 + 30 * i, 200) for i in range(3)] + [QPointF(130, 230)]
    obstacles = [QRectF(a.x() - 13, a.y() - 13, 26, 26) for a in anchors]
    sizes = [QSizeF(160, 30)] * len(anchors)
    bounds = QRectF(0, 0, 1000, 1000)
    boxes = place_labels(anchors, sizes, obstacles, bounds)
    for i, box in enumerate(boxes):
        assert bounds.contains(box)
        assert not any(box.intersects(o) for o in obstacles), i
        assert not any(box.intersects(other) for j, other in enumerate(boxes) if j != i), i
