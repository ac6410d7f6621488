"""The escalation rulebook drawn from its own `transitions` machine (transitions' diagram support): Mermaid text
always, SVG or PNG when Graphviz is installed."""

from __future__ import annotations

from typing import Any, Literal

from domain.rulebook import RULEBOOK

TITLE = "Escalation rulebook"


class DiagramUnavailable(RuntimeError):
    """The picture cannot be drawn here (Graphviz is missing); the message says what to install."""


def _moves() -> list[dict[str, Any]]:
    """Every transition the rulebook's machine holds, with its conditions, read from the machine."""
    return [{"trigger": name, "source": transition.source, "dest": transition.dest,
             "conditions": [condition.func for condition in transition.conditions]}
            for name, event in RULEBOOK.events.items()
            for transitions in event.transitions.values() for transition in transitions
            if transition.dest is not None]


def _graph(engine: Literal["graphviz", "mermaid"]) -> Any:
    from transitions.extensions import GraphMachine

    class Drawn:
        """Stands in for an aggregate: the diagram machine needs a model to draw."""

    machine = GraphMachine(model=Drawn(), states=list(RULEBOOK.states), transitions=_moves(),
                           initial=RULEBOOK.initial, auto_transitions=False, graph_engine=engine, title=TITLE,
                           show_conditions=True)
    styles: Any = machine.style_attributes
    styles["node"]["active"] = styles["node"]["default"]  # the picture is of the rules: no state is current
    return machine.get_graph(force_new=True)


def mermaid() -> str:
    """The rulebook as a Mermaid state diagram (no state is marked as current)."""
    text: str = _graph("mermaid").draw(None)
    return text if text.endswith("\n") else text + "\n"


def picture(image_format: str) -> bytes:
    """The rulebook as an `svg` or `png` image drawn by Graphviz (`DiagramUnavailable` when it is missing)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("graphviz") is None or shutil.which("dot") is None:
        raise DiagramUnavailable("drawing an image needs Graphviz: `apt-get install graphviz` and "
                                 "`pip install graphviz` (Mermaid text needs nothing: --diagram mermaid)")
    graph = _graph("graphviz")
    data: bytes = graph.draw(None, format=image_format, prog="dot")
    return data
