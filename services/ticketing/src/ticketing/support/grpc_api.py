"""simfleet.ticketing.v1.SupportService: the operator's support desk over every customer's tickets.

For operator staff holding the operator permission ``tickets:support`` (the
``support`` role has it; the back-office's onboarding role does not), or the
platform's automation presenting the operator key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from simfleet.ticketing.v1 import support_pb2 as pb
from simfleet.ticketing.v1 import support_pb2_grpc
from simfleet_runtime.authz import TICKETS_SUPPORT, Authorizer
from simfleet_runtime.errors import InvalidArgument
from ticketing import audit_commands as actions
from ticketing import convert
from ticketing.attachments import streams
from ticketing.attachments.service import Attachments, checked_ids
from ticketing.tickets import catalogue as cat
from ticketing.tickets import lifecycle as lc
from ticketing.tickets import validation
from ticketing.tickets.grpc_api import choices, filters
from ticketing.tickets.models import Ticket
from ticketing.tickets.service import Actor, Tickets

SERVICE_NAME = "simfleet.ticketing.v1.SupportService"
PERMISSION = TICKETS_SUPPORT
ID_MAX = 64


def _staff_id(value: str, field: str) -> str:
    if len(value) > ID_MAX or not value.isprintable() or value != value.strip():
        raise InvalidArgument(
            f"{field} is an id of at most {ID_MAX} printable characters",
            reason="INVALID_ARGUMENT",
            field_violations={field: f"at most {ID_MAX} printable characters, no blanks around"},
        )
    return value


class SupportApi(support_pb2_grpc.SupportServiceServicer):
    def __init__(
        self, *, tickets: Tickets, attachments: Attachments, authorizer: Authorizer, operator_key: str
    ) -> None:
        self._tickets = tickets
        self._attachments = attachments
        self._authz = authorizer
        self._operator_key = operator_key

    async def _actor(self) -> Actor:
        return Actor(await self._authz.operator_or_key(PERMISSION, self._operator_key), lc.SUPPORT)

    def _pb(self, ticket: Ticket) -> Any:
        return convert.ticket(ticket, self._tickets.clock.now())

    async def ListQueue(self, request: pb.ListQueueRequest, context: Any) -> pb.ListQueueResponse:
        await self._actor()
        chosen = filters(
            request,
            severities=choices(request.severities, cat.SEVERITIES, "severities"),
            customer_id=_staff_id(request.customer_id, "customer_id"),
            assignee_id=_staff_id(request.assignee_id, "assignee_id"),
            unassigned=request.unassigned,
            overdue=request.overdue,
        )
        found, token = await self._tickets.list(
            None, chosen, page_size=request.page_size, page_token=request.page_token, order_by=request.order_by
        )
        return pb.ListQueueResponse(tickets=[self._pb(t) for t in found], next_page_token=token)

    async def ShowTicket(self, request: pb.ShowTicketRequest, context: Any) -> pb.ShowTicketResponse:
        await self._actor()
        ticket = await self._tickets.get(request.ticket_id)
        return pb.ShowTicketResponse(
            ticket=self._pb(ticket),
            notes=convert.notes(await self._tickets.notes(ticket.id), await self._attachments.of_notes(ticket.id)),
            history=[convert.history(h) for h in await self._tickets.history(ticket.id)],
        )

    async def Assign(self, request: pb.AssignRequest, context: Any) -> pb.AssignResponse:
        actor = await self._actor()
        assignee = _staff_id(request.assignee_id, "assignee_id")
        ticket = await self._tickets.assign(request.ticket_id, actor, assignee, action=actions.ASSIGN)
        return pb.AssignResponse(ticket=self._pb(ticket))

    async def Transition(self, request: pb.TransitionRequest, context: Any) -> pb.TransitionResponse:
        actor = await self._actor()
        to_state = lc.check_state(request.to_state, field="to_state")
        why = validation.reason(request.reason, required=to_state in lc.REASON_REQUIRED)
        ticket = await self._tickets.move(request.ticket_id, to_state, actor, reason=why, action=actions.TRANSITION)
        return pb.TransitionResponse(ticket=self._pb(ticket))

    async def Answer(self, request: pb.AnswerRequest, context: Any) -> pb.AnswerResponse:
        actor = await self._actor()
        body = validation.body(request.body)
        to_state = lc.check_state(request.to_state, field="to_state") if request.to_state else ""
        ids = checked_ids(request.attachment_ids, self._attachments.limits)
        note, ticket = await self._tickets.add_note(
            request.ticket_id, actor, body, to_state=to_state, action=actions.ANSWER, attachment_ids=ids
        )
        attached = (await self._attachments.of_notes(ticket.id)).get(note.id, []) if ids else []
        return pb.AnswerResponse(note=convert.note(note, attached), ticket=self._pb(ticket))

    async def UploadSupportAttachment(self, requests: Any, context: Any) -> pb.UploadSupportAttachmentResponse:
        upload = await streams.receive(requests)
        async with upload.refusals_heard(self._attachments.limits.max_bytes):
            actor = await self._actor()
            ticket = await self._tickets.get(upload.start.ticket_id)
            attachment = await self._attachments.upload(
                ticket, actor, upload.start.filename, upload.pieces(), action=actions.SUPPORT_ATTACH
            )
        return pb.UploadSupportAttachmentResponse(attachment=convert.attachment(attachment))

    async def DownloadSupportAttachment(
        self, request: pb.DownloadSupportAttachmentRequest, context: Any
    ) -> AsyncIterator[pb.DownloadSupportAttachmentResponse]:
        actor = await self._actor()
        ticket = await self._tickets.get(request.ticket_id)
        found, content = await self._attachments.open(ticket.id, request.attachment_id, actor.id)
        yield pb.DownloadSupportAttachmentResponse(attachment=convert.attachment(found))
        async for chunk in content:
            yield pb.DownloadSupportAttachmentResponse(chunk=chunk)
