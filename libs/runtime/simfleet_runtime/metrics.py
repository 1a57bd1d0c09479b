"""The Prometheus metrics every service exposes, with one naming scheme.

Names follow ``simfleet_<area>_<what>_<unit>``: counters end in ``_total``,
durations are histograms in ``_seconds``, sizes in ``_bytes``, gauges name what
they count (``_messages``, ``_connections``). Labels are snake_case and
low-cardinality (method names, codes, subjects, consumer names; never ids or
numbers). Service-specific business figures live in the service's own
``metrics.py``. ``tests/observability/test_metrics_contract.py`` checks every
process's ``/metrics`` against these rules; the dashboards in
``deploy/grafana/dashboards`` and the rules in ``deploy/prometheus`` use them.

Counters do not export the ``*_created`` series: in Prometheus's text format
they are separate series that double the count and that no query uses.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GRPC_SERVER_HANDLED = Counter(
    "simfleet_grpc_server_handled_total",
    "gRPC calls completed by this server, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_SERVER_SECONDS = Histogram(
    "simfleet_grpc_server_handling_seconds",
    "Time this server spent on a gRPC call.",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
GRPC_CLIENT_HANDLED = Counter(
    "simfleet_grpc_client_handled_total",
    "gRPC calls this process made, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_CLIENT_SECONDS = Histogram(
    "simfleet_grpc_client_handling_seconds",
    "Time a gRPC call from this process took, as the caller saw it.",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)
NATS_PUBLISHED = Counter(
    "simfleet_nats_published_total",
    "Messages published to JetStream (from the outbox relay).",
    ["subject"],
)
NATS_PUBLISH_FAILED = Counter(
    "simfleet_nats_publish_failed_total",
    "Publish attempts JetStream did not acknowledge; the outbox keeps the row.",
    ["subject"],
)
NATS_CONSUMED = Counter(
    "simfleet_nats_consumed_total",
    "Messages a durable consumer finished, by result (applied, duplicate, retried, dead_lettered).",
    ["consumer", "result"],
)
NATS_REDELIVERED = Counter(
    "simfleet_nats_redelivered_total",
    "Messages that arrived more than once at a durable consumer.",
    ["consumer"],
)
NATS_DEAD_LETTERED = Counter(
    "simfleet_nats_dead_lettered_total",
    "Messages a consumer gave up on after its last allowed delivery.",
    ["consumer"],
)
NATS_CONSUMER_PENDING = Gauge(
    "simfleet_nats_consumer_pending_messages",
    "Messages in the stream not yet delivered to the consumer (its lag).",
    ["consumer"],
)
OUTBOX_BACKLOG = Gauge(
    "simfleet_outbox_backlog_messages",
    "Outbox rows written but not yet published.",
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "simfleet_outbox_oldest_unpublished_seconds",
    "Age of the oldest unpublished outbox row (0 when empty).",
)
SERVICE_READY = Gauge(
    "simfleet_service_ready",
    "1 while the service's health says SERVING.",
)

CONSUMER_RESULTS = ("applied", "duplicate", "retried", "dead_lettered")
"""The values of ``result`` in ``simfleet_nats_consumed_total``."""


def declare_consumer(name: str) -> None:
    """Export a durable consumer's counters at 0 before its first message.

    A series that appears only with its first increment hides that increment
    from ``increase()`` and ``rate()``: the dead-letter alert would miss the
    first message a consumer gives up on.
    """
    for result in CONSUMER_RESULTS:
        NATS_CONSUMED.labels(name, result)
    NATS_REDELIVERED.labels(name)
    NATS_DEAD_LETTERED.labels(name)


# ------------------------------------------------------------------ database pool
DB_POOL_CHECKOUT_SECONDS = Histogram(
    "simfleet_db_pool_checkout_seconds",
    "Time to check a connection out of the database pool: waiting for a free one, "
    "opening one when the pool grows, and the liveness ping (PostgreSQL).",
    buckets=LATENCY_BUCKETS,
    registry=None,  # registered with the first database (see PoolCollector.watch)
)


@dataclass(frozen=True)
class PoolState:
    """A database pool's connections at one moment."""

    size: int
    """Connections the pool keeps open at most before it overflows."""
    checked_out: int
    """Connections in use by the service now."""
    idle: int
    """Open connections waiting in the pool."""
    overflow: int
    """Open connections beyond ``size`` (closed again when returned)."""


class PoolSource(Protocol):
    def pool_state(self) -> PoolState | None: ...


class PoolCollector(Collector):
    """``simfleet_db_pool_connections{state}`` and ``simfleet_db_pool_size``, read when scraped.

    Reading the pools at scrape time costs nothing on the request path. The
    figures are summed over the process's databases (a service has one).
    Processes without a database (the gateway) export none of the pool's
    families: the checkout histogram joins the registry with the first database.
    """

    def __init__(self) -> None:
        self._sources: weakref.WeakSet[PoolSource] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._histogram_registered = False

    def watch(self, source: PoolSource) -> None:
        with self._lock:
            self._sources.add(source)
            if not self._histogram_registered:
                REGISTRY.register(DB_POOL_CHECKOUT_SECONDS)
                self._histogram_registered = True

    def forget(self, source: PoolSource) -> None:
        with self._lock:
            self._sources.discard(source)

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            sources = list(self._sources)
        states = [state for source in sources if (state := source.pool_state()) is not None]
        if not states:
            return []
        connections = GaugeMetricFamily(
            "simfleet_db_pool_connections",
            "Database connections of this process by state: checked_out (in use), idle (open, free), "
            "overflow (open beyond the pool size).",
            labels=["state"],
        )
        connections.add_metric(["checked_out"], sum(s.checked_out for s in states))
        connections.add_metric(["idle"], sum(s.idle for s in states))
        connections.add_metric(["overflow"], sum(s.overflow for s in states))
        size = GaugeMetricFamily(
            "simfleet_db_pool_size",
            "Connections the database pool keeps open at most before it overflows.",
            value=sum(s.size for s in states),
        )
        return [connections, size]

    def describe(self) -> Iterable[Metric]:
        # Names are fixed; none when registered (no database yet), so the
        # registry does not call collect() from an import.
        return []


DB_POOLS = PoolCollector()
REGISTRY.register(DB_POOLS)
