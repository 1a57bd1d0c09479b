"""The composition root: settings → database, bus, use cases, gRPC servicers.

Migrations ship inside the package (``billing/migrations/``, Alembic's script
folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from billing import metrics
from billing.admin.grpc_api import SERVICE_NAME as ADMIN_SERVICE
from billing.admin.grpc_api import AdminApi
from billing.catalogue.availability import LineFinder
from billing.catalogue.grpc_api import SERVICE_NAME as CATALOGUE_SERVICE
from billing.catalogue.grpc_api import CatalogueApi
from billing.catalogue.service import Catalogue
from billing.fees.service import Fees
from billing.holds.service import Holds
from billing.ledger.consumer import node_events_handler
from billing.ledger.grpc_api import SERVICE_NAME as LEDGER_SERVICE
from billing.ledger.grpc_api import LedgerApi
from billing.ledger.service import LedgerService
from billing.limits.emails import LimitEmailer
from billing.limits.grpc_api import SERVICE_NAME as LIMITS_SERVICE
from billing.limits.grpc_api import SpendingLimitApi
from billing.limits.service import SpendingLimits
from billing.lines.consumer import lines_changed_handler
from billing.models import BUS, NODE_PATHS
from billing.packages.grpc_api import SERVICE_NAME as PACKAGE_SERVICE
from billing.packages.grpc_api import PackageApi
from billing.packages.receipts import ReceiptMailer
from billing.packages.service import PackageService
from billing.payments.grpc_api import SERVICE_NAME as PAYMENT_SERVICE
from billing.payments.grpc_api import PaymentApi
from billing.payments.provider import PaymentProvider
from billing.payments.service import Payments
from billing.promised.grpc_api import SERVICE_NAME as PROMISED_SERVICE
from billing.promised.grpc_api import PromisedPaymentApi
from billing.promised.service import Limits, PromisedPayments
from billing.rating.consumer import catalogue_loaded, usage_group_handler, usage_handler
from billing.rating.grpc_api import SERVICE_NAME as USAGE_SERVICE
from billing.rating.grpc_api import UsageApi
from billing.rating.service import Rater
from billing.settings import BillingSettings
from billing.settlement.grpc_api import SERVICE_NAME as SETTLEMENT_SERVICE
from billing.settlement.grpc_api import SettlementMethodApi
from billing.settlement.service import SettlementService
from billing.statements.service import Statements
from billing.streams import streams
from simfleet.billing.v1 import (
    admin_pb2_grpc,
    catalogue_pb2_grpc,
    ledger_pb2_grpc,
    limits_pb2_grpc,
    packages_pb2_grpc,
    payments_pb2_grpc,
    promised_pb2_grpc,
    settlement_pb2_grpc,
    usage_pb2_grpc,
)
from simfleet_runtime import nodepaths
from simfleet_runtime.auth import JwksCache, JwksFetcher, TokenVerifier, grpc_jwks_fetcher
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.grpc_server import Channels
from simfleet_runtime.mail import SmtpSender
from simfleet_runtime.revocations import Revocations
from simfleet_runtime.service import ServiceRuntime
from simfleet_subjects import InventorySubjects, NetsimSubjects

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


class Sweeper:
    """The ledger's clockwork: settlement changes that came due, pending entries that ran out of time."""

    def __init__(self, *, ledger: LedgerService, settlement: SettlementService, interval: float) -> None:
        self._ledger = ledger
        self._settlement = settlement
        self._interval = interval

    async def once(self) -> tuple[int, int]:
        """One pass: (changes applied, entries voided)."""
        return await self._settlement.apply_due(), await self._ledger.void_expired()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # the next pass tries again
                metrics.LEDGER_SWEEPS.labels("failed").inc()
                log.exception("the ledger's sweep failed; it runs again")
            else:
                metrics.LEDGER_SWEEPS.labels("ok").inc()
                metrics.LEDGER_SWEEP_LAST_SUCCESS.set_to_current_time()
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                continue


class _Role:
    """The runtime's wiring calls, taken only when the process's role runs that part."""

    def __init__(self, runtime: ServiceRuntime, runs: bool) -> None:
        self._runtime = runtime
        self._runs = runs

    def add_task(self, name: str, task: Any) -> None:
        if self._runs:
            self._runtime.add_task(name, task)

    def add_consumer(self, **consumer: Any) -> None:
        if self._runs:
            self._runtime.add_consumer(**consumer)

    def add_servicer(self, adder: Any, servicer: Any, full_name: str) -> None:
        if self._runs:
            self._runtime.add_servicer(adder, servicer, full_name)


@dataclass(frozen=True)
class Billing:
    """Everything the service is made of, wired; tests build it the same way."""

    runtime: ServiceRuntime
    ledger: LedgerService
    settlement: SettlementService
    catalogue: Catalogue
    rater: Rater
    payments: Payments
    fees: Fees
    holds: Holds
    limits: SpendingLimits
    packages: PackageService
    receipts: ReceiptMailer
    limit_emails: LimitEmailer
    paths: nodepaths.ProjectedNodePaths
    authorizer: Authorizer
    revocations: Revocations
    sweeper: Sweeper
    promised: PromisedPayments
    statements: Statements


def build(settings: BillingSettings, *, jwks: JwksFetcher | None = None) -> Billing:
    """Wire the service; ``jwks`` replaces the call to identity for its keys (tests)."""
    runtime = ServiceRuntime(settings, tables=BUS, migrations_dir=MIGRATIONS, streams=streams())
    db, clock = runtime.db, runtime.clock
    # A process runs everything (``all``), all but rating (``api``) or only rating (``rater``): every part is
    # built the same way, and only what the role runs is given to the runtime.
    api = _Role(runtime, settings.role in ("all", "api"))
    rates = _Role(runtime, settings.role in ("all", "rater"))
    channels = Channels()
    runtime.on_stop(channels.close)

    async def identity_jwks() -> Any:
        channel = channels.get(settings.identity_target, default_timeout=settings.identity_timeout_seconds)
        return await grpc_jwks_fetcher(channel)()

    paths = nodepaths.ProjectedNodePaths(db=db, table=NODE_PATHS, clock=clock)
    ledger = LedgerService(db=db, clock=clock, outbox=runtime.outbox)
    api.add_consumer(
        name="billing-node-paths",
        stream=nodepaths.STREAM,
        subject=nodepaths.SUBJECTS,
        handler=node_events_handler(
            paths=paths,
            ledger=ledger,
            currency=settings.default_currency,
            settlement_method=settings.default_settlement_method,
        ),
    )
    settlement = SettlementService(db=db, clock=clock)
    catalogue = Catalogue(db=db, clock=clock, refresh_seconds=settings.catalogue_refresh_seconds)
    runtime.add_task("catalogue", catalogue.run)  # every role prices or shows prices
    rater = Rater(db=db, clock=clock, ledger=ledger, catalogue=catalogue)
    payments = Payments(
        db=db,
        clock=clock,
        ledger=ledger,
        outbox=runtime.outbox,
        provider=PaymentProvider(
            channels=channels,
            target=settings.payment_provider_target,
            timeout=settings.payment_provider_timeout_seconds,
        ),
        max_amount=settings.payment_max_amount,
        retry_seconds=settings.payment_retry_seconds,
        give_up_after=timedelta(hours=settings.payment_give_up_hours),
        interval=settings.payments_interval_seconds,
    )
    api.add_task("payments", payments.run)
    fees = Fees(db=db, clock=clock, ledger=ledger, catalogue=catalogue, interval=settings.fees_interval_seconds)
    api.add_task("fees", fees.run)
    holds = Holds(db=db, clock=clock, outbox=runtime.outbox, interval=settings.holds_interval_seconds)
    api.add_task("holds", holds.run)
    promised = PromisedPayments(
        db=db,
        clock=clock,
        ledger=ledger,
        limits=Limits(
            max_amount=settings.promised_max_amount,
            duration=timedelta(days=settings.promised_days),
            per_30_days=settings.promised_per_30_days,
        ),
        interval=settings.promised_interval_seconds,
    )
    api.add_task("promised", promised.run)
    limits = SpendingLimits(
        db=db,
        clock=clock,
        outbox=runtime.outbox,
        paths=paths,
        sms_sender=settings.limits_sms_sender,
        interval=settings.limits_interval_seconds,
    )
    api.add_task("limits", limits.run)
    packages = PackageService(db=db, clock=clock, ledger=ledger)
    smtp = SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )
    receipts = ReceiptMailer(db=db, clock=clock, smtp=smtp, interval=settings.receipts_interval_seconds)
    api.add_task("receipts", receipts.run)
    # The limits' warnings go through the same relay, at the same pace.
    limit_emails = LimitEmailer(db=db, clock=clock, smtp=smtp, interval=settings.receipts_interval_seconds)
    api.add_task("limit-emails", limit_emails.run)
    api.add_consumer(
        name="billing-lines",
        stream=InventorySubjects.STREAM,
        subject=InventorySubjects.LINES_CHANGED,
        handler=lines_changed_handler(clock),
    )
    rates.add_consumer(
        name="billing-rating",
        stream=NetsimSubjects.USAGE_STREAM,
        subject=NetsimSubjects.USAGE_RECORDED,
        handler=usage_handler(rater),
        group_handler=usage_group_handler(rater),
        group_size=settings.rating_batches_per_transaction,
        before=catalogue_loaded(catalogue),
    )
    sweeper = Sweeper(ledger=ledger, settlement=settlement, interval=settings.ledger_sweep_seconds)
    api.add_task("ledger-sweep", sweeper.run)
    verifier = TokenVerifier(
        keys=JwksCache(jwks or identity_jwks, refresh_interval=settings.jwks_refresh_seconds),
        clock=clock,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    revocations = Revocations(token_lifetime_seconds=settings.access_token_ttl_seconds)
    api.add_task("revocations", lambda stop: revocations.follow(lambda: runtime.nats, stop))
    authorizer = Authorizer(verifier=verifier, nodes=paths, revocations=revocations)
    statements = Statements(db=db, clock=clock)
    api.add_servicer(
        ledger_pb2_grpc.add_LedgerServiceServicer_to_server,
        LedgerApi(ledger=ledger, settlement=settlement, statements=statements, authorizer=authorizer),
        LEDGER_SERVICE,
    )
    api.add_servicer(
        admin_pb2_grpc.add_BillingAdminServiceServicer_to_server,
        AdminApi(
            ledger=ledger,
            settlement=settlement,
            rater=rater,
            operator_key=settings.operator_key.get_secret_value(),
            authorizer=authorizer,
        ),
        ADMIN_SERVICE,
    )
    api.add_servicer(
        usage_pb2_grpc.add_UsageServiceServicer_to_server,
        UsageApi(
            rater=rater,
            ledger=ledger,
            catalogue=catalogue,
            authorizer=authorizer,
            clock=clock,
            default_currency=settings.default_currency,
            packages=packages,
        ),
        USAGE_SERVICE,
    )
    api.add_servicer(
        packages_pb2_grpc.add_PackageServiceServicer_to_server,
        PackageApi(packages=packages, authorizer=authorizer, ledger=ledger, default_currency=settings.default_currency),
        PACKAGE_SERVICE,
    )
    api.add_servicer(
        payments_pb2_grpc.add_PaymentServiceServicer_to_server,
        PaymentApi(payments=payments, ledger=ledger, authorizer=authorizer),
        PAYMENT_SERVICE,
    )
    api.add_servicer(
        promised_pb2_grpc.add_PromisedPaymentServiceServicer_to_server,
        PromisedPaymentApi(promised=promised, ledger=ledger, authorizer=authorizer),
        PROMISED_SERVICE,
    )
    api.add_servicer(
        settlement_pb2_grpc.add_SettlementMethodServiceServicer_to_server,
        SettlementMethodApi(ledger=ledger, settlement=settlement, authorizer=authorizer, clock=clock),
        SETTLEMENT_SERVICE,
    )
    api.add_servicer(
        limits_pb2_grpc.add_SpendingLimitServiceServicer_to_server,
        SpendingLimitApi(limits=limits, paths=paths, authorizer=authorizer),
        LIMITS_SERVICE,
    )
    api.add_servicer(
        catalogue_pb2_grpc.add_CatalogueServiceServicer_to_server,
        CatalogueApi(
            catalogue=catalogue,
            finder=LineFinder(db=db),
            authorizer=authorizer,
            paths=paths,
            clock=clock,
            operator_key=settings.operator_key.get_secret_value(),
            ledger=ledger,
            default_currency=settings.default_currency,
        ),
        CATALOGUE_SERVICE,
    )
    return Billing(
        runtime,
        ledger,
        settlement,
        catalogue,
        rater,
        payments,
        fees,
        holds,
        limits,
        packages,
        receipts,
        limit_emails,
        paths,
        authorizer,
        revocations,
        sweeper,
        promised,
        statements,
    )


async def serve(settings: BillingSettings) -> None:
    billing = build(settings)
    billing.runtime.setup_telemetry()
    await billing.runtime.run()


async def migrate(settings: BillingSettings) -> None:
    billing = build(settings)
    await billing.runtime.migrate()
    await billing.runtime.db.dispose()
