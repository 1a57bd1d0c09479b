"""ticketing's commands as its action history names them (every gRPC method that changes something)."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

T = "/simfleet.ticketing.v1.TicketService/"
S = "/simfleet.ticketing.v1.SupportService/"

CREATE = "tickets.create"
NOTE = "tickets.note"
CANCEL = "tickets.cancel"
REOPEN = "tickets.reopen"
CONFIRM = "tickets.confirm_resolution"
ASSIGN = "tickets.support.assign"
TRANSITION = "tickets.support.transition"
ANSWER = "tickets.support.answer"
ATTACH = "tickets.attachment.upload"
SUPPORT_ATTACH = "tickets.support.attachment.upload"
"""Written by each command in the transaction of its change (``in_transaction``): the change and its event
commit together. The interceptor records refusals, and a replay (which changed nothing). The uploads
(``ATTACH``, ``SUPPORT_ATTACH``) are client-streaming calls, which the interceptor does not record: their
success is written in the transaction that stores them, a refused upload is not in the action history."""


def _ticket(request: Any, answer: Any) -> list[Any]:
    if answer is not None and answer.HasField("ticket"):
        return [obj("ticket", answer.ticket.id, answer.ticket.node_id)]
    return [obj("ticket", request.ticket_id)] if request.ticket_id else []


def _customer(_request: Any, answer: Any) -> str:
    return answer.ticket.customer_id if answer is not None and answer.HasField("ticket") else ""


COMMANDS = {
    T + "CreateTicket": Command(
        CREATE,
        lambda req, ans: [obj("ticket", ans.ticket.id, ans.ticket.node_id)] if ans else [obj("node", req.node_id)],
        in_transaction=True,
    ),
    T + "AddNote": Command(NOTE, _ticket, in_transaction=True),
    T + "CancelTicket": Command(CANCEL, _ticket, in_transaction=True),
    T + "ReopenTicket": Command(REOPEN, _ticket, in_transaction=True),
    T + "ConfirmResolution": Command(CONFIRM, _ticket, in_transaction=True),
    S + "Assign": Command(ASSIGN, _ticket, customer=_customer, in_transaction=True),
    S + "Transition": Command(TRANSITION, _ticket, customer=_customer, in_transaction=True),
    S + "Answer": Command(ANSWER, _ticket, customer=_customer, in_transaction=True),
}
