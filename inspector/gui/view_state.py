"""The window's selections as plain JSON (saved in audits), and what a saved file lacks."""

from __future__ import annotations

from inspector.core.results import EvaluationResults
from inspector.core.session import Session
from inspector.gui.examples import ExamplesPanel
from inspector.gui.saliency_view import SaliencyControls


def capture_view_state(
    session: Session, examples: ExamplesPanel, saliency: SaliencyControls
) -> dict:
    """The slider's grid point, the table's selections and the saliency controls."""
    return {
        "eps_index": session.eps.index,
        "examples": examples.state(),
        "saliency": saliency.state(),
    }


def restore_view_state(
    state: dict, session: Session, examples: ExamplesPanel, saliency: SaliencyControls
) -> None:
    """Re-apply saved selections (values that no longer fit are ignored); some example is
    always chosen, so the detail panel has something to show."""
    k = state.get("eps_index")
    if isinstance(k, int):
        session.set_eps_index(k)
    if isinstance(state.get("examples"), dict):
        examples.restore_state(state["examples"])
    if isinstance(state.get("saliency"), dict):
        saliency.restore_state(state["saliency"])
    if examples.current_position() is None:
        examples.step(0)


def saved_marks(results: EvaluationResults) -> str:
    """What a saved file is short of: partial (a stopped or interrupted run, a checkpoint),
    or one part of a sharded run."""
    marks = []
    if results.partial:
        marks.append("partial: not every model and ε finished")
    shard = results.shard
    if isinstance(shard, dict) and {"index", "count"} <= shard.keys():
        marks.append(f"part {shard['index']}/{shard['count']} of a sharded run")
    return "; ".join(marks)
