"""The composition root: settings → database, bus, use cases, gRPC servicers.

Migrations ship inside the package (``accounts/migrations/``, Alembic's script
folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from accounts.audit.grpc_api import SERVICE_NAME as AUDIT_SERVICE
from accounts.audit.grpc_api import AuditApi
from accounts.audit.service import AuditLog
from accounts.audit_commands import COMMANDS
from accounts.customers.grpc_api import SERVICE_NAME as ADMIN_SERVICE
from accounts.customers.grpc_api import AdminApi
from accounts.customers.identity_client import IdentityClient, NewUser
from accounts.customers.service import CustomerService, UserCreator
from accounts.hierarchy.grpc_api import SERVICE_NAME as HIERARCHY_SERVICE
from accounts.hierarchy.grpc_api import HierarchyApi
from accounts.hierarchy.inventory_client import IDEMPOTENT as INVENTORY_READS
from accounts.hierarchy.inventory_client import InventoryClient
from accounts.hierarchy.service import HierarchyService, Holdings
from accounts.models import BUS
from accounts.settings import AccountsSettings
from accounts.streams import streams
from simfleet.accounts.v1 import admin_pb2_grpc, audit_pb2_grpc, hierarchy_pb2_grpc
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.auth import JwksCache, JwksFetcher, TokenVerifier, grpc_jwks_fetcher
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.bus import each_in_turn
from simfleet_runtime.grpc_server import Channels
from simfleet_runtime.revocations import Revocations
from simfleet_runtime.service import ServiceRuntime
from simfleet_subjects import (
    AccountsSubjects,
    IdentitySubjects,
    InventorySubjects,
    TicketingSubjects,
    audit_recorded,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
AUDIT_GROUP = 32
"""Audit events and sign-ins kept in one transaction at most (``each_in_turn``: each on its own, one commit)."""


class IdentityConnection:
    """identity as accounts calls it: users created for onboarding, and its JWKS."""

    def __init__(self, settings: AccountsSettings, channels: Channels) -> None:
        self._settings = settings
        self._channels = channels

    def channel(self) -> grpc.aio.Channel:
        return self._channels.get(
            self._settings.identity_target, default_timeout=self._settings.identity_timeout_seconds
        )

    async def create_user(self, user: NewUser) -> str:
        client = IdentityClient(
            self.channel(),
            operator_key=self._settings.operator_key.get_secret_value(),
            timeout=self._settings.identity_timeout_seconds,
        )
        return await client.create_user(user)

    async def jwks(self) -> Any:
        return await grpc_jwks_fetcher(self.channel())()


class InventoryConnection:
    """inventory as accounts calls it: what a node holds.

    Readiness never waits for it: only deleting a node needs inventory, and is refused while it is away.
    """

    def __init__(self, settings: AccountsSettings, channels: Channels) -> None:
        self._settings = settings
        self._channels = channels

    async def holdings(self, node_id: str) -> Holdings:
        timeout = self._settings.inventory_timeout_seconds
        channel = self._channels.get(
            self._settings.inventory_target, default_timeout=timeout, idempotent=INVENTORY_READS
        )
        return await InventoryClient(channel, timeout=timeout).holdings(node_id)


@dataclass(frozen=True)
class Accounts:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    hierarchy: HierarchyService
    customers: CustomerService
    authorizer: Authorizer
    revocations: Revocations
    audit: AuditLog


def build(
    settings: AccountsSettings, *, identity: UserCreator | None = None, jwks: JwksFetcher | None = None
) -> Accounts:
    """Wire the service; ``identity`` and ``jwks`` replace the calls to identity (tests)."""
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock, outbox = runtime.db, runtime.clock, runtime.outbox
    channels = Channels()
    runtime.on_stop(channels.close)
    connection = IdentityConnection(settings, channels)
    holdings = InventoryConnection(settings, channels)
    trail = AuditTrail(db=db, outbox=outbox, clock=clock, service="accounts", commands=COMMANDS)
    runtime.audit = trail
    hierarchy = HierarchyService(
        db=db,
        clock=clock,
        outbox=outbox,
        max_depth=settings.max_tree_depth,
        max_nodes=settings.max_nodes_per_customer,
        inventory=holdings,
        audit=trail,
    )
    customers = CustomerService(
        db=db, clock=clock, outbox=outbox, hierarchy=hierarchy, identity=identity or connection, audit=trail
    )
    verifier = TokenVerifier(
        keys=JwksCache(jwks or connection.jwks, refresh_interval=settings.jwks_refresh_seconds),
        clock=clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    revocations = Revocations(token_lifetime_seconds=settings.access_token_ttl_seconds)
    runtime.add_task("revocations", lambda stop: revocations.follow(lambda: runtime.nats, stop))
    authorizer = Authorizer(verifier=verifier, nodes=hierarchy, revocations=revocations)
    runtime.add_servicer(
        hierarchy_pb2_grpc.add_HierarchyServiceServicer_to_server,
        HierarchyApi(hierarchy=hierarchy, authorizer=authorizer),
        HIERARCHY_SERVICE,
    )
    audit = AuditLog(db=db)
    runtime.add_servicer(
        audit_pb2_grpc.add_AuditServiceServicer_to_server,
        AuditApi(log=audit, authorizer=authorizer),
        AUDIT_SERVICE,
    )
    # The action history gathers every service's audit events (each on its owner's stream) and sign-ins:
    # every sign-in of every user is one, so they are kept up to AUDIT_GROUP to a transaction.
    runtime.add_consumer(
        name="accounts-line-figures",
        stream=InventorySubjects.STREAM,
        subject=InventorySubjects.NODE_FIGURES,
        handler=hierarchy.line_figures(),
    )
    for name, stream, subject in (
        ("accounts-audit-accounts", AccountsSubjects.STREAM, audit_recorded("accounts")),
        ("accounts-audit-identity", IdentitySubjects.STREAM, audit_recorded("identity")),
        ("accounts-audit-inventory", InventorySubjects.STREAM, audit_recorded("inventory")),
        ("accounts-audit-ticketing", TicketingSubjects.STREAM, audit_recorded("ticketing")),
        ("accounts-sign-ins", IdentitySubjects.STREAM, IdentitySubjects.SIGN_IN_RECORDED),
    ):
        runtime.add_consumer(
            name=name,
            stream=stream,
            subject=subject,
            handler=audit.handler(),
            group_handler=each_in_turn(audit.handler()),
            group_size=AUDIT_GROUP,
        )
    runtime.add_servicer(
        admin_pb2_grpc.add_AccountsAdminServiceServicer_to_server,
        AdminApi(customers=customers, operator_key=settings.operator_key.get_secret_value(), authorizer=authorizer),
        ADMIN_SERVICE,
    )
    return Accounts(runtime, hierarchy, customers, authorizer, revocations, audit)


async def serve(settings: AccountsSettings) -> None:
    accounts = build(settings)
    accounts.runtime.setup_telemetry()
    await accounts.runtime.run()


async def migrate(settings: AccountsSettings) -> None:
    accounts = build(settings)
    await accounts.runtime.migrate()
    await accounts.runtime.db.dispose()
