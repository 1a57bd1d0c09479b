"""The SMTP sink's use cases: file a received message in each recipient's mailbox, read mailboxes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.smtp.models import Mail
from netsim.smtp.parsing import ParsedMail
from simfleet_runtime.clock import Clock
from simfleet_runtime.ids import new_id


@dataclass(frozen=True)
class Mailbox:
    address: str
    messages: int
    last_received_at: datetime


async def store_mail(
    session: AsyncSession,
    *,
    recipients: Sequence[str],
    mail: ParsedMail,
    size_bytes: int,
    clock: Clock,
) -> list[Mail]:
    """One row per recipient mailbox (``recipients`` are mailbox keys), in the caller's transaction."""
    received_at = clock.now()
    rows = [
        Mail(
            id=new_id(),
            to_address=address,
            from_address=mail.from_address,
            subject=mail.subject,
            body=mail.body,
            received_at=received_at,
            size_bytes=size_bytes,
        )
        for address in dict.fromkeys(recipients)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def list_mail(session: AsyncSession, *, address: str, limit: int) -> Sequence[Mail]:
    """A mailbox, newest first."""
    query = (
        sa.select(Mail).where(Mail.to_address == address).order_by(Mail.received_at.desc(), Mail.id.desc()).limit(limit)
    )
    return (await session.scalars(query)).all()


async def list_mailboxes(session: AsyncSession, *, limit: int) -> list[Mailbox]:
    """Mailboxes that received something, the most recently active first."""
    last = sa.func.max(Mail.received_at).label("last")
    query = (
        sa.select(Mail.to_address, sa.func.count().label("messages"), last)
        .group_by(Mail.to_address)
        .order_by(last.desc(), Mail.to_address)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    return [Mailbox(address=row[0], messages=int(row[1]), last_received_at=row[2]) for row in rows]
