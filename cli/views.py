"""Bringing the read models up to date before a query, with a progress bar for long catch-ups."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from projections.runner import ProjectionRunner

QUIET_LAG = 20_000
"""Catch-ups shorter than this many events run without a progress bar."""


def catch_up(views: ProjectionRunner, names: Sequence[str] | None = None, force_bar: bool = False) -> int:
    """Apply what the read models have not seen yet; shows progress on stderr when there is much to do."""
    views.stop_following()  # (what a follower applied meanwhile is then not counted as still to do)
    wanted = [row for row in views.status() if names is None or row["name"] in names]
    total = sum(int(str(row["lag"])) for row in wanted)
    if total < QUIET_LAG and not force_bar and not views.reset:
        return views.catch_up(names=names)
    label = "rebuilding " + ", ".join(views.reset) if views.reset else "updating read models"
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=False,
    ) as progress:
        bar = progress.add_task(label, total=max(total, 1))
        applied = views.catch_up(lambda count: progress.advance(bar, count), names=names)
    views.reset.clear()
    return applied
