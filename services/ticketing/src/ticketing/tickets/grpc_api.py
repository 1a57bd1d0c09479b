"""simfleet.ticketing.v1.TicketService: tickets as the customer's users see them (TK-1, TK-2, TK-4).

Reading needs ``tickets:read`` over the ticket's node, everything else
``tickets:write``; a ticket outside the caller's scope, or another customer's,
is NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet.ticketing.v1 import tickets_pb2_grpc
from simfleet_runtime.authz import Access, Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.timestamps import to_datetime
from ticketing import audit_commands as actions
from ticketing import convert
from ticketing.attachments import streams
from ticketing.attachments.service import Attachments, checked_ids
from ticketing.tickets import catalogue as cat
from ticketing.tickets import lifecycle as lc
from ticketing.tickets import validation
from ticketing.tickets.models import Ticket
from ticketing.tickets.service import Actor, Filters, Scope, Tickets

SERVICE_NAME = "simfleet.ticketing.v1.TicketService"
READ = "tickets:read"
WRITE = "tickets:write"
IDEMPOTENCY_KEY_MAX = 128
TEXT_MAX = 200


def choices(values: Any, allowed: tuple[str, ...], field: str) -> list[str]:
    chosen = list(dict.fromkeys(values))
    wrong = [v for v in chosen if v not in allowed]
    if wrong:
        raise InvalidArgument(
            f"{field} must be among {', '.join(allowed)}",
            reason="INVALID_FILTER",
            field_violations={field: f"unknown: {', '.join(wrong)[:200]}"},
        )
    return chosen


def filters(request: Any, **extra: Any) -> Filters:
    """The filters the customer's list and the support desk's queue share."""
    text = request.text.strip()
    if len(text) > TEXT_MAX:
        raise InvalidArgument(
            f"text is at most {TEXT_MAX} characters",
            reason="INVALID_FILTER",
            field_violations={"text": f"at most {TEXT_MAX} characters"},
        )
    created_from = to_datetime(request.created_from) if request.HasField("created_from") else None
    created_until = to_datetime(request.created_until) if request.HasField("created_until") else None
    if created_from and created_until and created_from >= created_until:
        raise InvalidArgument(
            "created_from must come before created_until",
            reason="INVALID_FILTER",
            field_violations={"created_until": "after created_from"},
        )
    return Filters(
        states=choices(request.states, lc.STATES, "states"),
        types=choices(request.types, cat.TYPES, "types"),
        created_from=created_from,
        created_until=created_until,
        text=text,
        **extra,
    )


class TicketApi(tickets_pb2_grpc.TicketServiceServicer):
    def __init__(self, *, tickets: Tickets, attachments: Attachments, authorizer: Authorizer) -> None:
        self._tickets = tickets
        self._attachments = attachments
        self._authz = authorizer

    async def _ticket(self, permission: str, ticket_id: str) -> tuple[Access, Ticket]:
        access = await self._authz.access()
        ticket = await self._tickets.get(ticket_id, customer_id=access.customer_id)
        path = await self._authz.path(access, ticket.node_id)
        if path is None:
            # The paths are read apart from the ticket: its node may have been deleted in between, and the
            # transaction that deleted it moved the ticket up. Read again, after the deletion, before refusing.
            ticket = await self._tickets.get(ticket_id, customer_id=access.customer_id)
            path = await self._authz.path(access, ticket.node_id)
        access.check(permission, path, what="ticket")
        return access, ticket

    def _pb(self, ticket: Ticket) -> pb.Ticket:
        return convert.ticket(ticket, self._tickets.clock.now())

    async def CreateTicket(self, request: pb.CreateTicketRequest, context: Any) -> pb.CreateTicketResponse:
        access = await self._authz.access()
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        new = validation.new_ticket(
            node_id=request.node_id,
            type=request.type,
            topic=request.topic,
            description=request.description,
            severity=request.severity,
            priority=request.priority,
            msisdns=list(request.related.msisdns),
            operation_id=request.related.operation_id,
            bill_id=request.related.bill_id,
            contact_msisdn=request.contact_msisdn,
        )
        access.check(WRITE, await self._authz.path(access, new.node_id), what="node")
        ticket, replayed = await self._tickets.create(
            customer_id=access.customer_id, user_id=access.user_id, new=new, idempotency_key=key
        )
        return pb.CreateTicketResponse(ticket=self._pb(ticket), replayed=replayed)

    async def GetTicket(self, request: pb.GetTicketRequest, context: Any) -> pb.GetTicketResponse:
        _, ticket = await self._ticket(READ, request.ticket_id)
        return pb.GetTicketResponse(
            ticket=self._pb(ticket),
            notes=convert.notes(await self._tickets.notes(ticket.id), await self._attachments.of_notes(ticket.id)),
            history=[convert.history(h) for h in await self._tickets.history(ticket.id)],
        )

    async def ListTickets(self, request: pb.ListTicketsRequest, context: Any) -> pb.ListTicketsResponse:
        access = await self._authz.access()
        chosen = filters(request)
        if request.node_id:
            path = await self._authz.path(access, request.node_id)
            access.check(READ, path, what="node")
            found = await self._tickets.node_path(access.customer_id, request.node_id)
            scope = Scope(access.customer_id, [found] if found else [])
        else:
            access.require(READ)
            scope = await self._tickets.scope(access.customer_id, access.roots(READ))
        found_tickets, token = await self._tickets.list(
            scope, chosen, page_size=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return pb.ListTicketsResponse(tickets=[self._pb(t) for t in found_tickets], next_page_token=token)

    async def AddNote(self, request: pb.AddNoteRequest, context: Any) -> pb.AddNoteResponse:
        access, ticket = await self._ticket(WRITE, request.ticket_id)
        body = validation.body(request.body)
        ids = checked_ids(request.attachment_ids, self._attachments.limits)
        note, ticket = await self._tickets.add_note(
            ticket.id,
            Actor(access.user_id, lc.CUSTOMER),
            body,
            customer_id=access.customer_id,
            action=actions.NOTE,
            attachment_ids=ids,
        )
        attached = (await self._attachments.of_notes(ticket.id)).get(note.id, []) if ids else []
        return pb.AddNoteResponse(note=convert.note(note, attached), ticket=self._pb(ticket))

    async def _customer_move(self, ticket_id: str, to_state: str, reason: str, action: str) -> Ticket:
        access, ticket = await self._ticket(WRITE, ticket_id)
        why = validation.reason(reason)
        return await self._tickets.move(
            ticket.id,
            to_state,
            Actor(access.user_id, lc.CUSTOMER),
            reason=why,
            customer_id=access.customer_id,
            action=action,
        )

    async def CancelTicket(self, request: pb.CancelTicketRequest, context: Any) -> pb.CancelTicketResponse:
        ticket = await self._customer_move(request.ticket_id, lc.CANCELLED, request.reason, actions.CANCEL)
        return pb.CancelTicketResponse(ticket=self._pb(ticket))

    async def ReopenTicket(self, request: pb.ReopenTicketRequest, context: Any) -> pb.ReopenTicketResponse:
        ticket = await self._customer_move(request.ticket_id, lc.IN_PROGRESS, request.reason, actions.REOPEN)
        return pb.ReopenTicketResponse(ticket=self._pb(ticket))

    async def ConfirmResolution(
        self, request: pb.ConfirmResolutionRequest, context: Any
    ) -> pb.ConfirmResolutionResponse:
        ticket = await self._customer_move(request.ticket_id, lc.CLOSED, request.reason, actions.CONFIRM)
        return pb.ConfirmResolutionResponse(ticket=self._pb(ticket))

    async def TicketHistory(self, request: pb.TicketHistoryRequest, context: Any) -> pb.TicketHistoryResponse:
        _, ticket = await self._ticket(READ, request.ticket_id)
        return pb.TicketHistoryResponse(history=[convert.history(h) for h in await self._tickets.history(ticket.id)])

    async def UploadAttachment(self, requests: Any, context: Any) -> pb.UploadAttachmentResponse:
        upload = await streams.receive(requests)
        async with upload.refusals_heard(self._attachments.limits.max_bytes):
            access, ticket = await self._ticket(WRITE, upload.start.ticket_id)
            attachment = await self._attachments.upload(
                ticket,
                Actor(access.user_id, lc.CUSTOMER),
                upload.start.filename,
                upload.pieces(),
                action=actions.ATTACH,
            )
        return pb.UploadAttachmentResponse(attachment=convert.attachment(attachment))

    async def DownloadAttachment(
        self, request: pb.DownloadAttachmentRequest, context: Any
    ) -> AsyncIterator[pb.DownloadAttachmentResponse]:
        access, ticket = await self._ticket(READ, request.ticket_id)
        found, content = await self._attachments.open(ticket.id, request.attachment_id, access.user_id)
        yield pb.DownloadAttachmentResponse(attachment=convert.attachment(found))
        async for chunk in content:
            yield pb.DownloadAttachmentResponse(chunk=chunk)
