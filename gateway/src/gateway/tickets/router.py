"""/v1/tickets: the customer's tickets (TK-1, TK-2, TK-4), answered by ticketing.

ticketing verifies the access token and decides: reading needs ``tickets:read``
over the ticket's node, filing, writing, cancelling, reopening and confirming
``tickets:write``; a ticket outside the caller's scope is a 404. A move the
ticket's state does not allow is a 409 ``TRANSITION_NOT_ALLOWED``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.deps import SignedInTicketing
from gateway.openapi import sends
from gateway.problems import ProblemError, problem_responses
from gateway.settings import GatewaySettings
from gateway.tickets import attachments
from gateway.tickets.attachments import AttachmentResponse
from gateway.tickets.schemas import (
    HistoryEntryResponse,
    NewTicketRequest,
    NoteAdded,
    NoteRequest,
    NoteResponse,
    ReasonRequest,
    State,
    TicketDetails,
    TicketHistoryResponse,
    TicketResponse,
    TicketsPage,
    TicketType,
)
from gateway.upstream.errors import fields_named
from simfleet.ticketing.v1 import tickets_pb2 as pb
from simfleet_runtime.timestamps import timestamp

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])
Route = TypeVar("Route", bound=Callable[..., Any])

TicketIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$", description="a ticket's id")]
AttachmentIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$", description="an attachment's id")
]
Filename = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        description="the file's name (percent-encoded UTF-8; no path or control characters): kept cleaned, its "
        "extension made to match the content",
        examples=["invoice.pdf"],
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=128,
        pattern=r"^[\x20-\x7e]+$",
        description="any printable text, unique per intended ticket: a retry with the same key and body files "
        "nothing more (200, `Idempotent-Replayed: true`); the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)",
        examples=["01JA3D4E5F6G7H8J9K0M1N2P3Q"],
    ),
]
BODY_FIELDS = {"msisdns": "related.lines"}
OptionalReason = Annotated[
    ReasonRequest | None,
    Body(openapi_examples={"why": {"summary": "with a reason", "value": {"reason": "Solved by a restart."}}}),
]


def checked_timestamp(value: datetime, field: str) -> Timestamp:
    if value.tzinfo is None:
        raise ProblemError(422, "INVALID_TIME", f"{field} needs a time zone, e.g. 2026-01-15T09:30:00Z")
    return timestamp(value)


@router.post(
    "",
    operation_id="createTicket",
    summary="File a ticket",
    description="A question, a fault, a billing dispute, a complaint, a suggestion or a request by form, under a "
    "node (`tickets:write` there). It starts `acknowledged` and gets its registration number "
    "(`T-<year>-<6 digits>`). 201 for a new one; with an `Idempotency-Key` a retry answers the first.",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: sends("Location"),
        200: sends("Idempotent-Replayed"),
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def create_ticket(
    body: NewTicketRequest,
    ticketing: SignedInTicketing,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TicketResponse:
    with fields_named(BODY_FIELDS):
        answer = await ticketing.call(ticketing.tickets.CreateTicket, body.to_proto(idempotency_key))
    if answer.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        response.headers["Location"] = f"/v1/tickets/{answer.ticket.id}"
    return TicketResponse.from_proto(answer.ticket)


@router.get(
    "",
    operation_id="listTickets",
    summary="The tickets",
    description="The tickets under the nodes where the caller holds `tickets:read`, newest first unless sorted "
    "otherwise; `q` looks in the number, the topic and the description.",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_tickets(
    ticketing: SignedInTicketing,
    response: Response,
    state: Annotated[list[State] | None, Query(max_length=8, description="any of these states")] = None,
    type: Annotated[list[TicketType] | None, Query(max_length=6, description="any of these types")] = None,
    created_from: Annotated[datetime | None, Query(description="filed at or after (with a time zone)")] = None,
    created_until: Annotated[datetime | None, Query(description="filed before")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="text to look for")] = None,
    node_id: Annotated[str | None, Query(max_length=64, description="only tickets at or under this node")] = None,
    sort: Annotated[
        Literal["-created_at", "created_at", "-updated_at", "updated_at", "-number", "number"], Query()
    ] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> TicketsPage:
    request = pb.ListTicketsRequest(
        states=state or [],
        types=type or [],
        text=q or "",
        node_id=node_id or "",
        order_by=sort,
        page_size=limit,
        page_token=cursor or "",
    )
    if created_from is not None:
        request.created_from.CopyFrom(checked_timestamp(created_from, "created_from"))
    if created_until is not None:
        request.created_until.CopyFrom(checked_timestamp(created_until, "created_until"))
    with fields_named({"states": "state", "types": "type", "text": "q"}):
        answer = await ticketing.call(ticketing.tickets.ListTickets, request)
    response.headers["Cache-Control"] = "no-store"
    return TicketsPage(
        items=[TicketResponse.from_proto(t) for t in answer.tickets], next_cursor=answer.next_page_token or None
    )


@router.get(
    "/{ticket_id}",
    operation_id="getTicket",
    summary="A ticket with its conversation and history",
    description="Needs `tickets:read` over the ticket's node.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_ticket(ticket_id: TicketIdPath, ticketing: SignedInTicketing, response: Response) -> TicketDetails:
    answer = await ticketing.call(ticketing.tickets.GetTicket, pb.GetTicketRequest(ticket_id=ticket_id))
    response.headers["Cache-Control"] = "no-store"
    return TicketDetails(
        ticket=TicketResponse.from_proto(answer.ticket),
        notes=[NoteResponse.from_proto(n) for n in answer.notes],
        history=[HistoryEntryResponse.from_proto(h) for h in answer.history],
    )


@router.get(
    "/{ticket_id}/history",
    operation_id="getTicketHistory",
    summary="A ticket's history",
    description="Every state change and assignment, oldest first: who (customer, support or the system), when, "
    "why. Needs `tickets:read`.",
    responses=problem_responses(401, 403, 404, 422),
)
async def ticket_history(
    ticket_id: TicketIdPath, ticketing: SignedInTicketing, response: Response
) -> TicketHistoryResponse:
    answer = await ticketing.call(ticketing.tickets.TicketHistory, pb.TicketHistoryRequest(ticket_id=ticket_id))
    response.headers["Cache-Control"] = "no-store"
    return TicketHistoryResponse(items=[HistoryEntryResponse.from_proto(h) for h in answer.history])


@router.post(
    "/{ticket_id}/notes",
    operation_id="addTicketNote",
    summary="Write in a ticket",
    description="A note of the customer's, with up to 5 of the caller's uploads to the ticket (`attachment_ids`; "
    "another id is a 422 naming it, and nothing is written). On a ticket waiting for the customer (`pending`) it "
    "also puts the ticket back `inProgress`. A ticket that ended (closed, cancelled, rejected) takes none (409 "
    "`TICKET_ENDED`). Needs `tickets:write`.",
    status_code=status.HTTP_201_CREATED,
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def add_note(
    ticket_id: TicketIdPath, body: NoteRequest, ticketing: SignedInTicketing, response: Response
) -> NoteAdded:
    request = pb.AddNoteRequest(ticket_id=ticket_id, body=body.body, attachment_ids=body.attachment_ids)
    answer = await ticketing.call(ticketing.tickets.AddNote, request)
    response.headers["Location"] = f"/v1/tickets/{ticket_id}"
    return NoteAdded(note=NoteResponse.from_proto(answer.note), ticket=TicketResponse.from_proto(answer.ticket))


def _move_route(path: str, operation_id: str, summary: str, description: str) -> Callable[[Route], Route]:
    return router.post(
        path,
        operation_id=operation_id,
        summary=summary,
        description=description + " A ticket in another state is refused (409 `TRANSITION_NOT_ALLOWED`). "
        "Needs `tickets:write`.",
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )


@_move_route(
    "/{ticket_id}/cancel", "cancelTicket", "Withdraw a ticket", "An open ticket (not resolved or ended) is cancelled."
)
async def cancel_ticket(
    ticket_id: TicketIdPath, ticketing: SignedInTicketing, body: OptionalReason = None
) -> TicketResponse:
    request = pb.CancelTicketRequest(ticket_id=ticket_id, reason=(body.reason if body else None) or "")
    return TicketResponse.from_proto((await ticketing.call(ticketing.tickets.CancelTicket, request)).ticket)


@_move_route(
    "/{ticket_id}/reopen",
    "reopenTicket",
    "Reopen a resolved ticket",
    "A resolved ticket goes back `inProgress`; it no longer closes itself.",
)
async def reopen_ticket(
    ticket_id: TicketIdPath, ticketing: SignedInTicketing, body: OptionalReason = None
) -> TicketResponse:
    request = pb.ReopenTicketRequest(ticket_id=ticket_id, reason=(body.reason if body else None) or "")
    return TicketResponse.from_proto((await ticketing.call(ticketing.tickets.ReopenTicket, request)).ticket)


@_move_route(
    "/{ticket_id}/confirm-resolution",
    "confirmTicketResolution",
    "Confirm a ticket's resolution",
    "A resolved ticket is closed.",
)
async def confirm_resolution(
    ticket_id: TicketIdPath, ticketing: SignedInTicketing, body: OptionalReason = None
) -> TicketResponse:
    request = pb.ConfirmResolutionRequest(ticket_id=ticket_id, reason=(body.reason if body else None) or "")
    return TicketResponse.from_proto((await ticketing.call(ticketing.tickets.ConfirmResolution, request)).ticket)


@router.post(
    "/{ticket_id}/attachments",
    operation_id="uploadTicketAttachment",
    summary="Upload a file to a ticket",
    description="The body is the file itself, raw (not JSON, not multipart; its Content-Type is not believed), "
    "streamed to ticketing: at most 10 MiB (413, reading stops there), of a type decided by the content (PDF, "
    "PNG, JPEG, plain UTF-8 text, DOCX, XLSX; anything else, an executable named `.pdf` too, is a 415), its name "
    "in `filename` (path or control characters: 422). It waits for the caller's next note, which takes it by its "
    "id (`attachment_ids`); one no note takes within a day is deleted. A refused upload stores nothing. Needs "
    "`tickets:write`.",
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
        ticketing.tickets.UploadAttachment,
        pb.UploadAttachmentRequest,
        ticket_id,
        filename,
        settings.max_attachment_bytes,
    )
    response.headers["Location"] = f"/v1/tickets/{ticket_id}/attachments/{stored.id}"
    return AttachmentResponse.from_proto(stored)


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    operation_id="downloadTicketAttachment",
    summary="Download a ticket's file",
    description="A file of one of the ticket's notes, or the caller's own upload that waits for a note, streamed "
    "with its type and `Content-Disposition: attachment`. Needs `tickets:read` over the ticket's node.",
    response_class=StreamingResponse,
    responses={**attachments.DOWNLOAD_ANSWER, **problem_responses(401, 403, 404, 422)},
)
async def download_attachment(
    ticket_id: TicketIdPath, attachment_id: AttachmentIdPath, ticketing: SignedInTicketing
) -> StreamingResponse:
    return await attachments.download(
        ticketing,
        ticketing.tickets.DownloadAttachment,
        pb.DownloadAttachmentRequest(ticket_id=ticket_id, attachment_id=attachment_id),
    )
