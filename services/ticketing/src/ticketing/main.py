"""The composition root: settings → database, bus, use cases, gRPC servicers.

Migrations ship inside the package (``ticketing/migrations/``, Alembic's script
folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from simfleet.ticketing.v1 import forms_pb2_grpc, support_pb2_grpc, tickets_pb2_grpc
from simfleet_runtime import nodepaths
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.auth import JwksCache, JwksFetcher, TokenVerifier, grpc_jwks_fetcher
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.grpc_server import Channels
from simfleet_runtime.revocations import Revocations
from simfleet_runtime.service import ServiceRuntime
from ticketing import metrics
from ticketing.attachments.service import Attachments, Limits
from ticketing.attachments.storage import DatabaseStore
from ticketing.audit_commands import COMMANDS
from ticketing.forms.accounts_client import IDEMPOTENT as ACCOUNTS_READS
from ticketing.forms.accounts_client import AccountsClient
from ticketing.forms.grpc_api import SERVICE_NAME as FORM_SERVICE
from ticketing.forms.grpc_api import FormApi
from ticketing.forms.identity_client import IDEMPOTENT as IDENTITY_READS
from ticketing.forms.identity_client import IdentityClient
from ticketing.forms.service import Forms
from ticketing.models import BUS, NODE_PATHS
from ticketing.settings import TicketingSettings
from ticketing.streams import streams
from ticketing.support.grpc_api import SERVICE_NAME as SUPPORT_SERVICE
from ticketing.support.grpc_api import SupportApi
from ticketing.tickets.grpc_api import SERVICE_NAME as TICKET_SERVICE
from ticketing.tickets.grpc_api import TicketApi
from ticketing.tickets.nodes import node_events
from ticketing.tickets.service import Targets, Tickets

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


class Sweeper:
    """ticketing's clockwork: resolved tickets whose time ran out are closed, uploads no note took (or a crash cut
    off) are deleted, as are the bytes a crash left without their attachment row, and the figures refreshed."""

    def __init__(self, *, tickets: Tickets, attachments: Attachments, interval: float) -> None:
        self._tickets = tickets
        self._attachments = attachments
        self._interval = interval

    async def once(self) -> int:
        """One pass: how many tickets closed themselves."""
        closed = await self._tickets.close_resolved()
        await self._attachments.expire()
        await self._attachments.collect_orphans()
        by_state, overdue = await self._tickets.figures()
        for state, count in by_state.items():
            metrics.TICKETS_BY_STATE.labels(state).set(count)
        for target, count in overdue.items():
            metrics.OVERDUE.labels(target).set(count)
        return closed

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # the next pass tries again
                metrics.SWEEPS.labels("failed").inc()
                log.exception("ticketing's sweep failed; it runs again")
            else:
                metrics.SWEEPS.labels("ok").inc()
                metrics.SWEEP_LAST_SUCCESS.set_to_current_time()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue


@dataclass(frozen=True)
class Ticketing:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    tickets: Tickets
    attachments: Attachments
    paths: nodepaths.ProjectedNodePaths
    authorizer: Authorizer
    revocations: Revocations
    sweeper: Sweeper


def build(settings: TicketingSettings, *, jwks: JwksFetcher | None = None) -> Ticketing:
    """Wire the service; ``jwks`` replaces the call to identity for its keys (tests)."""
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock = runtime.db, runtime.clock
    channels = Channels()
    runtime.on_stop(channels.close)

    def identity_channel() -> Any:
        return channels.get(
            settings.identity_target, default_timeout=settings.identity_timeout_seconds, idempotent=IDENTITY_READS
        )

    async def identity_jwks() -> Any:
        return await grpc_jwks_fetcher(identity_channel())()

    paths = nodepaths.ProjectedNodePaths(db=db, table=NODE_PATHS, clock=clock)
    runtime.add_consumer(
        name="ticketing-node-paths",
        stream=nodepaths.STREAM,
        subject=nodepaths.SUBJECTS,
        handler=node_events(paths, clock),
    )
    trail = AuditTrail(db=db, outbox=runtime.outbox, clock=clock, service="ticketing", commands=COMMANDS)
    runtime.audit = trail
    tickets = Tickets(
        db=db,
        clock=clock,
        outbox=runtime.outbox,
        audit=trail,
        targets=Targets(
            response={k: timedelta(seconds=v) for k, v in settings.response_targets_seconds.items()},
            resolution={k: timedelta(seconds=v) for k, v in settings.resolution_targets_seconds.items()},
        ),
        auto_close_after=settings.auto_close_after,
    )
    attachments = Attachments(
        db=db,
        clock=clock,
        store=DatabaseStore(db),
        audit=trail,
        limits=Limits(max_bytes=settings.attachment_max_bytes, unreferenced_ttl=settings.attachment_waiting_for),
    )
    sweeper = Sweeper(tickets=tickets, attachments=attachments, interval=settings.sweep_interval_seconds)
    runtime.add_task("sweep", sweeper.run)
    verifier = TokenVerifier(
        keys=JwksCache(jwks or identity_jwks, refresh_interval=settings.jwks_refresh_seconds),
        clock=clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    revocations = Revocations(token_lifetime_seconds=settings.access_token_ttl_seconds)
    runtime.add_task("revocations", lambda stop: revocations.follow(lambda: runtime.nats, stop))
    authorizer = Authorizer(verifier=verifier, nodes=paths, revocations=revocations)
    runtime.add_servicer(
        tickets_pb2_grpc.add_TicketServiceServicer_to_server,
        TicketApi(tickets=tickets, attachments=attachments, authorizer=authorizer),
        TICKET_SERVICE,
    )
    runtime.add_servicer(
        support_pb2_grpc.add_SupportServiceServicer_to_server,
        SupportApi(
            tickets=tickets,
            attachments=attachments,
            authorizer=authorizer,
            operator_key=settings.operator_key.get_secret_value(),
        ),
        SUPPORT_SERVICE,
    )
    forms = Forms(
        nodes=AccountsClient(
            lambda: channels.get(
                settings.accounts_target, default_timeout=settings.accounts_timeout_seconds, idempotent=ACCOUNTS_READS
            ),
            timeout=settings.accounts_timeout_seconds,
        ),
        applicants=IdentityClient(identity_channel, timeout=settings.identity_timeout_seconds),
        clock=clock,
    )
    runtime.add_servicer(
        forms_pb2_grpc.add_FormServiceServicer_to_server, FormApi(forms=forms, authorizer=authorizer), FORM_SERVICE
    )
    return Ticketing(runtime, tickets, attachments, paths, authorizer, revocations, sweeper)


async def serve(settings: TicketingSettings) -> None:
    ticketing = build(settings)
    ticketing.runtime.setup_telemetry()
    await ticketing.runtime.run()


async def migrate(settings: TicketingSettings) -> None:
    ticketing = build(settings)
    await ticketing.runtime.migrate()
    await ticketing.runtime.db.dispose()
