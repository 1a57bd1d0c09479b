"""The composer and the sender: accepted events become notices, and notices reach the SMSC or the mail relay.

**Grouping.** The composer takes a user's waiting events of one kind and
channel once the first of them has waited ``NOTIFICATIONS_GROUPING_WINDOW_SECONDS``,
and makes them one notice: the event's own text for one, the kind's summary
(how many, and the last one's values) for more. Claiming the events is one
``UPDATE ... WHERE notice_id IS NULL``: two composers (two replicas) never put
an event in two notices, and a burst of 100,000 events is one statement and
one notice. A kind the catalogue does not group (a sign-in) waits no window:
its events are composed on the next pass, which their arrival starts at once
(:meth:`Delivery.accepted`), so a sign-in's SMS is queued within the
consumer's and the sender's work of the sign-in, not half a minute later.

**Sending.** An SMS is queued in the transaction that marks its notice sent:
a ``SubmitSmsCommand`` written to the outbox, its message id the notice's id,
which netsim's SMSC takes once. A crash before the commit leaves the notice
pending (sent on the next pass); after it, the outbox publishes it; no SMS is
sent twice nor lost. An email cannot be in the database's transaction: the
sender first claims it (its next attempt pushed later: another pass, or
another replica, leaves it alone), then hands it to the relay, then marks it
sent. A crash between the relay's acceptance and the mark sends it again
after the claim runs out, with the same Message-ID (mail clients show it
once); an email marked sent is never sent again. A relay's 5xx, or
``NOTIFICATIONS_EMAIL_MAX_ATTEMPTS`` failures, fail the notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import metrics
from notifications.catalogue import CHANNELS, EMAIL, SMS, UNGROUPED
from notifications.notices.models import FAILED, PENDING, SENT, Notice, NoticeEvent
from notifications.preferences.models import User
from notifications.preferences.service import Preferences
from notifications.templates import render
from simfleet.events.v1 import notifications_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.mail import SmtpSender, is_permanent
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import NetsimSubjects, NotificationsSubjects

log = logging.getLogger(__name__)

NO_ADDRESS = "the user has no number or address for this channel"
USER_GONE = "the user is unknown or disabled"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    recipient: str
    subject: str
    text: str
    attempts: int


class Delivery:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        preferences: Preferences,
        mail: SmtpSender,
        sms_sender: str,
        window: float,
        interval: float,
        batch: int,
        email_max_attempts: int,
        email_retry_seconds: float,
    ) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._preferences = preferences
        self._mail = mail
        self._sms_sender = sms_sender
        self._window = timedelta(seconds=window)
        self._interval = interval
        self._batch = batch
        self._email_max_attempts = email_max_attempts
        self._email_retry = email_retry_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def accepted(self, kind: str) -> None:
        """Events of ``kind`` were accepted: compose now if they wait no window."""
        if not self._window or kind in UNGROUPED:
            self._wake.set()

    # Composing.

    async def compose(self) -> int:
        """Make the notices whose window has passed; how many were made."""
        cutoff = self._clock.now() - self._window
        e = NoticeEvent
        async with self._db.sessions() as session:
            groups = (
                await session.execute(
                    sa.select(e.user_id, e.channel, e.kind)
                    .where(e.notice_id.is_(None))
                    .group_by(e.user_id, e.channel, e.kind)
                    .having(sa.or_(sa.func.min(e.created_at) <= cutoff, e.kind.in_(UNGROUPED)))
                    .limit(self._batch)
                )
            ).all()
        made = 0
        for user_id, channel, kind in groups:
            async with self._db.transaction() as session:
                made += await self._compose_one(session, user_id, channel, kind)
        return made

    async def _compose_one(self, session: AsyncSession, user_id: str, channel: str, kind: str) -> int:
        e = NoticeEvent
        notice_id = new_id()
        claimed = await session.execute(
            sa.update(e)
            .where(e.notice_id.is_(None), e.user_id == user_id, e.channel == channel, e.kind == kind)
            .values(notice_id=notice_id)
        )
        count = int(claimed.rowcount)  # type: ignore[attr-defined]
        if count == 0:
            return 0  # another composer took them
        last = (
            await session.execute(
                sa.select(e.params, e.customer_id)
                .where(e.notice_id == notice_id)
                .order_by(e.created_at.desc(), e.event_id.desc())
                .limit(1)
            )
        ).one()
        user = await session.get(User, user_id)
        choices = (await self._preferences.of_users(session, [user_id]))[user_id]
        rendered = render(kind, choices.language, last.params, count=count)
        address = "" if user is None else (user.phone if channel == SMS else user.email)
        problem = USER_GONE if user is None or not user.active else NO_ADDRESS if not address else ""
        now = self._clock.now()
        session.add(
            Notice(
                id=notice_id,
                customer_id=last.customer_id,
                user_id=user_id,
                kind=kind,
                channel=channel,
                recipient=address,
                language=choices.language,
                subject=rendered.subject[:300],
                text=rendered.text,
                events=count,
                state=FAILED if problem else PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error=problem,
                created_at=now,
                sent_at=None,
            )
        )
        if count > 1:
            metrics.SUMMARIES.labels(kind).inc()
        if problem:
            metrics.FAILURES.labels(channel, "no_address").inc()
        return 1

    # Sending.

    async def _sent_event(self, session: AsyncSession, notice: Notice) -> None:
        await self._outbox.add(
            session,
            NotificationsSubjects.NOTICE_SENT,
            ev.NoticeSent(
                notice_id=notice.id,
                customer_id=notice.customer_id,
                user_id=notice.user_id,
                kind=notice.kind,
                channel=notice.channel,
                events=notice.events,
                occurred_at=timestamp(self._clock.now()),
            ),
            tenant=notice.customer_id,
        )

    async def send_sms(self) -> int:
        """Queue pending SMS notices to the SMSC, each in the transaction that marks it sent."""
        now = self._clock.now()
        sent: list[str] = []
        async with self._db.transaction() as session:
            notices: Sequence[Notice] = (
                await session.scalars(
                    sa.select(Notice)
                    .where(Notice.state == PENDING, Notice.channel == SMS, Notice.next_attempt_at <= now)
                    .order_by(Notice.created_at)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for notice in notices:
                await self._outbox.add(
                    session,
                    NetsimSubjects.SUBMIT_SMS,
                    smsc_pb2.SubmitSmsCommand(
                        message_id=notice.id,
                        to_msisdn=notice.recipient,
                        sender=self._sms_sender,
                        text=notice.text,
                        submitted_at=timestamp(now),
                    ),
                    tenant=notice.customer_id,
                    event_id=notice.id,
                )
                notice.state, notice.sent_at, notice.attempts = SENT, now, notice.attempts + 1
                await self._sent_event(session, notice)
                sent.append(notice.kind)
        for kind in sent:
            metrics.NOTICES.labels(SMS, kind).inc()
        return len(sent)

    async def _claim_emails(self) -> list[Claimed]:
        now = self._clock.now()
        async with self._db.transaction() as session:
            notices = (
                await session.scalars(
                    sa.select(Notice)
                    .where(Notice.state == PENDING, Notice.channel == EMAIL, Notice.next_attempt_at <= now)
                    .order_by(Notice.created_at)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            claimed = []
            for notice in notices:
                notice.attempts += 1
                wait = self._email_retry * 2 ** (notice.attempts - 1)
                notice.next_attempt_at = now + timedelta(seconds=min(wait, 6 * 3600))
                claimed.append(Claimed(notice.id, notice.recipient, notice.subject, notice.text, notice.attempts))
        return claimed

    async def send_emails(self) -> int:
        """Hand pending email notices to the relay; mark each sent once the relay took it."""
        sent = 0
        for claimed in await self._claim_emails():
            message = self._mail.compose(
                to=claimed.recipient, subject=claimed.subject, body=claimed.text, message_id=claimed.id
            )
            try:
                await self._mail.send(message)
            except Exception as exc:  # noqa: BLE001 - the relay's refusal or absence: tried again or failed
                final = is_permanent(exc) or claimed.attempts >= self._email_max_attempts
                async with self._db.transaction() as session:
                    await session.execute(
                        sa.update(Notice)
                        .where(Notice.id == claimed.id, Notice.state == PENDING)
                        .values(state=FAILED if final else PENDING, last_error=type(exc).__name__[:300])
                    )
                metrics.FAILURES.labels(EMAIL, "failed" if final else "retried").inc()
                log.warning("an email notice was not accepted by the relay (%s)", type(exc).__name__)
                continue
            async with self._db.transaction() as session:
                notice = await session.get(Notice, claimed.id, with_for_update=True)
                if notice is None or notice.state != PENDING:
                    continue
                notice.state, notice.sent_at, notice.last_error = SENT, self._clock.now(), ""
                await self._sent_event(session, notice)
                kind = notice.kind
            metrics.NOTICES.labels(EMAIL, kind).inc()
            sent += 1
        return sent

    async def figures(self) -> None:
        async with self._db.sessions() as session:
            counts = dict(
                (
                    await session.execute(
                        sa.select(Notice.channel, sa.func.count())
                        .where(Notice.state == PENDING)
                        .group_by(Notice.channel)
                    )
                ).all()
            )
        for channel in CHANNELS:
            metrics.PENDING.labels(channel).set(counts.get(channel, 0))

    async def once(self) -> None:
        await self.compose()
        await self.send_sms()
        await self.send_emails()
        await self.figures()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # the next pass tries again
                log.exception("a pass of the notices' sender failed; it runs again")
            else:
                metrics.SENDER_LAST_SUCCESS.set_to_current_time()
            self._wake.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waits, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
