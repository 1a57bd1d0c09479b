"""The SMSC's use cases: deliver a submitted SMS to its handset's inbox, read inboxes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim import metrics
from netsim.smsc.models import MESSAGE_ID_MAX, SENDER_MAX, TEXT_MAX, Sms, SmsView
from simfleet.events.v1 import netsim_pb2 as events_pb2
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, after_commit, insert_ignoring_conflicts
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import normalize_msisdn
from simfleet_subjects import NetsimSubjects

_SMS: sa.Table = Sms.__table__  # type: ignore[assignment]
_ORIGIN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Submission:
    """A validated SubmitSmsCommand."""

    message_id: str
    to_msisdn: str
    sender: str
    text: str
    origin: str = ""

    @property
    def receipt_subject(self) -> str:
        return NetsimSubjects.sms_delivered_to(self.origin)


@dataclass(frozen=True)
class Handset:
    msisdn: str
    messages: int
    last_delivered_at: datetime


def validate_command(command: smsc_pb2.SubmitSmsCommand) -> Submission:
    """Check a command where it enters; raises :class:`InvalidArgument` naming the bad field."""
    message_id = command.message_id.strip()
    if not message_id or len(message_id) > MESSAGE_ID_MAX:
        raise InvalidArgument(
            "message_id is required",
            reason="INVALID_MESSAGE_ID",
            field_violations={"message_id": f"1 to {MESSAGE_ID_MAX} characters"},
        )
    msisdn = normalize_msisdn(command.to_msisdn, field="to_msisdn")
    sender = command.sender.strip()
    if not sender or len(sender) > SENDER_MAX:
        raise InvalidArgument(
            "sender is required",
            reason="INVALID_SENDER",
            field_violations={"sender": f"1 to {SENDER_MAX} characters"},
        )
    if len(command.text) > TEXT_MAX:
        raise InvalidArgument(
            "the text is too long",
            reason="INVALID_TEXT",
            field_violations={"text": f"at most {TEXT_MAX} characters"},
        )
    if command.origin and not _ORIGIN.match(command.origin):
        raise InvalidArgument(
            "origin must be a lower-case token",
            reason="INVALID_ORIGIN",
            field_violations={"origin": "a letter, then up to 31 lower-case letters, digits or underscores"},
        )
    return Submission(message_id=message_id, to_msisdn=msisdn, sender=sender, text=command.text, origin=command.origin)


async def deliver_sms(
    session: AsyncSession,
    submission: Submission,
    *,
    outbox: Outbox,
    clock: Clock,
    tenant: str = "",
) -> str | None:
    """Put the SMS in its handset's inbox and write its delivery receipt, in the caller's transaction.

    Returns the stored SMS's id, or ``None`` when an SMS with the same
    ``message_id`` was delivered before (nothing is stored or published again).
    Two statements, built once: every SMS of the platform comes this way.
    """
    sms_id = new_id()
    delivered_at = clock.now()
    stored = await session.execute(
        insert_ignoring_conflicts(session, _SMS),
        {
            "id": sms_id,
            "message_id": submission.message_id,
            "to_msisdn": submission.to_msisdn,
            "sender": submission.sender,
            "text": submission.text,
            "delivered_at": delivered_at,
        },
    )
    if stored.rowcount == 0:  # type: ignore[attr-defined]
        return None  # delivered before under another event id
    receipt = events_pb2.SmsDelivered(
        message_id=submission.message_id,
        to_msisdn=submission.to_msisdn,
        delivered_at=timestamp(delivered_at),
    )
    await outbox.add(session, submission.receipt_subject, receipt, tenant=tenant)
    after_commit(session, metrics.SMS_DELIVERED.inc)
    return sms_id


_INBOX = (
    sa.select(Sms.id, Sms.to_msisdn, Sms.sender, Sms.text, Sms.delivered_at)
    .where(Sms.to_msisdn == sa.bindparam("msisdn"))
    .order_by(Sms.delivered_at.desc(), Sms.id.desc())
    .limit(sa.bindparam("limit", type_=sa.Integer))
)


async def list_sms(db: Database, *, msisdn: str, limit: int) -> list[SmsView]:
    """A handset's inbox, newest first: read directly (tests and the bench poll it while SMS arrive)."""
    rows: list[SmsView] = await db.direct.all(_INBOX, {"msisdn": msisdn, "limit": limit})
    return rows


async def list_handsets(session: AsyncSession, *, limit: int) -> list[Handset]:
    """Handsets that received something, the most recently active first."""
    last = sa.func.max(Sms.delivered_at).label("last")
    query = (
        sa.select(Sms.to_msisdn, sa.func.count().label("messages"), last)
        .group_by(Sms.to_msisdn)
        .order_by(last.desc(), Sms.to_msisdn)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [Handset(msisdn=row[0], messages=int(row[1]), last_delivered_at=row[2]) for row in rows]
