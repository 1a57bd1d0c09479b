"""Probes and metrics for the platform (not under /v1: they are not the API).

* ``/healthz``: the process answers (liveness).
* ``/readyz``: identity's gRPC health service says SERVING (readiness); 503
  problem otherwise, so a gateway that cannot reach identity takes no traffic.
* ``/metrics``: Prometheus text, the gateway's HTTP metrics and the runtime's
  gRPC client metrics; ``simfleet_service_ready`` is the readiness above,
  checked again for each scrape.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from gateway.health.schemas import HealthStatus
from gateway.problems import ProblemError, problem_responses
from gateway.settings import GatewaySettings
from gateway.upstream.identity import IdentityStubs
from simfleet_runtime.metrics import SERVICE_READY

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="checkLiveness", summary="Liveness: the process answers")
async def healthz() -> HealthStatus:
    return HealthStatus()


async def _ready(request: Request) -> bool:
    settings: GatewaySettings = request.app.state.settings
    stubs = getattr(request.app.state, "identity", None)
    ready = isinstance(stubs, IdentityStubs) and await stubs.serving(
        settings.identity_health_service, deadline_seconds=settings.readiness_timeout_seconds
    )
    SERVICE_READY.set(1 if ready else 0)
    return ready


@router.get(
    "/readyz", operation_id="checkReadiness", summary="Readiness: identity is serving", responses=problem_responses()
)
async def readyz(request: Request) -> HealthStatus:
    if await _ready(request):
        return HealthStatus()
    raise ProblemError(503, "NOT_READY", "identity is not serving", retry_after=1)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request) -> Response:
    await _ready(request)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
