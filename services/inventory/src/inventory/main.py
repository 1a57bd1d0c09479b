"""The composition root: settings → database, bus, use cases, gRPC servicers, the operation engine.

Migrations ship inside the package (``inventory/migrations/``, Alembic's script
folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from inventory.admin.grpc_api import SERVICE_NAME as ADMIN_SERVICE
from inventory.admin.grpc_api import AdminApi
from inventory.admin.service import BackOffice
from inventory.audit_commands import COMMANDS
from inventory.figures import FigureReporter
from inventory.gauges import Gauges
from inventory.line_groups.grpc_api import SERVICE_NAME as LINE_GROUP_SERVICE
from inventory.line_groups.grpc_api import LineGroupApi
from inventory.line_groups.service import LineGroups, following_the_tree
from inventory.lines.grpc_api import SERVICE_NAME as LINE_SERVICE
from inventory.lines.grpc_api import LineApi
from inventory.lines.netsim_client import NetsimClient
from inventory.lines.service import LineService, Locator
from inventory.models import BUS, NODE_PATHS
from inventory.nodes.grpc_api import SERVICE_NAME as HOLDINGS_SERVICE
from inventory.nodes.grpc_api import NodeHoldingsApi
from inventory.nodes.service import NodeHoldings
from inventory.operations.availability import Availability, BillingAvailability
from inventory.operations.engine import Engine
from inventory.operations.financial import financial_blocks_handler
from inventory.operations.grpc_api import SERVICE_NAME as OPERATION_SERVICE
from inventory.operations.grpc_api import OperationApi
from inventory.operations.service import OperationService
from inventory.saved_filters.grpc_api import SERVICE_NAME as SAVED_FILTER_SERVICE
from inventory.saved_filters.grpc_api import SavedFilterApi
from inventory.saved_filters.service import SavedFilters
from inventory.settings import InventorySettings
from inventory.stock.puk import PukVault
from inventory.streams import SMS_DELIVERED, streams
from simfleet.inventory.v1 import (
    admin_pb2_grpc,
    line_groups_pb2_grpc,
    lines_pb2_grpc,
    nodes_pb2_grpc,
    operations_pb2_grpc,
    saved_filters_pb2_grpc,
)
from simfleet_runtime import nodepaths
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.auth import JwksCache, JwksFetcher, TokenVerifier, grpc_jwks_fetcher
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.grpc_server import Channels
from simfleet_runtime.revocations import Revocations
from simfleet_runtime.service import ServiceRuntime
from simfleet_runtime.user_access import IdentityUserAccess, UserAccessSource
from simfleet_subjects import BillingSubjects, NetsimSubjects

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Inventory:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    lines: LineService
    operations: OperationService
    engine: Engine
    office: BackOffice
    figures: FigureReporter
    authorizer: Authorizer
    paths: nodepaths.ProjectedNodePaths
    holdings: NodeHoldings
    saved_filters: SavedFilters
    groups: LineGroups


def build(
    settings: InventorySettings,
    *,
    jwks: JwksFetcher | None = None,
    locator: Locator | None = None,
    authority: UserAccessSource | None = None,
    availability: Availability | None = None,
) -> Inventory:
    """Wire the service; ``jwks``, ``locator``, ``authority`` and ``availability`` replace the calls to identity,
    the network and billing."""
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock, outbox = runtime.db, runtime.clock, runtime.outbox
    channels = Channels()
    runtime.on_stop(channels.close)

    def upstream(target: str) -> grpc.aio.Channel:
        return channels.get(target, default_timeout=settings.upstream_timeout_seconds)

    async def identity_jwks() -> Any:
        return await grpc_jwks_fetcher(upstream(settings.identity_target))()

    vault = PukVault(settings.puk_key.get_secret_value())
    paths = nodepaths.ProjectedNodePaths(db=db, table=NODE_PATHS, clock=clock)
    verifier = TokenVerifier(
        keys=JwksCache(jwks or identity_jwks, refresh_interval=settings.jwks_refresh_seconds),
        clock=clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    revocations = Revocations(token_lifetime_seconds=settings.access_token_ttl_seconds)
    runtime.add_task("revocations", lambda stop: revocations.follow(lambda: runtime.nats, stop))
    authorizer = Authorizer(verifier=verifier, nodes=paths, revocations=revocations)
    network = locator or NetsimClient(
        lambda: upstream(settings.netsim_target), timeout=settings.upstream_timeout_seconds
    )
    audit = AuditTrail(db=db, outbox=outbox, clock=clock, service="inventory", commands=COMMANDS)
    runtime.audit = audit
    lines = LineService(db=db, clock=clock, paths=paths, vault=vault, locator=network, audit=audit)
    operations = OperationService(
        db=db,
        clock=clock,
        outbox=outbox,
        max_lines=settings.max_lines_per_operation,
        tariffs=settings.orderable_tariffs,
        order_quota_per_day=settings.sim_order_quota_per_day,
        audit=audit,
    )
    engine = Engine(
        db=db,
        clock=clock,
        outbox=outbox,
        wake=operations.accepted,
        max_lines=settings.max_lines_per_operation,
        batch_size=settings.command_batch_size,
        max_in_flight=settings.max_in_flight_items,
        poll_seconds=settings.dispatch_poll_seconds,
        quarantine_days=settings.number_quarantine_days,
        authority=authority
        or IdentityUserAccess(
            lambda: upstream(settings.identity_target),
            operator_key=settings.operator_key.get_secret_value(),
            timeout=settings.upstream_timeout_seconds,
        ),
        availability=availability
        or BillingAvailability(
            lambda: upstream(settings.billing_target),
            operator_key=settings.operator_key.get_secret_value(),
            timeout=settings.upstream_timeout_seconds,
        ),
    )
    office = BackOffice(db=db, clock=clock, outbox=outbox, vault=vault, audit=audit)
    runtime.add_servicer(
        lines_pb2_grpc.add_LineServiceServicer_to_server, LineApi(lines=lines, authorizer=authorizer), LINE_SERVICE
    )
    runtime.add_servicer(
        operations_pb2_grpc.add_OperationServiceServicer_to_server,
        OperationApi(operations=operations, authorizer=authorizer),
        OPERATION_SERVICE,
    )
    runtime.add_servicer(
        admin_pb2_grpc.add_InventoryAdminServiceServicer_to_server,
        AdminApi(office=office, operator_key=settings.operator_key.get_secret_value(), authorizer=authorizer),
        ADMIN_SERVICE,
    )
    # accounts asks, with its caller's token, what a node holds before deleting it.
    holdings = NodeHoldings(db=db)
    runtime.add_servicer(
        nodes_pb2_grpc.add_NodeHoldingsServiceServicer_to_server,
        NodeHoldingsApi(holdings=holdings, authorizer=authorizer),
        HOLDINGS_SERVICE,
    )
    saved_filters = SavedFilters(db=db, clock=clock)
    runtime.add_servicer(
        saved_filters_pb2_grpc.add_SavedFilterServiceServicer_to_server,
        SavedFilterApi(filters=saved_filters, authorizer=authorizer),
        SAVED_FILTER_SERVICE,
    )
    groups = LineGroups(db=db, clock=clock, audit=audit)
    runtime.add_servicer(
        line_groups_pb2_grpc.add_LineGroupServiceServicer_to_server,
        LineGroupApi(groups=groups, authorizer=authorizer),
        LINE_GROUP_SERVICE,
    )
    runtime.add_consumer(
        name="inventory-node-paths",
        stream=nodepaths.STREAM,
        subject=nodepaths.SUBJECTS,
        handler=following_the_tree(paths.handler()),
    )
    runtime.add_consumer(
        # Its effect is an operation made in transactions of its own: at least once, and the hold's id as
        # the operation's idempotency key makes a repeat find the first.
        name="inventory-financial-blocks",
        stream=BillingSubjects.STREAM,
        subject=BillingSubjects.ACCOUNT_FUNDS,
        handler=financial_blocks_handler(operations=operations, paths=paths, db=db),
        in_transaction=False,
    )
    runtime.add_consumer(
        name="inventory-provisioning",
        stream=NetsimSubjects.EVENT_STREAM,
        subject=NetsimSubjects.PROVISIONING_RESULT,
        handler=engine.results_handler(),
    )
    runtime.add_consumer(
        # Named anew when receipts got their own subject: a durable keeps the filter it was made with.
        name="inventory-own-sms-receipts",
        stream=NetsimSubjects.EVENT_STREAM,
        subject=SMS_DELIVERED,
        handler=engine.receipts_handler(),
    )
    runtime.add_task("operation-engine", engine.run)
    runtime.add_task("gauges", Gauges(db=db, interval=settings.health_check_interval_seconds * 5).run)
    reporter = FigureReporter(db=db, clock=clock, outbox=outbox, interval=settings.figures_interval_seconds)
    runtime.add_task("line-figures", reporter.run)
    return Inventory(
        runtime, lines, operations, engine, office, reporter, authorizer, paths, holdings, saved_filters, groups
    )


async def serve(settings: InventorySettings) -> None:
    inventory = build(settings)
    inventory.runtime.setup_telemetry()
    await inventory.runtime.run()


async def migrate(settings: InventorySettings) -> None:
    inventory = build(settings)
    await inventory.runtime.migrate()
    await inventory.runtime.db.dispose()
