"""The composition root: settings → database, bus, consumers, the sender, gRPC servicers.

Migrations ship inside the package (``notifications/migrations/``, Alembic's
script folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.grpc_api import SERVICE_NAME, NoticeApi
from notifications.models import BUS, NODE_PATHS
from notifications.notices.access import AccessSource, CachedAccess, IdentityAccess
from notifications.notices.delivery import Delivery
from notifications.notices.intake import Intake
from notifications.notices.service import Notices
from notifications.preferences.service import Directory, Preferences
from notifications.settings import NotificationsSettings
from notifications.streams import streams
from simfleet.notifications.v1 import notices_pb2_grpc
from simfleet_runtime import nodepaths
from simfleet_runtime.auth import JwksCache, JwksFetcher, TokenVerifier, grpc_jwks_fetcher
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.bus import Event
from simfleet_runtime.grpc_server import Channels
from simfleet_runtime.mail import SmtpSender
from simfleet_runtime.revocations import Revocations
from simfleet_runtime.service import ServiceRuntime
from simfleet_subjects import BillingSubjects, IdentitySubjects, InventorySubjects, TicketingSubjects

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

USERS_SUBJECT = "simfleet.identity.user.>"
"""Users created, disabled, enabled and their grants revised."""

CONSUMERS: tuple[tuple[str, str, str], ...] = (
    ("notifications-sign-ins", IdentitySubjects.STREAM, IdentitySubjects.SIGN_IN_RECORDED),
    ("notifications-tickets", TicketingSubjects.STREAM, TicketingSubjects.TICKET_EVENTS),
    ("notifications-operations", InventorySubjects.STREAM, InventorySubjects.OPERATION_FINISHED),
    ("notifications-limits", BillingSubjects.STREAM, BillingSubjects.LIMIT_REACHED),
    ("notifications-funds", BillingSubjects.STREAM, BillingSubjects.ACCOUNT_EXHAUSTED),
    ("notifications-payments", BillingSubjects.STREAM, BillingSubjects.PAYMENT_RECEIVED),
)
"""The events notices are made of: (durable, stream, subject)."""
GROUPED = {"notifications-sign-ins": 32}
"""Consumers whose events come by the dozen and mostly tell nobody (every sign-in of every user, each its own
transaction before): up to this many in one transaction. Their events name their one user, so the access asked
ahead of the transaction (``Intake.before``, run for a group's first event only) is not needed for them."""


@dataclass(frozen=True)
class Notifications:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    preferences: Preferences
    intake: Intake
    delivery: Delivery
    access: CachedAccess
    paths: nodepaths.ProjectedNodePaths


def build(
    settings: NotificationsSettings, *, jwks: JwksFetcher | None = None, access: AccessSource | None = None
) -> Notifications:
    """Wire the service; ``jwks`` and ``access`` replace the calls to identity (tests)."""
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock = runtime.db, runtime.clock
    channels = Channels()
    runtime.on_stop(channels.close)

    def identity_channel() -> Any:
        return channels.get(settings.identity_target, default_timeout=settings.identity_timeout_seconds)

    async def identity_jwks() -> Any:
        return await grpc_jwks_fetcher(identity_channel())()

    paths = nodepaths.ProjectedNodePaths(db=db, table=NODE_PATHS, clock=clock)
    runtime.add_consumer(
        name="notifications-node-paths",
        stream=nodepaths.STREAM,
        subject=nodepaths.SUBJECTS,
        handler=paths.handler(),
    )
    cached = CachedAccess(
        access
        or IdentityAccess(
            identity_channel,
            operator_key=settings.identity_operator_key.get_secret_value(),
            timeout=settings.identity_timeout_seconds,
        ),
        clock=clock,
        seconds=settings.access_cache_seconds,
    )
    directory = Directory(clock=clock)

    async def on_user_event(session: AsyncSession, event: Event) -> None:
        cached.on_identity_event(event)
        await directory.handle(session, event)

    runtime.add_consumer(
        name="notifications-users", stream=IdentitySubjects.STREAM, subject=USERS_SUBJECT, handler=on_user_event
    )
    preferences = Preferences(db=db, clock=clock, default_language=settings.default_language)
    delivery = Delivery(
        db=db,
        clock=clock,
        outbox=runtime.outbox,
        preferences=preferences,
        mail=SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        ),
        sms_sender=settings.sms_sender,
        window=settings.grouping_window_seconds,
        interval=settings.sender_interval_seconds,
        batch=settings.sender_batch,
        email_max_attempts=settings.email_max_attempts,
        email_retry_seconds=settings.email_retry_seconds,
    )
    intake = Intake(
        db=db,
        clock=clock,
        preferences=preferences,
        paths=paths,
        access=cached,
        on_accepted=delivery.accepted,
    )
    for name, stream, subject in CONSUMERS:
        runtime.add_consumer(
            name=name,
            stream=stream,
            subject=subject,
            handler=intake.handle,
            before=intake.before,
            group_handler=intake.handle_group if name in GROUPED else None,
            group_size=GROUPED.get(name, 1),
        )
    runtime.add_task("sender", delivery.run)

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
        notices_pb2_grpc.add_NoticeServiceServicer_to_server,
        NoticeApi(preferences=preferences, notices=Notices(db=db), authorizer=authorizer),
        SERVICE_NAME,
    )
    return Notifications(runtime, preferences, intake, delivery, cached, paths)


async def serve(settings: NotificationsSettings) -> None:
    notifications = build(settings)
    notifications.runtime.setup_telemetry()
    await notifications.runtime.run()


async def migrate(settings: NotificationsSettings) -> None:
    notifications = build(settings)
    await notifications.runtime.migrate()
    await notifications.runtime.db.dispose()
