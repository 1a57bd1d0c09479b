"""Between ticketing's domain objects and their protobuf form."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet_runtime.timestamps import optional_timestamp, timestamp
from ticketing.attachments.models import Attachment
from ticketing.tickets.models import Ticket, TicketHistory, TicketNote
from ticketing.tickets.service import resolution_overdue, response_overdue


def ticket(value: Ticket, now: datetime) -> pb.Ticket:
    return pb.Ticket(
        id=value.id,
        number=value.number,
        customer_id=value.customer_id,
        node_id=value.node_id,
        type=value.type,
        topic=value.topic,
        description=value.description,
        severity=value.severity,
        priority=value.priority,
        state=value.state,
        related=pb.RelatedEntities(
            msisdns=list(value.related_msisdns), operation_id=value.operation_id, bill_id=value.bill_id
        ),
        created_by=value.created_by,
        contact_msisdn=value.contact_msisdn,
        assignee_id=value.assignee_id,
        created_at=timestamp(value.created_at),
        updated_at=timestamp(value.updated_at),
        auto_close_at=optional_timestamp(value.auto_close_at),
        service_level=pb.ServiceLevel(
            response_due_at=timestamp(value.response_due_at),
            responded_at=optional_timestamp(value.responded_at),
            resolution_due_at=timestamp(value.resolution_due_at),
            resolved_at=optional_timestamp(value.resolved_at),
            response_overdue=response_overdue(value, now),
            resolution_overdue=resolution_overdue(value, now),
        ),
        note_count=value.note_count,
    )


def note(value: TicketNote, attachments: Sequence[Attachment] = ()) -> pb.Note:
    return pb.Note(
        id=value.id,
        ticket_id=value.ticket_id,
        author_id=value.author_id,
        author_kind=value.author_kind,
        body=value.body,
        created_at=timestamp(value.created_at),
        attachments=[attachment(a) for a in attachments],
    )


def notes(values: Sequence[TicketNote], attachments: dict[str, list[Attachment]]) -> list[pb.Note]:
    return [note(n, attachments.get(n.id, ())) for n in values]


def attachment(value: Attachment) -> pb.Attachment:
    return pb.Attachment(
        id=value.id,
        ticket_id=value.ticket_id,
        note_id=value.note_id or "",
        filename=value.filename,
        content_type=value.content_type,
        size=value.size,
        sha256=value.sha256,
        uploaded_by=value.uploaded_by,
        uploader_kind=value.uploader_kind,
        created_at=timestamp(value.created_at),
        expires_at=optional_timestamp(value.expires_at),
    )


def history(value: TicketHistory) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        action=value.action,
        from_state=value.from_state,
        to_state=value.to_state,
        actor_id=value.actor_id,
        actor_kind=value.actor_kind,
        reason=value.reason,
        assignee_id=value.assignee_id,
        occurred_at=timestamp(value.occurred_at),
    )
