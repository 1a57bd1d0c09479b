"""The console's HLR routes (see :mod:`netsim.console`): a subscriber by number, the fault injection."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from netsim.console.deps import FaultsDep, SessionDep
from netsim.console.schemas import FaultsBody, SubscriberOut
from netsim.hlr.faults import validate_faults
from netsim.hlr.grpc_api import subscriber_not_found
from netsim.hlr.service import find_subscriber
from simfleet_runtime.validation import normalize_msisdn

router = APIRouter(prefix="/hlr", tags=["hlr"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no subscriber has this number (application/problem+json)"},
    422: {"description": "bad number (application/problem+json)"},
}
BAD_FAULTS: dict[int | str, dict[str, Any]] = {
    422: {"description": "a fault out of range or a bad number (application/problem+json)"}
}


@router.get("/subscribers/{msisdn}", response_model=SubscriberOut, responses=NOT_FOUND)
async def subscriber(msisdn: str, session: SessionDep) -> SubscriberOut:
    number = normalize_msisdn(msisdn, field="msisdn")
    found = await find_subscriber(session, msisdn=number)
    if found is None:
        raise subscriber_not_found()
    return SubscriberOut.of(found)


@router.get("/faults", response_model=FaultsBody)
async def get_faults(faults: FaultsDep) -> FaultsBody:
    return FaultsBody.of(await faults.get())


@router.put("/faults", response_model=FaultsBody, responses=BAD_FAULTS)
async def put_faults(body: FaultsBody, faults: FaultsDep) -> FaultsBody:
    wanted = validate_faults(
        latency_ms=body.latency_ms,
        failure_rate=body.failure_rate,
        outage=body.outage,
        failing_msisdns=body.failing_msisdns,
    )
    return FaultsBody.of(await faults.set(wanted))
