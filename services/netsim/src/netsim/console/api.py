"""The console's JSON routes (see :mod:`netsim.console`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from netsim.console.deps import DatabaseDep, SessionDep
from netsim.console.schemas import (
    HandsetsOut,
    HandsetSummary,
    Health,
    InboxOut,
    MailboxesOut,
    MailboxOut,
    MailboxSummary,
    MailOut,
    SmsOut,
)
from netsim.handsets import MAX_LIMIT, list_limit
from netsim.smsc.service import list_handsets, list_sms
from netsim.smtp.addresses import mailbox_key
from netsim.smtp.service import list_mail, list_mailboxes
from simfleet_runtime.validation import normalize_msisdn

router = APIRouter()

Limit = Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="how many messages, newest first (default 50)")]
PROBLEM: dict[int | str, dict[str, Any]] = {
    422: {"description": "bad number, address or limit (application/problem+json)"}
}


@router.get("/handsets", response_model=HandsetsOut, tags=["handsets"])
async def handsets(session: SessionDep, limit: Limit = None) -> HandsetsOut:
    found = await list_handsets(session, limit=list_limit(limit))
    return HandsetsOut(handsets=[HandsetSummary.of(h) for h in found])


@router.get("/handsets/{msisdn}/sms", response_model=InboxOut, tags=["handsets"], responses=PROBLEM)
async def handset_sms(msisdn: str, database: DatabaseDep, limit: Limit = None) -> InboxOut:
    number = normalize_msisdn(msisdn, field="msisdn")
    messages = await list_sms(database, msisdn=number, limit=list_limit(limit))
    return InboxOut(msisdn=number, messages=[SmsOut.of(m) for m in messages])


@router.get("/mailboxes", response_model=MailboxesOut, tags=["mailboxes"])
async def mailboxes(session: SessionDep, limit: Limit = None) -> MailboxesOut:
    found = await list_mailboxes(session, limit=list_limit(limit))
    return MailboxesOut(mailboxes=[MailboxSummary.of(m) for m in found])


@router.get("/mailboxes/{address:path}", response_model=MailboxOut, tags=["mailboxes"], responses=PROBLEM)
async def mailbox(address: str, session: SessionDep, limit: Limit = None) -> MailboxOut:
    key = mailbox_key(address)
    messages = await list_mail(session, address=key, limit=list_limit(limit))
    return MailboxOut(address=key, messages=[MailOut.of(m) for m in messages])


@router.get("/healthz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
async def healthz(database: DatabaseDep) -> Health | JSONResponse:
    if await database.ping():
        return Health(status="ok")
    return JSONResponse({"status": "database unreachable"}, status_code=503)
