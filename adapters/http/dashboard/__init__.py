"""The live web dashboard, served by the running service beside its API: pages rendered on the server, a little
JavaScript that follows the event stream, and every asset shipped in this package (nothing from the network)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.http.dashboard.render import HERE

STATIC = "/static"


def mount(api: FastAPI) -> None:
    """Serve the dashboard's pages, fragments and assets from `api`."""
    from adapters.http.dashboard import fragments, pages, reports, session

    for router in (session.router, fragments.router, reports.router, pages.router):
        api.include_router(router)
    api.mount(STATIC, StaticFiles(directory=HERE / "static"), name="static")
