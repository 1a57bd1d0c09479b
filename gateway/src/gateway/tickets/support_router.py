"""/v1/admin/tickets: the operator's support desk (TK-1, TK-4), answered by ticketing's SupportService.

Operator staff sign in like anyone and call with their access token; ticketing
checks that their operator role holds ``tickets:support`` (the ``support``
role). A customer's user gets a 403 (``OPERATOR_ONLY``) on every route here,
and support staff get a 403 (``OPERATOR_TOKEN``) on the customer's /v1/tickets.
A move the ticket's state does not allow support is a 409 ``TRANSITION_NOT_ALLOWED``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from gateway.deps import SignedInTicketing
from gateway.openapi import sends
from gateway.problems import ProblemError, problem_responses
from gateway.settings import GatewaySettings
from gateway.tickets import attachments
from gateway.tickets.attachments import AttachmentResponse
from gateway.tickets.router import AttachmentIdPath, Filename, TicketIdPath, checked_timestamp
from gateway.tickets.schemas import (
    AnswerRequest,
    AssignRequest,
    HistoryEntryResponse,
    NoteResponse,
    Severity,
    State,
    SupportNoteAdded,
    SupportQueuePage,
    SupportTicketDetails,
    SupportTicketResponse,
    TicketType,
    TransitionRequest,
)
from gateway.upstream.errors import fields_named
from simfleet.ticketing.v1 import support_pb2 as pb

router = APIRouter(prefix="/v1/admin/tickets", tags=["support desk"])

QUEUE_FIELDS = {
    "states": "state",
    "types": "type",
    "severities": "severity",
    "text": "q",
    "assignee_id": "assignee_id",
    "customer_id": "customer_id",
}
NEEDS = "Needs the operator permission `tickets:support` (the `support` role)."


@router.get(
    "",
    operation_id="listSupportQueue",
    summary="The support desk's queue",
    description="Every customer's tickets, oldest first unless sorted otherwise, with their due times and "
    "overdue flags. `overdue=true`: only tickets late on their first answer or their resolution; `q` looks in the "
    f"number, the topic and the description. {NEEDS}",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_queue(
    ticketing: SignedInTicketing,
    response: Response,
    state: Annotated[list[State] | None, Query(max_length=8, description="any of these states")] = None,
    type: Annotated[list[TicketType] | None, Query(max_length=6, description="any of these types")] = None,
    severity: Annotated[list[Severity] | None, Query(max_length=4, description="any of these severities")] = None,
    assignee_id: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", description="only this staff member's"),
    ] = None,
    unassigned: Annotated[bool, Query(description="only tickets nobody has taken")] = False,
    customer_id: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", description="only this customer's")
    ] = None,
    overdue: Annotated[bool, Query(description="only tickets late on their response or resolution")] = False,
    created_from: Annotated[datetime | None, Query(description="filed at or after (with a time zone)")] = None,
    created_until: Annotated[datetime | None, Query(description="filed before")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="text to look for")] = None,
    sort: Annotated[
        Literal["created_at", "-created_at", "updated_at", "-updated_at", "number", "-number"], Query()
    ] = "created_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> SupportQueuePage:
    if assignee_id and unassigned:
        raise ProblemError(422, "INVALID_FILTER", "assignee_id and unassigned=true exclude each other")
    request = pb.ListQueueRequest(
        customer_id=customer_id or "",
        states=state or [],
        types=type or [],
        severities=severity or [],
        assignee_id=assignee_id or "",
        unassigned=unassigned,
        overdue=overdue,
        text=q or "",
        order_by=sort,
        page_size=limit,
        page_token=cursor or "",
    )
    if created_from is not None:
        request.created_from.CopyFrom(checked_timestamp(created_from, "created_from"))
    if created_until is not None:
        request.created_until.CopyFrom(checked_timestamp(created_until, "created_until"))
    with fields_named(QUEUE_FIELDS):
        answer = await ticketing.call(ticketing.support.ListQueue, request)
    response.headers["Cache-Control"] = "no-store"
    return SupportQueuePage(
        items=[SupportTicketResponse.from_proto(t) for t in answer.tickets], next_cursor=answer.next_page_token or None
    )


@router.get(
    "/{ticket_id}",
    operation_id="getSupportTicket",
    summary="A ticket at the support desk",
    description=f"Any customer's ticket with its conversation, history, due times and overdue flags. {NEEDS}",
    responses=problem_responses(401, 403, 404, 422),
)
async def show_ticket(
    ticket_id: TicketIdPath, ticketing: SignedInTicketing, response: Response
) -> SupportTicketDetails:
    answer = await ticketing.call(ticketing.support.ShowTicket, pb.ShowTicketRequest(ticket_id=ticket_id))
    response.headers["Cache-Control"] = "no-store"
    return SupportTicketDetails(
        ticket=SupportTicketResponse.from_proto(answer.ticket),
        notes=[NoteResponse.from_proto(n) for n in answer.notes],
        history=[HistoryEntryResponse.from_proto(h) for h in answer.history],
    )


@router.post(
    "/{ticket_id}/assign",
    operation_id="assignSupportTicket",
    summary="Give a ticket to a support staff member",
    description="Or to nobody (`assignee_id: null`); recorded in the ticket's history. A ticket that ended "
    f"(closed, cancelled, rejected) is not assigned any more (409 `TICKET_ENDED`). {NEEDS}",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def assign_ticket(
    ticket_id: TicketIdPath, body: AssignRequest, ticketing: SignedInTicketing
) -> SupportTicketResponse:
    request = pb.AssignRequest(ticket_id=ticket_id, assignee_id=body.assignee_id or "")
    return SupportTicketResponse.from_proto((await ticketing.call(ticketing.support.Assign, request)).ticket)


@router.post(
    "/{ticket_id}/transition",
    operation_id="transitionSupportTicket",
    summary="Move a ticket to another state",
    description="Only the moves the transition matrix allows support (e.g. `acknowledged` → `inProgress`, "
    "`inProgress` → `pending`, `held`, `resolved` or `rejected`); any other is refused (409 "
    "`TRANSITION_NOT_ALLOWED`) and changes nothing. A reason is required for `pending`, `held` and `rejected`. "
    f"{NEEDS}",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def transition_ticket(
    ticket_id: TicketIdPath, body: TransitionRequest, ticketing: SignedInTicketing
) -> SupportTicketResponse:
    request = pb.TransitionRequest(ticket_id=ticket_id, to_state=body.to_state, reason=body.reason or "")
    return SupportTicketResponse.from_proto((await ticketing.call(ticketing.support.Transition, request)).ticket)


@router.post(
    "/{ticket_id}/answers",
    operation_id="answerSupportTicket",
    summary="Answer a ticket",
    description="A note from support, with up to 5 of the caller's uploads to the ticket (`attachment_ids`); the "
    "first one is the ticket's response (its response time stops). With "
    "`to_state` the ticket also moves there in the same step, when the matrix allows it (409 "
    "`TRANSITION_NOT_ALLOWED` otherwise, and nothing is written). A ticket that ended takes no note (409 "
    f"`TICKET_ENDED`). {NEEDS}",
    status_code=status.HTTP_201_CREATED,
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def answer_ticket(
    ticket_id: TicketIdPath, body: AnswerRequest, ticketing: SignedInTicketing, response: Response
) -> SupportNoteAdded:
    request = pb.AnswerRequest(
        ticket_id=ticket_id, body=body.body, to_state=body.to_state or "", attachment_ids=body.attachment_ids
    )
    answer = await ticketing.call(ticketing.support.Answer, request)
    response.headers["Location"] = f"/v1/admin/tickets/{ticket_id}"
    return SupportNoteAdded(
        note=NoteResponse.from_proto(answer.note), ticket=SupportTicketResponse.from_proto(answer.ticket)
    )


@router.post(
    "/{ticket_id}/attachments",
    operation_id="uploadSupportAttachment",
    summary="Upload a file to any customer's ticket",
    description="As a customer's upload (`POST /v1/tickets/{ticket_id}/attachments`: the raw file, at most 10 MiB, "
    "its type decided by the content, its name in `filename`), for the caller's next answer (`attachment_ids`). "
    f"{NEEDS}",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=attachments.UPLOAD_BODY,
    responses={
        201: sends("Location"),
        **problem_responses(400, 401, 403, 404, 409, 422),
        **attachments.UPLOAD_PROBLEMS,
    },
)
async def upload_attachment(
    ticket_id: TicketIdPath, filename: Filename, request: Request, ticketing: SignedInTicketing, response: Response
) -> AttachmentResponse:
    settings: GatewaySettings = request.app.state.settings
    stored = await attachments.upload(
        request,
        ticketing,
        ticketing.support.UploadSupportAttachment,
        pb.UploadSupportAttachmentRequest,
        ticket_id,
        filename,
        settings.max_attachment_bytes,
    )
    response.headers["Location"] = f"/v1/admin/tickets/{ticket_id}/attachments/{stored.id}"
    return AttachmentResponse.from_proto(stored)


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    operation_id="downloadSupportAttachment",
    summary="Download a file of any customer's ticket",
    description=f"A file of one of the ticket's notes, or the caller's own upload that waits for a note. {NEEDS}",
    response_class=StreamingResponse,
    responses={**attachments.DOWNLOAD_ANSWER, **problem_responses(401, 403, 404, 422)},
)
async def download_attachment(
    ticket_id: TicketIdPath, attachment_id: AttachmentIdPath, ticketing: SignedInTicketing
) -> StreamingResponse:
    return await attachments.download(
        ticketing,
        ticketing.support.DownloadSupportAttachment,
        pb.DownloadSupportAttachmentRequest(ticket_id=ticket_id, attachment_id=attachment_id),
    )
