"""The console's FastAPI application (built by the composition root)."""

from __future__ import annotations

from fastapi import FastAPI

from netsim.console import api, hlr, pages, payments, problems, usage
from netsim.hlr.fault_store import FaultStore
from netsim.payments.fault_store import PaymentFaultStore
from netsim.usage.generator import UsageGenerator
from netsim.usage.settings_store import UsageSettingsStore
from simfleet_runtime.db import Database


def create_app(
    database: Database,
    faults: FaultStore,
    usage_settings: UsageSettingsStore,
    usage_generator: UsageGenerator,
    payment_faults: PaymentFaultStore,
) -> FastAPI:
    app = FastAPI(
        title="SIMfleet network simulator console",
        version="1",
        description=(
            "What simulated handsets and mailboxes received, the HLR's subscribers and its fault injection,"
            " the usage generator's settings and counters, the simulated acquirer's payments and faults."
            " Times are ISO 8601 UTC, newest first."
        ),
        # Console reads are tooling, not user requests: no spans (their paths
        # carry phone numbers and addresses) and no FastAPI metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.database = database
    app.state.faults = faults
    app.state.usage_settings = usage_settings
    app.state.usage_generator = usage_generator
    app.state.payment_faults = payment_faults
    problems.install(app)
    app.include_router(api.router)
    app.include_router(hlr.router)
    app.include_router(usage.router)
    app.include_router(payments.router)
    app.include_router(pages.router)
    return app
