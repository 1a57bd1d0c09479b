"""The console's FastAPI application (built by the composition root)."""

from __future__ import annotations

from fastapi import FastAPI

from netsim.console import api, pages, problems
from simfleet_runtime.db import Database


def create_app(database: Database) -> FastAPI:
    app = FastAPI(
        title="SIMfleet network simulator console",
        version="1",
        description="What simulated handsets and mailboxes received. Times are ISO 8601 UTC, newest first.",
        # Console reads are tooling, not user requests: no spans (their paths
        # carry phone numbers and addresses) and no FastAPI metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.database = database
    problems.install(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app
