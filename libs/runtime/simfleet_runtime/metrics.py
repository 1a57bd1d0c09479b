"""The Prometheus metrics every service exposes, with one naming scheme.

Names follow ``simfleet_<area>_<what>_<unit>``; labels are low-cardinality
(method names, codes, subjects, consumer names; never ids or numbers).
Service-specific business figures live in the service's own ``metrics.py``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
