"""The two summary plots of the window: accuracy over ε, and clean vs robust accuracy at one ε.

Both are thin views on `ResultsView`: `refresh()` re-reads it (cheap, items are reused, so it
can run after every finished ε while a run goes on) and `set_eps_index(k)` only moves a marker
or a few points, since it runs on every slider move. Every figure carries the threat model
line, because an attack-based robust accuracy means nothing without it. Colours follow the
widget palette so that light and dark themes both stay legible.

`base` holds what both share; `tradeoff` and `frontier` one plot each.
"""

from inspector.gui.plots.base import CERTIFIED_LABEL, eps_ticks, wrap_segments
from inspector.gui.plots.frontier import FrontierPlot
from inspector.gui.plots.tradeoff import TradeoffPlot

__all__ = ["CERTIFIED_LABEL", "FrontierPlot", "TradeoffPlot", "eps_ticks", "wrap_segments"]
