"""The composition root: settings in, a running netsim out.

:func:`build` wires everything onto a :class:`ServiceRuntime` (nothing runs
yet); :func:`serve` sets up telemetry and runs it until SIGTERM/SIGINT;
:func:`migrate` applies the Alembic migrations and returns.

Migrations ship inside the package (``netsim/migrations/``, Alembic's script
folder) so that an installed wheel can migrate its database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from netsim.console.app import create_app
from netsim.console.server import ConsoleServer
from netsim.handsets.grpc_api import SERVICE_NAME, HandsetServicer
from netsim.hlr import consumer as hlr_consumer
from netsim.hlr import grpc_api as hlr_api
from netsim.hlr.fault_store import FaultStore
from netsim.hlr.faults import FaultInjector, validate_faults
from netsim.models import BUS
from netsim.payments import grpc_api as payments_api
from netsim.payments.fault_store import PaymentFaultStore
from netsim.payments.faults import validate_payment_faults
from netsim.payments.service import PaymentProvider
from netsim.settings import NetsimSettings
from netsim.smsc.consumer import CONSUMER_NAME, submit_sms_group_handler, submit_sms_handler
from netsim.smsc.consumer import GROUP_SIZE as SMS_GROUP_SIZE
from netsim.smtp.sink import SmtpSink
from netsim.streams import streams
from netsim.usage import grpc_api as usage_api
from netsim.usage.generator import UsageGenerator
from netsim.usage.lease import Lease
from netsim.usage.settings import validate_usage_settings
from netsim.usage.settings_store import UsageSettingsStore
from simfleet.netsim.v1 import hlr_pb2_grpc, payments_pb2_grpc, smsc_pb2_grpc, usage_pb2_grpc
from simfleet_runtime import migrations
from simfleet_runtime.service import ServiceRuntime
from simfleet_subjects import NetsimSubjects

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass
class Netsim:
    """The wired service; tests drive it in-process through ``runtime.start()``/``shutdown()``."""

    runtime: ServiceRuntime
    smtp: SmtpSink
    console: ConsoleServer
    faults: FaultInjector
    """The faults this process applies (in memory); ``fault_store`` keeps them in step with the stored ones."""
    fault_store: FaultStore
    usage_store: UsageSettingsStore
    """The usage settings in force (the stored row's, kept in step by its runtime task)."""
    usage: UsageGenerator
    payments: PaymentProvider
    """The simulated card acquirer (its faults: ``payments.faults``)."""
    failed: list[str] = field(default_factory=list)


def build(settings: NetsimSettings) -> Netsim:
    runtime = ServiceRuntime(
        settings,
        tables=BUS,
        migrations_dir=MIGRATIONS,
        streams=streams(usage_max_bytes=settings.usage_stream_max_bytes),
    )
    runtime.add_consumer(
        name=CONSUMER_NAME,
        stream=NetsimSubjects.COMMAND_STREAM,
        subject=NetsimSubjects.SUBMIT_SMS,
        handler=submit_sms_handler(outbox=runtime.outbox, clock=runtime.clock),
        group_handler=submit_sms_group_handler(outbox=runtime.outbox, clock=runtime.clock),
        group_size=SMS_GROUP_SIZE,
    )
    initial_faults = validate_faults(
        latency_ms=settings.hlr_latency_ms,
        failure_rate=settings.hlr_failure_rate,
        outage=False,
        failing_msisdns=[],
    )
    # Held until the stored faults are first read: a restart during an outage takes no command meanwhile.
    faults = FaultInjector(initial_faults, seed=settings.hlr_fault_seed, held=True)
    fault_store = FaultStore(
        runtime.db,
        faults,
        runtime.clock,
        initial=initial_faults,
        refresh_seconds=settings.hlr_faults_refresh_seconds,
    )
    hlr = hlr_consumer.ProvisionConsumer(outbox=runtime.outbox, clock=runtime.clock, faults=faults)
    runtime.add_consumer(
        name=hlr_consumer.CONSUMER_NAME,
        stream=NetsimSubjects.COMMAND_STREAM,
        subject=NetsimSubjects.PROVISION,
        handler=hlr.handle,
        before=hlr.before,
    )
    runtime.add_servicer(
        smsc_pb2_grpc.add_HandsetServiceServicer_to_server,
        HandsetServicer(runtime.db),
        SERVICE_NAME,
    )
    runtime.add_servicer(
        hlr_pb2_grpc.add_HlrServiceServicer_to_server,
        hlr_api.HlrServicer(runtime.db, fault_store, runtime.clock),
        hlr_api.SERVICE_NAME,
    )
    initial_usage = validate_usage_settings(
        records_per_second=settings.usage_records_per_second,
        voice_weight=settings.usage_voice_weight,
        sms_weight=settings.usage_sms_weight,
        data_weight=settings.usage_data_weight,
        roaming_share=settings.usage_roaming_share,
        international_share=settings.usage_international_share,
        msisdn_prefixes=[p for p in settings.usage_msisdn_prefixes.split(",") if p.strip()],
    )
    usage_store = UsageSettingsStore(
        runtime.db, runtime.clock, initial=initial_usage, refresh_seconds=settings.usage_settings_refresh_seconds
    )
    usage = UsageGenerator(
        db=runtime.db,
        clock=runtime.clock,
        store=usage_store,
        lease=Lease(runtime.db, runtime.clock, seconds=settings.usage_lease_seconds),
        js=lambda: runtime.js,
        tick_seconds=settings.usage_tick_seconds,
        sample_size=settings.usage_sample_size,
        sample_refresh_seconds=settings.usage_sample_refresh_seconds,
        seed=settings.usage_seed,
    )
    runtime.add_servicer(
        usage_pb2_grpc.add_UsageServiceServicer_to_server,
        usage_api.UsageServicer(usage_store, usage),
        usage_api.SERVICE_NAME,
    )
    initial_payment_faults = validate_payment_faults(
        latency_ms=settings.payments_latency_ms,
        decline_rate=settings.payments_decline_rate,
        lost_answer_rate=settings.payments_lost_answer_rate,
        outage=settings.payments_outage,
        declining_cards=[c.strip() for c in settings.payments_declining_cards.split(",") if c.strip()],
    )
    payment_faults = PaymentFaultStore(
        runtime.db,
        runtime.clock,
        initial=initial_payment_faults,
        refresh_seconds=settings.payments_faults_refresh_seconds,
    )
    payments = PaymentProvider(runtime.db, runtime.clock, payment_faults, seed=settings.payments_fault_seed)
    runtime.add_servicer(
        payments_pb2_grpc.add_PaymentProviderServiceServicer_to_server,
        payments_api.PaymentProviderServicer(payments),
        payments_api.SERVICE_NAME,
    )
    smtp = SmtpSink(
        db=runtime.db,
        clock=runtime.clock,
        host=settings.smtp_host,
        port=settings.smtp_port,
        hostname=settings.smtp_hostname,
        max_message_bytes=settings.smtp_max_message_bytes,
        grace_seconds=settings.shutdown_grace_seconds,
    )
    console = ConsoleServer(
        create_app(runtime.db, fault_store, usage_store, usage, payment_faults),
        host=settings.http_host,
        port=settings.http_port,
        grace_seconds=settings.shutdown_grace_seconds,
    )
    netsim = Netsim(
        runtime=runtime,
        smtp=smtp,
        console=console,
        faults=faults,
        fault_store=fault_store,
        usage_store=usage_store,
        usage=usage,
        payments=payments,
    )
    runtime.add_task("hlr-faults", fault_store.run)
    runtime.add_task("usage-settings", usage_store.run)
    runtime.add_task("payment-faults", payment_faults.run)
    runtime.add_task("usage-generator", usage.run)
    runtime.add_task("smtp-sink", _essential("smtp-sink", smtp.run, netsim.failed))
    runtime.add_task("console", _essential("console", console.run, netsim.failed))
    return netsim


def _essential(
    name: str, task: Callable[[asyncio.Event], Awaitable[None]], failed: list[str]
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A listener the service cannot do without: its failure (e.g. a taken port) fails the process."""

    async def run(stop: asyncio.Event) -> None:
        try:
            await task(stop)
        except Exception:
            failed.append(name)
            raise

    return run


async def serve(settings: NetsimSettings) -> int:
    """Run until SIGTERM/SIGINT; the exit status is 1 when a listener failed, else 0."""
    netsim = build(settings)
    netsim.runtime.setup_telemetry()
    await netsim.runtime.run()
    if netsim.failed:
        log.error("stopped because a component failed", extra={"components": netsim.failed})
        return 1
    return 0


def migrate(settings: NetsimSettings) -> None:
    """Apply the migrations to ``settings.database_url`` (blocking: call it outside an event loop)."""
    migrations.upgrade(MIGRATIONS, settings.database_url)
