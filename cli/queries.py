"""The read side of a home as the `Queries` port: every document a query command or the HTTP API shows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters import outbox_table, quarantine_table, store_url
from adapters.home_files import hive_of
from adapters.home_lock import running_service
from app.ports import Document
from cli.reading import CRISIS, HISTORY, METRICS, STATUS, ReadSide, event_store, reading
from projections import queries
from projections.health import health, open_crises


class HomeQueries:
    """Answers from a home's read models. `fresh`: catch them up first when behind (the command line does; the
    service, which keeps them up to date itself, answers its HTTP clients from them as they stand)."""

    def __init__(self, home: Path | None, fresh: bool = True) -> None:
        self.home = home
        self.fresh = fresh

    def _read(self, needs: Collection[str]) -> Any:
        return reading(self.home, needs if self.fresh else ())

    def tasks(self, level: str | None = None, agent: str | None = None, limit: int | None = None) -> list[Document]:
        with self._read((STATUS,)) as views:
            return [{**row, "emergency": bool(row["emergency"])}
                    for row in queries.tasks(views, level=level, agent=agent, limit=limit)]

    def task(self, task_id: str) -> Document | None:
        with self._read((STATUS, HISTORY)) as views:
            return queries.task_document(views, task_id)

    def agents(self) -> list[Document]:
        with self._read((STATUS,)) as views:
            return queries.agents(views)

    def agent(self, agent_id: str) -> Document | None:
        with self._read((STATUS, HISTORY)) as views:
            return queries.agent_document(views, agent_id)

    def notifications(self, status: str | None = None, limit: int = 50) -> list[Document]:
        with event_store(self.home) as store:
            return [outbox_table.document(row) for row in store.notifications(status, limit)]

    def notification_counts(self) -> dict[str, int]:
        """How many notifications are in each status."""
        with event_store(self.home) as store:
            return store.notification_counts()

    def audit(
        self, task: str | None = None, agent: str | None = None, since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Document]:
        from projections.crisis_queries import episodes

        with self._read((CRISIS,)) as views:
            return episodes(views, task=task, agent=agent, since=since, until=until)

    def crisis_log(self) -> list[Document]:
        """The crisis log lines in the upstream `coordination_crisis_log.json` shape."""
        from projections.crisis_queries import crisis_log_lines

        with self._read((CRISIS,)) as views:
            return list(crisis_log_lines(views))

    def quarantine(self) -> list[Document]:
        with event_store(self.home) as store:
            return [quarantine_table.document(row) for row in store.quarantined()]

    def health(self) -> Document:
        with self._read((STATUS, METRICS)) as views:
            return health_document(views)

    def metrics(self) -> Document:
        """The metrics document."""
        from projections.metrics import metrics

        with self._read((METRICS,)) as views:
            return metrics(views)

    def prometheus(self) -> str:
        from projections.prometheus import prometheus_text

        return prometheus_text(self.metrics())

    def cards(self, task_ids: Collection[str] | None = None, completed_since: datetime | None = None) -> list[Document]:
        from projections import dashboard

        since = None if completed_since is None else completed_since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        with self._read((STATUS, HISTORY)) as views:
            return dashboard.cards(views, task_ids, since)

    def task_events(self, task_id: str) -> list[Document] | None:
        from adapters.event_stream import CoordinationEventConsumer
        from adapters.http.events import as_json, kind_of

        with self._read((STATUS,)) as views:
            row = views.execute("SELECT id FROM task_status WHERE task_id = ?", [task_id]).fetchone()
            if row is None:
                return None
            home = views.home
        return [{**as_json(event), "event": kind_of(event)}
                for event in CoordinationEventConsumer(home).aggregate_events(row[0])]

    def response_times(self, limit: int = 2_000) -> list[Document]:
        from projections import dashboard

        with self._read((METRICS,)) as views:
            return dashboard.response_times(views, limit)

    def position(self) -> int:
        from projections import dashboard

        with self._read(()) as views:
            return dashboard.position(views)


def health_document(views: ReadSide) -> Document:
    """The health indicators of the home whose read side is `views`."""
    service = running_service(views.home)
    located = hive_of(views.home)
    sharing = None if located is None else running_service(located[0])
    if located is not None and sharing is not None and "hives" in sharing:  # the home's coordinator shares hives
        service = {**sharing, "standby": located[1] not in sharing["hives"]}
    document = health(
        views,
        events_recorded=views.max_notification_id() or 0,
        projection_lag=views.lag(),
        quarantined=views.store.quarantine_count(),
        crises=open_crises(views),
        service=service,
    )
    document["http"] = None if service is None else service.get("http")
    document["writer"] = views.store.writer()
    try:
        stores = store_url.hive_stores(views.home)
    except ValueError:  # the configuration says what is wrong where it is loaded
        stores = {}
    if stores:  # a store shared out in hives: who writes each
        document["hives"] = views.store.hives(stores)
    return document
