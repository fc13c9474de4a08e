"""Drawing: the PDF report (`pdf`), the Pillow saliency figure, palettes and image conversion.

Above `inspector.reporting` (it lays out what a report says) and the core; below the
window and the command line, which both draw through it.
"""
