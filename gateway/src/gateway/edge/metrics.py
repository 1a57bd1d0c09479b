"""The gateway's Prometheus metrics (RED by route template, never by raw path).

The gRPC client metrics (``simfleet_grpc_client_*``) come from the runtime's
client interceptor and are served from the same registry on ``/metrics``, with
``simfleet_service_ready`` (1 while identity is serving: the gateway's readiness).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from simfleet_runtime.metrics import LATENCY_BUCKETS

HTTP_REQUESTS = Counter(
    "simfleet_http_requests_total",
    "HTTP requests the gateway answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_BUCKETS = tuple(sorted({*LATENCY_BUCKETS, 0.3}))
"""The shared buckets plus 0.3 s, the latency objective of the gateway (deploy/prometheus/rules.yaml)."""

HTTP_SECONDS = Histogram(
    "simfleet_http_request_duration_seconds",
    "Time the gateway took to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "simfleet_http_requests_in_flight",
    "HTTP requests the gateway is answering now.",
)
RATE_LIMITED = Counter(
    "simfleet_gateway_rate_limited_total",
    "Requests the gateway refused with 429 before calling a service, by route template.",
    ["route"],
)
