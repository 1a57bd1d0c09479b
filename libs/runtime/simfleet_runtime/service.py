"""The life of a service process: start, serve, stop cleanly.

A service's ``main.py`` builds a :class:`ServiceRuntime` from its settings, wires
its use cases onto ``runtime.db`` / ``runtime.outbox`` / ``runtime.clock``,
registers servicers, consumers and background tasks, and calls :meth:`run`.

Start-up: logs and traces, metrics port, migrations (local mode), gRPC server
with health NOT_SERVING, then NATS (retried until reachable), the owner's
streams, the outbox relay and consumers. Health turns SERVING once the
database answers and NATS is connected, and back to NOT_SERVING whenever either
is lost. SIGTERM/SIGINT: health NOT_SERVING, the server stops taking calls and
finishes the ones in flight (grace period), consumers and the relay finish
their current message, NATS drains, the engine closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from opentelemetry.sdk.trace import TracerProvider

from simfleet_runtime import metrics, migrations, paging, telemetry
from simfleet_runtime.audit import AuditTrail
from simfleet_runtime.bus import (
    BeforeHook,
    DurableConsumer,
    EventHandler,
    GroupHandler,
    Outbox,
    OutboxRelay,
    StreamSpec,
    connect_nats,
)
from simfleet_runtime.bus import ensure_streams as declare_streams
from simfleet_runtime.bus.tables import BusTables
from simfleet_runtime.clock import Clock, make_clock
from simfleet_runtime.db import Database
from simfleet_runtime.gctune import tune_gc
from simfleet_runtime.grpc_server import ServerInterceptor
from simfleet_runtime.sealing import Sealer
from simfleet_runtime.settings import ServiceSettings

log = logging.getLogger(__name__)

ServicerAdder = Callable[[Any, grpc.aio.Server], None]

LIVENESS_SERVICE = "simfleet.liveness"
"""Health service name that says SERVING while the process can answer at all.

Readiness ("" and each service's name) follows the database and NATS; a
liveness probe asks for this name instead, so that an outage of a dependency
takes pods out of the Service without restarting them all.
"""
Task = Callable[[asyncio.Event], Awaitable[None]]


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        tables: BusTables,
        migrations_dir: Path | None,
        streams: list[StreamSpec] | None = None,
    ) -> None:
        self.settings = settings
        paging.use_secret(settings.page_token_secret.get_secret_value())
        self.clock: Clock = make_clock(settings.clock_file)
        self.db = Database(settings.database_url, pool_size=settings.database_pool_size)
        self.tables = tables
        prefix = str(settings.model_config.get("env_prefix", ""))
        self.sealer = Sealer.from_setting(
            settings.sealing_key.get_secret_value(),
            setting=f"{prefix}SEALING_KEY",
            local_label=f"simfleet-local-sealing-key:{settings.service_name}",
        )
        """Seals secrets in messages (the outbox's sensitive payloads, their dead letters)."""
        self.outbox = Outbox(tables, self.clock, sealer=self.sealer)
        self.stop_event = asyncio.Event()
        self._migrations_dir = migrations_dir
        self._streams = streams or []
        self._servicers: list[tuple[ServicerAdder, Any, str]] = []
        self._consumers: list[
            tuple[str, str, str, EventHandler, bool, BeforeHook | None, GroupHandler | None, int]
        ] = []
        self._tasks: list[tuple[str, Task]] = []
        self._health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        self._server: grpc.aio.Server | None = None
        self._nats: Client | None = None
        self._js: JetStreamContext | None = None
        self._streams_declared = False
        self._running: list[asyncio.Task[None]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._tracer_provider: TracerProvider | None = None
        self.bound_port = 0
        self.audit: AuditTrail | None = None
        """The service's commands to record in the action history (set it before start)."""
        self.failed: list[str] = []
        """Background tasks that died; a process whose list is not empty exits 1."""

    # ----------------------------------------------------------------- wiring
    def add_servicer(self, adder: ServicerAdder, servicer: Any, full_name: str) -> None:
        self._servicers.append((adder, servicer, full_name))

    def add_consumer(
        self,
        *,
        name: str,
        stream: str,
        subject: str,
        handler: EventHandler,
        in_transaction: bool = True,
        before: BeforeHook | None = None,
        group_handler: GroupHandler | None = None,
        group_size: int = 1,
    ) -> None:
        """A durable consumer; ``in_transaction=False`` for handlers whose effect is outside the database.

        ``before`` runs ahead of the handler's transaction, outside it (see
        :class:`~simfleet_runtime.bus.DurableConsumer`): waits and delays go there.
        ``group_handler`` takes up to ``group_size`` new messages in one transaction (the same module).
        """
        self._consumers.append((name, stream, subject, handler, in_transaction, before, group_handler, group_size))
        metrics.declare_consumer(name)

    def add_task(self, name: str, task: Task) -> None:
        """A background loop that runs until the stop event is set."""
        self._tasks.append((name, task))

    def on_stop(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._on_stop.append(callback)

    @property
    def wiring(self) -> dict[str, list[str]]:
        """What the process was given to run, by name: its ``servicers``, ``consumers`` and ``tasks``."""
        return {
            "servicers": [full_name for _, _, full_name in self._servicers],
            "consumers": [consumer[0] for consumer in self._consumers],
            "tasks": [name for name, _ in self._tasks],
        }

    @property
    def nats(self) -> Client | None:
        return self._nats

    @property
    def js(self) -> JetStreamContext | None:
        """JetStream once NATS is connected and the owner's streams are declared (None before).

        For what a service publishes straight to a stream of its own rather than through its outbox.
        """
        return self._js if self._streams_declared else None

    # ----------------------------------------------------------------- running
    def setup_telemetry(self) -> None:
        telemetry.setup_logging(self.settings.service_name, self.settings.log_level, self.settings.log_json)
        self._tracer_provider = telemetry.setup_tracing(self.settings.service_name, self.settings.environment)
        telemetry.start_metrics_server(self.settings.metrics_port, self.settings.metrics_host)

    async def migrate(self) -> None:
        if self._migrations_dir is not None:
            await migrations.upgrade_async(self._migrations_dir, self.settings.database_url)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_event.set)
        try:
            await self.start()
            await self.stop_event.wait()
        finally:
            await self.shutdown()
        if self.failed:
            raise SystemExit(f"stopped because these parts failed: {', '.join(self.failed)}")

    async def start(self) -> None:
        if self.settings.migrate_on_start:
            await self.migrate()
        elif self.settings.await_migrations and self._migrations_dir is not None:
            log.info("waiting for the schema to be migrated by another process")
            await migrations.wait_for_head(self._migrations_dir, self.settings.database_url)
        await self._start_grpc()
        for name, task in self._tasks:
            self._spawn(name, task(self.stop_event))
        self._spawn("nats", self._start_bus())
        self._spawn("health", self._watch_health())
        tune_gc(self.settings.gc_gen0_threshold)
        log.info(
            "service started",
            extra={
                "grpc_port": self.bound_port,
                "metrics_host": self.settings.metrics_host,
                "metrics_port": self.settings.metrics_port,
            },
        )

    def _spawn(self, name: str, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s failed", name)
                self.failed.append(name)
                self.stop_event.set()

        self._running.append(asyncio.create_task(guarded(), name=name))

    async def _start_grpc(self) -> None:
        limit = self.settings.grpc_max_message_bytes
        server = grpc.aio.server(
            interceptors=[ServerInterceptor(self.audit)],
            options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)],
        )
        names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
        for adder, servicer, full_name in self._servicers:
            adder(servicer, server)
            names.append(full_name)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(names, server)
        self.bound_port = server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        if self.bound_port == 0:
            raise RuntimeError(f"cannot bind gRPC port {self.settings.grpc_port}")
        await self._set_health(False)
        await self._health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        await server.start()
        self._server = server

    async def _start_bus(self) -> None:
        try:
            self._nats = await connect_nats(
                self.settings.nats_url, name=self.settings.service_name, stop=self.stop_event
            )
        except Exception:
            if self.stop_event.is_set():
                return  # shut down before NATS was ever reachable
            raise
        self._js = self._nats.jetstream(timeout=5)
        while not self.stop_event.is_set():
            try:
                await declare_streams(self._js, self._streams)
                self._streams_declared = True
                break
            except Exception as exc:  # noqa: BLE001 - JetStream may still be starting
                log.warning("declaring streams failed: %s; retrying", exc)
                await asyncio.sleep(1.0)
        relay = OutboxRelay(
            db=self.db,
            tables=self.tables,
            outbox=self.outbox,
            js=self._js,
            clock=self.clock,
            poll_seconds=self.settings.outbox_poll_seconds,
        )
        self._spawn("outbox-relay", relay.run(self.stop_event))
        for name, stream, subject, handler, in_transaction, before, group_handler, group_size in self._consumers:
            consumer = DurableConsumer(
                name=name,
                stream=stream,
                subject=subject,
                handler=handler,
                db=self.db,
                tables=self.tables,
                js=self._js,
                clock=self.clock,
                max_deliver=self.settings.consumer_max_deliver,
                backoff=self.settings.consumer_backoff_seconds,
                in_transaction=in_transaction,
                before=before,
                sealer=self.sealer,
                group_handler=group_handler,
                group_size=group_size,
            )
            self._spawn(f"consumer-{name}", consumer.run(self.stop_event))

    async def ready(self) -> bool:
        return bool(
            self._nats is not None and self._nats.is_connected and self._js is not None and await self.db.ping()
        )

    async def _watch_health(self) -> None:
        while not self.stop_event.is_set():
            await self._set_health(await self.ready())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), self.settings.health_check_interval_seconds)

    async def _set_health(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        metrics.SERVICE_READY.set(1 if serving else 0)
        await self._health.set("", status)
        for _adder, _servicer, full_name in self._servicers:
            await self._health.set(full_name, status)

    async def _close_nats(self) -> None:
        assert self._nats is not None
        try:
            await self._nats.close()
        except Exception as exc:  # noqa: BLE001 - a connection the server dropped may fail to flush: it is closed
            log.debug("nats closed with an error: %s", exc)

    async def shutdown(self) -> None:
        self.stop_event.set()
        log.info("shutting down")
        await self._set_health(False)
        await self._health.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
        if self._server is not None:
            await self._server.stop(self.settings.shutdown_grace_seconds)
        for callback in self._on_stop:
            try:
                await callback()
            except Exception:
                log.exception("stop callback failed")
        if self._nats is not None and not self._nats.is_closed and not self._nats.is_connected:
            # Nothing can be flushed to a server that is gone: draining would wait out its timeout while the client
            # tries to reconnect. Closed first, the background tasks waiting on it (a consumer's fetch) end now.
            await self._close_nats()
        if self._running:
            _done, pending = await asyncio.wait(self._running, timeout=self.settings.shutdown_grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._nats is not None and not self._nats.is_closed:
            if not self._nats.is_connected:
                await self._close_nats()
            else:
                try:
                    await asyncio.wait_for(self._nats.drain(), timeout=5)
                except Exception:  # noqa: BLE001 - closing anyway
                    await self._close_nats()
        await self.db.dispose()
        if self._tracer_provider is not None:
            # Only the provider this runtime installed (setup_telemetry): a process
            # running several runtimes (tests) keeps its tracing.
            self._tracer_provider.force_flush(5000)
            self._tracer_provider.shutdown()
            self._tracer_provider = None
        log.info("stopped")
