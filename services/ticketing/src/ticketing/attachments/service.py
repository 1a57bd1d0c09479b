"""Attachments' use cases: an upload streamed into the store, its note taking it, a download, the expiry.

An upload goes to a ticket first and gets an id; the uploader's next note (a
customer's, or support's answer) names up to :attr:`Limits.per_note` of their
waiting uploads, which then belong to that note. An upload no note took within
:attr:`Limits.unreferenced_ttl` is deleted by the sweep, as is one a crash
cut off (still ``uploading`` after :attr:`Limits.uploading_ttl`) and the bytes
a crash left without their attachment row (:meth:`Attachments.collect_orphans`).

An upload is refused, and nothing of it stays, when its name has path or
control characters (before a byte is read), when it grows past
:attr:`Limits.max_bytes` (reading stops there), when its content is of no
allowed type (as soon as the bytes show it), or when it is empty.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from simfleet_runtime.audit import AuditTrail, obj
from simfleet_runtime.authz import not_found
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument
from simfleet_runtime.ids import is_id, new_id
from ticketing import metrics
from ticketing.attachments.models import ATTACHMENTS, STORED, UPLOADING, Attachment
from ticketing.attachments.sniff import Sniffer, clean_filename, with_extension
from ticketing.attachments.storage import BlobStore
from ticketing.tickets import lifecycle as lc
from ticketing.tickets.models import Ticket

if TYPE_CHECKING:
    from ticketing.tickets.service import Actor

log = logging.getLogger(__name__)
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * MIB
    per_note: int = 5
    waiting_per_uploader: int = 20
    """Uploads of one person to one ticket that no note has taken yet."""
    unreferenced_ttl: timedelta = timedelta(days=1)
    uploading_ttl: timedelta = timedelta(hours=1)
    """An upload still ``uploading`` this long after it began was cut off by a crash: the sweep deletes it."""


def too_large(limit: int) -> InvalidArgument:
    return InvalidArgument(
        f"the file is larger than {limit} bytes",
        reason="ATTACHMENT_TOO_LARGE",
        field_violations={"content": f"at most {limit} bytes"},
        metadata={"limit": str(limit)},
    )


def checked_ids(values: Sequence[str], limits: Limits, field: str = "attachment_ids") -> list[str]:
    """The attachment ids a note names: at most ``per_note``, each an id, none twice."""
    ids = list(dict.fromkeys(values))
    if len(values) > limits.per_note:
        raise InvalidArgument(
            f"a note takes at most {limits.per_note} attachments",
            reason="TOO_MANY_ATTACHMENTS",
            field_violations={field: f"at most {limits.per_note}"},
        )
    wrong = {f"{field}[{i}]": "not an attachment id" for i, v in enumerate(values) if not is_id(v)}
    if wrong or len(ids) != len(values):
        raise InvalidArgument(
            "the attachment ids are not valid",
            reason="INVALID_ATTACHMENT",
            field_violations=wrong or {field: "an attachment named twice"},
        )
    return ids


async def attach_to_note(
    session: AsyncSession, ticket: Ticket, note_id: str, actor: Actor, ids: Sequence[str], now: datetime
) -> list[Attachment]:
    """In the note's transaction: the uploads ``ids`` (the author's, to this ticket, waiting) join the note.

    Any other id is INVALID_ARGUMENT naming it, and the note is not written.
    """
    if not ids:
        return []
    found = {
        a.id: a
        for a in await session.scalars(
            sa.select(Attachment).where(
                Attachment.id.in_(list(ids)),
                Attachment.ticket_id == ticket.id,
                Attachment.uploaded_by == actor.id,
                Attachment.note_id.is_(None),
                Attachment.state == STORED,
                Attachment.expires_at > now,
            )
        )
    }
    missing = {
        f"attachment_ids[{i}]": "no upload of yours waiting in this ticket" for i, v in enumerate(ids) if v not in found
    }
    if missing:
        raise InvalidArgument(
            "an attachment named is not an upload of yours waiting in this ticket",
            reason="ATTACHMENT_NOT_FOUND",
            field_violations=missing,
        )
    taken = await session.execute(
        sa.update(ATTACHMENTS)
        .where(ATTACHMENTS.c.id.in_(list(ids)), ATTACHMENTS.c.note_id.is_(None))
        .values(note_id=note_id, expires_at=None)
    )
    if taken.rowcount != len(ids):  # type: ignore[attr-defined]
        raise FailedPrecondition("an attachment was taken meanwhile: read the ticket again", reason="TICKET_CHANGED")
    for attachment in found.values():
        await session.refresh(attachment)
    return [found[i] for i in ids]


class Attachments:
    def __init__(self, *, db: Database, clock: Clock, store: BlobStore, audit: AuditTrail, limits: Limits) -> None:
        self._db = db
        self._clock = clock
        self._store = store
        self._audit = audit
        self.limits = limits
        self._orphans_after = ""
        """Where the walk over the store's keys for orphans (:meth:`collect_orphans`) goes on from."""

    async def upload(
        self, ticket: Ticket, actor: Actor, filename: str, data: AsyncIterable[bytes], *, action: str
    ) -> Attachment:
        """Stream ``data`` into the store as an upload of ``actor`` to ``ticket``, waiting for their next note."""
        name = clean_filename(filename)
        if ticket.state in lc.FINAL:
            raise FailedPrecondition(
                f"the ticket is {ticket.state}: nothing more is written in it",
                reason="TICKET_ENDED",
                metadata={"state": ticket.state},
            )
        now = self._clock.now()
        async with self._db.transaction() as session:
            waiting = await session.scalar(
                sa.select(sa.func.count()).where(
                    Attachment.ticket_id == ticket.id,
                    Attachment.uploaded_by == actor.id,
                    Attachment.note_id.is_(None),
                )
            )
            if int(waiting or 0) >= self.limits.waiting_per_uploader:
                raise FailedPrecondition(
                    f"you have {self.limits.waiting_per_uploader} uploads waiting for a note in this ticket: "
                    "write the note first",
                    reason="TOO_MANY_WAITING_ATTACHMENTS",
                )
            attachment = Attachment(
                id=new_id(),
                ticket_id=ticket.id,
                note_id=None,
                filename=name,
                content_type="",
                size=0,
                sha256="",
                uploaded_by=actor.id,
                uploader_kind=actor.kind,
                state=UPLOADING,
                created_at=now,
                expires_at=now + self.limits.uploading_ttl,
            )
            session.add(attachment)
        sniffer = Sniffer()
        digest = hashlib.sha256()
        limit = self.limits.max_bytes

        async def checked() -> AsyncIterator[bytes]:
            async for piece in data:
                if sniffer.size + len(piece) > limit:
                    raise too_large(limit)
                sniffer.feed(piece)
                digest.update(piece)
                yield piece

        try:
            size = await self._store.put(attachment.id, checked())
            content_type = sniffer.result()
        except BaseException as refused:
            await self._forget(attachment.id)
            metrics.ATTACHMENTS.labels(actor.kind, _outcome(refused)).inc()
            raise
        async with self._db.transaction() as session:
            await session.execute(
                sa.update(ATTACHMENTS)
                .where(ATTACHMENTS.c.id == attachment.id)
                .values(
                    state=STORED,
                    content_type=content_type,
                    size=size,
                    sha256=digest.hexdigest(),
                    filename=with_extension(name, content_type),
                    expires_at=self._clock.now() + self.limits.unreferenced_ttl,
                )
            )
            stored = await session.get(Attachment, attachment.id, populate_existing=True)
            assert stored is not None
            await self._audit.add_for_caller(
                session,
                action,
                [obj("ticket", ticket.id, ticket.node_id), obj("attachment", attachment.id)],
                customer=ticket.customer_id,
            )
        metrics.ATTACHMENTS.labels(actor.kind, "stored").inc()
        return stored

    async def _forget(self, attachment_id: str) -> None:
        await self._store.delete(attachment_id)
        async with self._db.transaction() as session:
            await session.execute(sa.delete(ATTACHMENTS).where(ATTACHMENTS.c.id == attachment_id))

    async def open(self, ticket_id: str, attachment_id: str, viewer: str) -> tuple[Attachment, AsyncIterator[bytes]]:
        """A stored attachment of the ticket and its bytes: one of a note's, or ``viewer``'s own waiting upload."""
        if not is_id(attachment_id):
            raise not_found("attachment")
        async with self._db.sessions() as session:
            found = await session.get(Attachment, attachment_id)
        if (
            found is None
            or found.ticket_id != ticket_id
            or found.state != STORED
            or (found.note_id is None and found.uploaded_by != viewer)
        ):
            raise not_found("attachment")
        return found, self._store.open(found.id)

    async def of_notes(self, ticket_id: str) -> dict[str, list[Attachment]]:
        """The attachments of the ticket's notes, by note, in the order they were uploaded."""
        async with self._db.sessions() as session:
            rows = await session.scalars(
                sa.select(Attachment)
                .where(Attachment.ticket_id == ticket_id, Attachment.note_id.is_not(None))
                .order_by(Attachment.created_at, Attachment.id)
            )
            by_note: dict[str, list[Attachment]] = {}
            for row in rows:
                by_note.setdefault(row.note_id or "", []).append(row)
        return by_note

    async def expire(self, *, batch: int = 500) -> int:
        """Delete the uploads no note took in time and those a crash cut off; how many."""
        now = self._clock.now()
        async with self._db.sessions() as session:
            due = list(
                await session.scalars(
                    sa.select(Attachment.id)
                    .where(Attachment.note_id.is_(None), Attachment.expires_at < now)
                    .order_by(Attachment.expires_at)
                    .limit(batch)
                )
            )
        deleted = 0
        for attachment_id in due:
            async with self._db.transaction() as session:
                gone = await session.execute(
                    sa.delete(ATTACHMENTS).where(
                        ATTACHMENTS.c.id == attachment_id,
                        ATTACHMENTS.c.note_id.is_(None),
                        ATTACHMENTS.c.expires_at < now,
                    )
                )
            if gone.rowcount == 1:  # type: ignore[attr-defined]
                await self._store.delete(attachment_id)
                deleted += 1
        return deleted

    async def collect_orphans(self, *, batch: int = 500) -> int:
        """Delete the bytes whose attachment row is gone; how many files.

        A row is written before its bytes and deleted after them, except by
        :meth:`expire`, which deletes the row first (so that a note taking the
        upload meanwhile keeps it) and the bytes next: a crash between the two
        leaves bytes nobody refers to. Each pass looks at the next ``batch``
        keys of the store and starts over once it went through them all.
        """
        keys = await self._store.keys(after=self._orphans_after, limit=batch)
        self._orphans_after = keys[-1] if len(keys) == batch else ""
        if not keys:
            return 0
        async with self._db.sessions() as session:
            known = set(await session.scalars(sa.select(ATTACHMENTS.c.id).where(ATTACHMENTS.c.id.in_(keys))))
        orphans = [key for key in keys if key not in known]
        for key in orphans:
            await self._store.delete(key)
        if orphans:
            log.info("deleted the bytes of %d attachments whose rows were gone", len(orphans))
        return len(orphans)


def _outcome(error: BaseException) -> str:
    if isinstance(error, InvalidArgument):
        return {
            "ATTACHMENT_TOO_LARGE": "too_large",
            "ATTACHMENT_TYPE_NOT_ALLOWED": "type_not_allowed",
            "ATTACHMENT_EMPTY": "empty",
        }.get(error.reason, "refused")
    return "failed"
