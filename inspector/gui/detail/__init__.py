"""The detail panel: the chosen example under every model (panel, model column, tiles, plots).

`panel` assembles the columns and follows the session; `column` draws one model;
`saliency_control` asks for saliency maps and routes them to the columns.
"""

from inspector.gui.detail.panel import DetailPanel
from inspector.gui.detail.small_plots import top_classes
from inspector.gui.detail.text import ADV_COLOR, CLEAN_COLOR

__all__ = ["ADV_COLOR", "CLEAN_COLOR", "DetailPanel", "top_classes"]
