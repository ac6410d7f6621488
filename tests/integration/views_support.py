"""Read models built for a test where its events are kept: a file of their own on SQLite, a schema of their own on
the PostgreSQL server (so every projection test runs on both databases)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cli.bootstrap import Services
from projections.base import Projection
from projections.runner import DEFAULT_PAGE_SIZE, ProjectionRunner


def runner_at(services: Services, path: Path, projections: Sequence[Projection],
              page_size: int = DEFAULT_PAGE_SIZE) -> ProjectionRunner:
    """A runner of `projections` over `services`' events: in the SQLite file `path`, or, on a PostgreSQL store, in
    the server's schema named after that file (`views_<stem>`)."""
    url = services.settings.store
    if url is None:
        return ProjectionRunner(path, services.ledger, projections, page_size=page_size)
    from adapters.postgres_views import PostgresViews

    schema = "views_" + re.sub(r"[^a-z0-9_]", "_", path.stem.lower())
    return ProjectionRunner(PostgresViews(url, services.ledger, schema=schema), services.ledger, projections,
                            page_size=page_size)
