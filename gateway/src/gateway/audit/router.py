"""/v1/audit-events: the customer's action history (AU-1), kept by accounts, read within the caller's scope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.audit.schemas import AuditEventResponse, AuditEventsPage
from gateway.deps import SignedInAccounts
from gateway.problems import ProblemError, problem_responses
from simfleet.accounts.v1 import audit_pb2 as pb
from simfleet_runtime.timestamps import timestamp

router = APIRouter(prefix="/v1/audit-events", tags=["audit"])


def _timestamp(value: datetime, field: str) -> Timestamp:
    if value.tzinfo is None:
        raise ProblemError(422, "INVALID_TIME", f"{field} needs a time zone, e.g. 2026-01-15T09:30:00Z")
    return timestamp(value)


@router.get(
    "",
    operation_id="listAuditEvents",
    summary="The action history",
    description=(
        "Every command any service answered for the customer (accepted or refused) and every sign-in, newest "
        "first. Needs `audit:read`; shows the events about nodes in the caller's scope (everything for a reader "
        "at the company). `action` matches a name or its prefix (`hierarchy` matches `hierarchy.node.move`)."
    ),
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_audit_events(
    accounts: SignedInAccounts,
    response: Response,
    since: Annotated[datetime | None, Query(description="from this time (inclusive, with a time zone)")] = None,
    until: Annotated[datetime | None, Query(description="before this time")] = None,
    actor_id: Annotated[str | None, Query(max_length=64, description="only this user's actions")] = None,
    action: Annotated[str | None, Query(max_length=100, description="an action or its prefix")] = None,
    object_id: Annotated[str | None, Query(max_length=64, description="only actions on this object")] = None,
    node_id: Annotated[str | None, Query(max_length=64, description="only actions in this node's subtree")] = None,
    sort: Annotated[Literal["-occurred_at", "occurred_at"], Query()] = "-occurred_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> AuditEventsPage:
    request = pb.ListAuditEventsRequest(
        actor_id=actor_id or "",
        action=action or "",
        object_id=object_id or "",
        node_id=node_id or "",
        order_by=sort,
        page_size=limit,
        page_token=cursor or "",
    )
    if since is not None:
        request.since.CopyFrom(_timestamp(since, "since"))
    if until is not None:
        request.until.CopyFrom(_timestamp(until, "until"))
    answer = await accounts.call(accounts.audit.ListAuditEvents, request)
    response.headers["Cache-Control"] = "no-store"
    return AuditEventsPage(
        items=[AuditEventResponse.from_proto(e) for e in answer.events], next_cursor=answer.next_page_token or None
    )
