"""Bodies of /v1/audit-events: the customer's action history."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from simfleet.accounts.v1 import audit_pb2 as pb

_EVENT_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA1B2C3D4E5F6G7H8J9K0M1N",
    "occurred_at": "2026-01-15T09:30:00Z",
    "actor_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
    "actor_kind": "user",
    "service": "accounts",
    "action": "hierarchy.node.move",
    "result": "succeeded",
    "reason": None,
    "objects": [{"kind": "node", "id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B", "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B"}],
    "client_address": "203.0.113.10",
    "request_id": "01JA1B2C3D4E5F6G7H8J9K0M1P",
    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
}


class AuditObjectRef(BaseModel):
    kind: str = Field(examples=["node"])
    id: str
    node_id: str | None = Field(description="the node the object hangs under, when it has one")


class AuditEventResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT_EXAMPLE]})

    id: str
    occurred_at: datetime
    actor_id: str = Field(description='the user, or "operator" for the back-office')
    actor_kind: str
    service: str
    action: str
    result: str = Field(description='"succeeded" or "failed"')
    reason: str | None = Field(description="why it failed")
    objects: list[AuditObjectRef]
    client_address: str | None
    request_id: str | None
    trace_id: str | None

    @classmethod
    def from_proto(cls, event: pb.AuditEvent) -> AuditEventResponse:
        return cls(
            id=event.id,
            occurred_at=event.occurred_at.ToDatetime(tzinfo=UTC),
            actor_id=event.actor_id,
            actor_kind=event.actor_kind,
            service=event.service,
            action=event.action,
            result=event.result,
            reason=event.reason or None,
            objects=[AuditObjectRef(kind=o.kind, id=o.id, node_id=o.node_id or None) for o in event.objects],
            client_address=event.client_address or None,
            request_id=event.request_id or None,
            trace_id=event.trace_id or None,
        )


class AuditEventsPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EVENT_EXAMPLE], "next_cursor": None}]})

    items: list[AuditEventResponse]
    next_cursor: str | None
