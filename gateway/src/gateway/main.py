"""The composition root: settings → telemetry → gRPC channel → app → uvicorn.

:func:`create_app` builds the application (nothing happens at import time).
With ``identity_channel``, ``accounts_channel`` or ``inventory_channel`` given
(tests), the app uses it and leaves it open; otherwise the app opens its
channel to the service's target when it starts and closes it when it stops. :func:`run` is ``python -m gateway``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import grpc
import uvicorn
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from gateway.edge.client_address import ClientAddressResolver
from gateway.edge.conditional import ConditionalGetMiddleware
from gateway.edge.console import ConsoleMiddleware
from gateway.edge.cors import CorsMiddleware
from gateway.edge.docs import install_docs
from gateway.edge.media_type import JsonBodyMiddleware
from gateway.edge.middleware import EdgeMiddleware
from gateway.edge.rate_limit import TokenBucketLimiter
from gateway.openapi import DESCRIPTION, install_openapi
from gateway.operations.router import OPERATIONS_PATH
from gateway.problems import install_problem_handlers
from gateway.routes import register_routers
from gateway.settings import GatewaySettings
from gateway.tickets.attachments import UPLOAD_PATHS
from gateway.upstream.accounts import AccountsStubs, open_accounts_channel
from gateway.upstream.billing import BillingStubs, open_billing_channel
from gateway.upstream.errors import install_rpc_error_handler
from gateway.upstream.identity import IdentityStubs, open_identity_channel
from gateway.upstream.inventory import InventoryStubs, open_inventory_channel
from gateway.upstream.notifications import NotificationsStubs, open_notifications_channel
from gateway.upstream.ticketing import TicketingStubs, open_ticketing_channel
from simfleet_runtime import telemetry
from simfleet_runtime.gctune import tune_gc

log = logging.getLogger(__name__)

SERVICE_NAME = "gateway"
API_VERSION = "1.0.0"


def create_app(
    settings: GatewaySettings,
    identity_channel: grpc.aio.Channel | None = None,
    accounts_channel: grpc.aio.Channel | None = None,
    inventory_channel: grpc.aio.Channel | None = None,
    billing_channel: grpc.aio.Channel | None = None,
    ticketing_channel: grpc.aio.Channel | None = None,
    notifications_channel: grpc.aio.Channel | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened: list[grpc.aio.Channel] = []
        if identity_channel is None:
            opened.append(channel := open_identity_channel(settings))
            app.state.identity = IdentityStubs(channel, timeout=settings.grpc_timeout_seconds)
        if accounts_channel is None:
            opened.append(channel := open_accounts_channel(settings))
            app.state.accounts = AccountsStubs(channel, timeout=settings.grpc_timeout_seconds)
        if inventory_channel is None:
            opened.append(channel := open_inventory_channel(settings))
            app.state.inventory = InventoryStubs(channel, timeout=settings.grpc_timeout_seconds)
        if billing_channel is None:
            opened.append(channel := open_billing_channel(settings))
            app.state.billing = BillingStubs(channel, timeout=settings.grpc_timeout_seconds)
        if ticketing_channel is None:
            opened.append(channel := open_ticketing_channel(settings))
            app.state.ticketing = TicketingStubs(
                channel, timeout=settings.grpc_timeout_seconds, transfer_timeout=settings.attachment_timeout_seconds
            )
        if notifications_channel is None:
            opened.append(channel := open_notifications_channel(settings))
            app.state.notifications = NotificationsStubs(channel, timeout=settings.grpc_timeout_seconds)
        log.info(
            "gateway started",
            extra={
                "identity_target": settings.identity_target,
                "accounts_target": settings.accounts_target,
                "inventory_target": settings.inventory_target,
                "billing_target": settings.billing_target,
                "ticketing_target": settings.ticketing_target,
                "notifications_target": settings.notifications_target,
            },
        )
        try:
            yield
        finally:
            for channel in opened:
                await channel.close(grace=1.0)
            if identity_channel is None:
                app.state.identity = None
            if accounts_channel is None:
                app.state.accounts = None
            if inventory_channel is None:
                app.state.inventory = None
            if billing_channel is None:
                app.state.billing = None
            if ticketing_channel is None:
                app.state.ticketing = None
            if notifications_channel is None:
                app.state.notifications = None
            log.info("gateway stopped")

    app = FastAPI(
        title="SIMfleet API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # The edge middleware makes the server span, the Prometheus metrics and the
        # logs; FastAPI's own OpenTelemetry spans and metrics would duplicate them.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.identity = (
        IdentityStubs(identity_channel, timeout=settings.grpc_timeout_seconds) if identity_channel is not None else None
    )
    app.state.accounts = (
        AccountsStubs(accounts_channel, timeout=settings.grpc_timeout_seconds) if accounts_channel is not None else None
    )
    app.state.inventory = (
        InventoryStubs(inventory_channel, timeout=settings.grpc_timeout_seconds)
        if inventory_channel is not None
        else None
    )
    app.state.billing = (
        BillingStubs(billing_channel, timeout=settings.grpc_timeout_seconds) if billing_channel is not None else None
    )
    app.state.ticketing = (
        TicketingStubs(
            ticketing_channel,
            timeout=settings.grpc_timeout_seconds,
            transfer_timeout=settings.attachment_timeout_seconds,
        )
        if ticketing_channel is not None
        else None
    )
    app.state.notifications = (
        NotificationsStubs(notifications_channel, timeout=settings.grpc_timeout_seconds)
        if notifications_channel is not None
        else None
    )
    app.state.auth_limiter = TokenBucketLimiter(
        per_minute=settings.auth_rate_limit_per_minute,
        burst=settings.auth_rate_limit_burst,
        max_keys=settings.rate_limit_max_clients,
    )
    install_problem_handlers(app)
    install_rpc_error_handler(app)
    register_routers(app)
    install_openapi(app)
    install_docs(app)
    # Outermost last: edge → CORS → gzip → ETag → JSON bodies → console → routes. The ETag
    # is of the JSON itself, and a 304 has no body to compress.
    if settings.web_dir is not None:
        app.add_middleware(ConsoleMiddleware, root=settings.web_dir, routes=app.router.routes)
    app.add_middleware(JsonBodyMiddleware, raw_paths=UPLOAD_PATHS)
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_minimum_bytes)
    app.add_middleware(CorsMiddleware, origins=settings.cors_origins)
    # Added last, so it is the outermost: every answer (CORS preflights too) gets a request id.
    app.add_middleware(
        EdgeMiddleware,
        resolver=ClientAddressResolver(settings.trusted_proxies),
        max_body_bytes=settings.max_body_bytes,
        body_limits={OPERATIONS_PATH: settings.max_operation_body_bytes},
        pattern_limits=[(UPLOAD_PATHS, settings.max_attachment_bytes)],
        access_log=settings.access_log,
    )
    return app


async def serve(settings: GatewaySettings) -> None:
    """Serve until SIGTERM/SIGINT; in-flight requests get ``shutdown_grace_seconds`` to finish."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        timeout_keep_alive=settings.keep_alive_seconds,
        lifespan="on",
    )
    server = uvicorn.Server(config)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # uvicorn installs its own handlers while it serves and, once stopped, raises
        # the signal again against this one: the process then ends normally (exit 0,
        # traces flushed) instead of being killed by the re-raised signal.
        server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    tune_gc(settings.gc_gen0_threshold)
    await server.serve()


def run() -> None:
    settings = GatewaySettings()
    telemetry.setup_logging(SERVICE_NAME, settings.log_level, settings.log_json)
    telemetry.setup_tracing(SERVICE_NAME, settings.environment)
    try:
        asyncio.run(serve(settings))
    finally:
        telemetry.shutdown_tracing()
