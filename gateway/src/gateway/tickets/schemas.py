"""Bodies of /v1/tickets: customers' tickets (TK-1, TK-2, TK-4), their conversation and history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from gateway.lines.schemas import MSISDN_PATTERN, optional_timestamp
from gateway.text import HumanText, HumanTextBlock
from gateway.tickets.attachments import ATTACHMENT_EXAMPLE, AttachmentResponse
from simfleet.ticketing.v1 import tickets_pb2 as pb

TicketType = Literal["question", "fault", "billing_dispute", "complaint", "suggestion", "request_by_form"]
Severity = Literal["critical", "high", "medium", "low"]
Priority = Literal["urgent", "high", "normal", "low"]
State = Literal["acknowledged", "inProgress", "pending", "held", "resolved", "closed", "cancelled", "rejected"]
Msisdn = Annotated[str, StringConstraints(pattern=MSISDN_PATTERN)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]

TICKET_ID = "01JA5F6G7H8J9K0M1N2P3Q4R5S"
NODE_ID = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
USER_ID = "01J9Z3K8Q4W7N2M5X6Y8B0C1D2"
_TICKET_EXAMPLE: dict[str, JsonValue] = {
    "id": TICKET_ID,
    "number": "T-2026-000123",
    "node_id": NODE_ID,
    "type": "fault",
    "topic": "No data on two lines",
    "description": "Since this morning two lines have no mobile data.",
    "severity": "high",
    "priority": "normal",
    "state": "inProgress",
    "related": {"lines": ["+79160000001"], "operation_id": None, "bill_id": None},
    "created_by": USER_ID,
    "contact_msisdn": "+79161234567",
    "assigned": True,
    "created_at": "2026-12-07T09:30:00Z",
    "updated_at": "2026-12-07T10:05:00Z",
    "auto_close_at": None,
    "service_level": {
        "response_due_at": "2026-12-07T13:30:00Z",
        "responded_at": "2026-12-07T10:05:00Z",
        "resolution_due_at": "2026-12-10T09:30:00Z",
        "resolved_at": None,
        "response_overdue": False,
        "resolution_overdue": False,
    },
    "note_count": 1,
}
_NOTE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA5F6G7H8J9K0M1N2P3Q4R5T",
    "author_kind": "support",
    "author_id": "01JA0A1B2C3D4E5F6G7H8J9K0M",
    "body": "Which handsets are they?",
    "created_at": "2026-12-07T10:05:00Z",
    "attachments": [],
}
_HISTORY_EXAMPLE: dict[str, JsonValue] = {
    "action": "state_changed",
    "from_state": "acknowledged",
    "to_state": "inProgress",
    "actor_kind": "support",
    "actor_id": "01JA0A1B2C3D4E5F6G7H8J9K0M",
    "reason": None,
    "occurred_at": "2026-12-07T10:00:00Z",
}


def _time(stamp: object) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined, no-any-return]


class RelatedEntities(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[Msisdn] = Field(default_factory=list, max_length=100, description="lines it concerns, E.164")
    operation_id: Reference | None = Field(None, description="a line operation it concerns")
    bill_id: Reference | None = Field(None, description="a bill it concerns")


class RelatedResponse(BaseModel):
    lines: list[str]
    operation_id: str | None
    bill_id: str | None


class ServiceLevelResponse(BaseModel):
    response_due_at: datetime = Field(description="support's first answer is due by then (target by severity)")
    responded_at: datetime | None
    resolution_due_at: datetime
    resolved_at: datetime | None = Field(description="when it was resolved, or ended otherwise")
    response_overdue: bool
    resolution_overdue: bool


class TicketResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TICKET_EXAMPLE]})

    id: str
    number: str = Field(description="the registration number to quote: T-<year>-<6 digits>")
    node_id: str
    type: TicketType
    topic: str
    description: str
    severity: Severity
    priority: Priority
    state: State = Field(description="as TM Forum TMF621 names it")
    related: RelatedResponse
    created_by: str
    contact_msisdn: str | None = Field(description="where SMS notices about it go")
    assigned: bool = Field(description="whether a support staff member has taken it")
    created_at: datetime
    updated_at: datetime
    auto_close_at: datetime | None = Field(description="while resolved: when it closes itself unless reopened")
    service_level: ServiceLevelResponse
    note_count: int

    @classmethod
    def from_proto(cls, t: pb.Ticket) -> TicketResponse:
        level = t.service_level
        return cls(
            id=t.id,
            number=t.number,
            node_id=t.node_id,
            type=t.type,
            topic=t.topic,
            description=t.description,
            severity=t.severity,
            priority=t.priority,
            state=t.state,
            related=RelatedResponse(
                lines=list(t.related.msisdns),
                operation_id=t.related.operation_id or None,
                bill_id=t.related.bill_id or None,
            ),
            created_by=t.created_by,
            contact_msisdn=t.contact_msisdn or None,
            assigned=bool(t.assignee_id),
            created_at=_time(t.created_at),
            updated_at=_time(t.updated_at),
            auto_close_at=optional_timestamp(t, "auto_close_at"),
            service_level=ServiceLevelResponse(
                response_due_at=_time(level.response_due_at),
                responded_at=optional_timestamp(level, "responded_at"),
                resolution_due_at=_time(level.resolution_due_at),
                resolved_at=optional_timestamp(level, "resolved_at"),
                response_overdue=level.response_overdue,
                resolution_overdue=level.resolution_overdue,
            ),
            note_count=t.note_count,
        )


class NoteResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_NOTE_EXAMPLE]})

    id: str
    author_kind: Literal["customer", "support"]
    author_id: str = Field(description="the customer's user, or the support staff member")
    body: str
    created_at: datetime
    attachments: list[AttachmentResponse] = Field(
        description="its files, to download from `.../tickets/{ticket_id}/attachments/{attachment_id}`"
    )

    @classmethod
    def from_proto(cls, n: pb.Note) -> NoteResponse:
        return cls(
            id=n.id,
            author_kind=n.author_kind,
            author_id=n.author_id,
            body=n.body,
            created_at=_time(n.created_at),
            attachments=[AttachmentResponse.from_proto(a) for a in n.attachments],
        )


class HistoryEntryResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_HISTORY_EXAMPLE]})

    action: Literal["created", "state_changed", "assigned", "node_changed"] = Field(
        description="`node_changed`: its node was deleted and it moved up to the parent (the reason says so)"
    )
    from_state: State | None
    to_state: State
    actor_kind: Literal["customer", "support", "system"]
    actor_id: str
    reason: str | None
    occurred_at: datetime

    @classmethod
    def from_proto(cls, h: pb.HistoryEntry) -> HistoryEntryResponse:
        return cls(
            action=h.action,
            from_state=h.from_state or None,
            to_state=h.to_state,
            actor_kind=h.actor_kind,
            actor_id=h.actor_id,
            reason=h.reason or None,
            occurred_at=_time(h.occurred_at),
        )


class TicketDetails(BaseModel):
    """A ticket with its conversation and history, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket": _TICKET_EXAMPLE, "notes": [_NOTE_EXAMPLE], "history": [_HISTORY_EXAMPLE]}]
        }
    )

    ticket: TicketResponse
    notes: list[NoteResponse]
    history: list[HistoryEntryResponse]


class TicketsPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_TICKET_EXAMPLE], "next_cursor": None}]})

    items: list[TicketResponse]
    next_cursor: str | None


class TicketHistoryResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_HISTORY_EXAMPLE]}]})

    items: list[HistoryEntryResponse]


class NewTicketRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "node_id": NODE_ID,
                    "type": "fault",
                    "topic": "No data on two lines",
                    "description": "Since this morning two lines have no mobile data.",
                    "severity": "high",
                    "related": {"lines": ["+79160000001"]},
                    "contact_msisdn": "+79161234567",
                }
            ]
        },
    )

    node_id: str = Field(min_length=1, max_length=64, description="the node it belongs to (tickets:write there)")
    type: TicketType
    topic: Annotated[str, HumanText] = Field(min_length=1, max_length=200, description="one line")
    description: Annotated[str, HumanTextBlock] = Field(min_length=1, max_length=10_000)
    severity: Severity = "medium"
    priority: Priority = "normal"
    related: RelatedEntities = Field(default_factory=RelatedEntities)
    contact_msisdn: Msisdn | None = Field(None, description="E.164: where SMS notices about it go")

    def to_proto(self, key: str | None) -> pb.CreateTicketRequest:
        return pb.CreateTicketRequest(
            node_id=self.node_id,
            type=self.type,
            topic=self.topic,
            description=self.description,
            severity=self.severity,
            priority=self.priority,
            related=pb.RelatedEntities(
                msisdns=self.related.lines,
                operation_id=self.related.operation_id or "",
                bill_id=self.related.bill_id or "",
            ),
            contact_msisdn=self.contact_msisdn or "",
            idempotency_key=key or "",
        )


AttachmentId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]


def attachment_ids() -> Any:
    return Field(
        default_factory=list,
        max_length=5,
        description="up to 5 of your uploads to this ticket that no note took yet (`POST .../attachments`)",
    )


class NoteRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"body": "Both are iPhones; the error is in the photo.", "attachment_ids": [ATTACHMENT_EXAMPLE["id"]]}
            ]
        },
    )

    body: Annotated[str, HumanTextBlock] = Field(min_length=1, max_length=10_000)
    attachment_ids: list[AttachmentId] = attachment_ids()


class NoteAdded(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": _NOTE_EXAMPLE, "ticket": _TICKET_EXAMPLE}]})

    note: NoteResponse
    ticket: TicketResponse


class ReasonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "Solved by a restart."}]})

    reason: Annotated[str, HumanTextBlock] | None = Field(None, max_length=1_000, description="why (optional)")


# ---------------------------------------------------------------- the support desk (/v1/admin/tickets)
STAFF_ID = "01JA0A1B2C3D4E5F6G7H8J9K0M"
CUSTOMER_ID = "01M80FS1VH2MZKYX1PNS53P8M2"
StaffId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
_SUPPORT_TICKET_EXAMPLE: dict[str, JsonValue] = {
    **_TICKET_EXAMPLE,
    "customer_id": CUSTOMER_ID,
    "assignee_id": STAFF_ID,
}


class SupportTicketResponse(TicketResponse):
    """A ticket as the support desk sees it: also whose it is and who works on it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUPPORT_TICKET_EXAMPLE]})

    customer_id: str
    assignee_id: str | None = Field(description="the support staff member working on it; null: nobody yet")

    @classmethod
    def from_proto(cls, t: pb.Ticket) -> SupportTicketResponse:
        seen = TicketResponse.from_proto(t).model_dump()
        return cls(**seen, customer_id=t.customer_id, assignee_id=t.assignee_id or None)


class SupportTicketDetails(BaseModel):
    """A ticket with its conversation and history, oldest first, and its due times and overdue flags."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket": _SUPPORT_TICKET_EXAMPLE, "notes": [_NOTE_EXAMPLE], "history": [_HISTORY_EXAMPLE]}]
        }
    )

    ticket: SupportTicketResponse
    notes: list[NoteResponse]
    history: list[HistoryEntryResponse]


class SupportQueuePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_SUPPORT_TICKET_EXAMPLE], "next_cursor": None}]}
    )

    items: list[SupportTicketResponse]
    next_cursor: str | None


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"assignee_id": STAFF_ID}]})

    assignee_id: StaffId | None = Field(description="the support staff member's user id; null: nobody")


class TransitionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to_state": "pending", "reason": "Waiting for the handsets' models."}]},
    )

    to_state: State
    reason: Annotated[str, HumanTextBlock] | None = Field(
        None, max_length=1_000, description="why; required for `pending`, `held` and `rejected`"
    )


class AnswerRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Restart the handsets, please.", "to_state": "pending"}]},
    )

    body: Annotated[str, HumanTextBlock] = Field(min_length=1, max_length=10_000)
    to_state: State | None = Field(None, description="also move the ticket there in the same step (e.g. `resolved`)")
    attachment_ids: list[AttachmentId] = attachment_ids()


class SupportNoteAdded(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": _NOTE_EXAMPLE, "ticket": _SUPPORT_TICKET_EXAMPLE}]}
    )

    note: NoteResponse
    ticket: SupportTicketResponse
