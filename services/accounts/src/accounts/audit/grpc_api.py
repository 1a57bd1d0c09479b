"""simfleet.accounts.v1.AuditService: the action history, by the reader's access token."""

from __future__ import annotations

from typing import Any

from accounts.audit.service import AuditLog, Entry, Filters
from simfleet.accounts.v1 import audit_pb2 as pb
from simfleet.accounts.v1 import audit_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.clock import as_utc
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.accounts.v1.AuditService"


def event(entry: Entry) -> pb.AuditEvent:
    e = entry.event
    return pb.AuditEvent(
        id=e.id,
        occurred_at=timestamp(e.occurred_at),
        actor_id=e.actor_id,
        actor_kind=e.actor_kind,
        service=e.service,
        action=e.action,
        result=e.result,
        reason=e.reason,
        objects=[pb.AuditObjectRef(kind=o.kind, id=o.object_id, node_id=o.node_id) for o in entry.objects],
        client_address=e.client_address,
        request_id=e.request_id,
        trace_id=e.trace_id,
    )


class AuditApi(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, *, log: AuditLog, authorizer: Authorizer) -> None:
        self._log = log
        self._authz = authorizer

    async def ListAuditEvents(self, request: pb.ListAuditEventsRequest, context: Any) -> pb.ListAuditEventsResponse:
        access = await self._authz.access()
        filters = Filters(
            since=as_utc(request.since.ToDatetime()) if request.HasField("since") else None,
            until=as_utc(request.until.ToDatetime()) if request.HasField("until") else None,
            actor_id=request.actor_id,
            action=request.action,
            object_id=request.object_id,
            node_id=request.node_id,
        )
        entries, token = await self._log.find(
            access, filters, page_size=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return pb.ListAuditEventsResponse(events=[event(e) for e in entries], next_page_token=token)
