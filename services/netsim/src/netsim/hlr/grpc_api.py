"""The gRPC adapter of ``simfleet.netsim.v1.HlrService``: read subscribers, steer the faults, locate handsets."""

from __future__ import annotations

from typing import Any

import grpc

from netsim.convert import faults_message, location_response, subscriber_message
from netsim.hlr.fault_store import FaultStore
from netsim.hlr.faults import validate_faults
from netsim.hlr.identifiers import normalize_msisdn_prefix
from netsim.hlr.location import locate
from netsim.hlr.service import find_subscriber, list_subscribers
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import InvalidArgument, NotFound
from simfleet_runtime.paging import page_size
from simfleet_runtime.validation import normalize_imsi, normalize_msisdn

SERVICE_NAME = hlr_pb2.DESCRIPTOR.services_by_name["HlrService"].full_name


def subscriber_not_found() -> NotFound:
    return NotFound("no subscriber has this IMSI or number", reason="SUBSCRIBER_NOT_FOUND")


class HlrServicer(hlr_pb2_grpc.HlrServiceServicer):
    def __init__(self, database: Database, faults: FaultStore, clock: Clock) -> None:
        self._db = database
        self._faults = faults
        self._clock = clock

    async def GetSubscriber(
        self, request: hlr_pb2.GetSubscriberRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hlr_pb2.GetSubscriberResponse:
        if bool(request.imsi) == bool(request.msisdn):
            raise InvalidArgument(
                "give the subscriber's imsi or its msisdn (one of them)",
                reason="IMSI_OR_MSISDN",
                field_violations={"imsi": "exactly one of imsi and msisdn", "msisdn": "exactly one of imsi and msisdn"},
            )
        imsi = normalize_imsi(request.imsi) if request.imsi else ""
        msisdn = normalize_msisdn(request.msisdn, field="msisdn") if request.msisdn else ""
        async with self._db.sessions() as session:
            subscriber = await find_subscriber(session, imsi=imsi, msisdn=msisdn)
        if subscriber is None:
            raise subscriber_not_found()
        return hlr_pb2.GetSubscriberResponse(subscriber=subscriber_message(subscriber))

    async def ListSubscribers(
        self, request: hlr_pb2.ListSubscribersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hlr_pb2.ListSubscribersResponse:
        limit = page_size(request.page_size)
        prefix = normalize_msisdn_prefix(request.msisdn_prefix)
        async with self._db.sessions() as session:
            page, token = await list_subscribers(
                session, msisdn_prefix=prefix, limit=limit, page_token=request.page_token
            )
        return hlr_pb2.ListSubscribersResponse(subscribers=[subscriber_message(s) for s in page], next_page_token=token)

    async def GetFaults(
        self, request: hlr_pb2.GetFaultsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hlr_pb2.GetFaultsResponse:
        return hlr_pb2.GetFaultsResponse(faults=faults_message(await self._faults.get()))

    async def SetFaults(
        self, request: hlr_pb2.SetFaultsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hlr_pb2.SetFaultsResponse:
        wanted = request.faults
        faults = validate_faults(
            latency_ms=wanted.latency_ms,
            failure_rate=wanted.failure_rate,
            outage=wanted.outage,
            failing_msisdns=list(wanted.failing_msisdns),
        )
        return hlr_pb2.SetFaultsResponse(faults=faults_message(await self._faults.set(faults)))

    async def GetLocation(
        self, request: hlr_pb2.GetLocationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> hlr_pb2.GetLocationResponse:
        msisdn = normalize_msisdn(request.msisdn, field="msisdn")
        async with self._db.sessions() as session:
            subscriber = await find_subscriber(session, msisdn=msisdn)
        if subscriber is None:
            raise subscriber_not_found()
        where = locate(msisdn, self._clock.now())
        return location_response(where)
