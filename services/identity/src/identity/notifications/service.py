"""Queueing messages to users, inside the transaction that decided to send them.

An SMS is a command on ``simfleet.netsim.cmd.sms.submit`` (the network's SMSC
delivers it); an email is identity's own work item on
``simfleet.identity.email.requested``, which :mod:`identity.notifications.mailer`
hands to the SMTP relay. Both go through the outbox, so a message is sent if and
only if the change that caused it committed. A message carrying a secret (a
one-time code) is ``sensitive``: the outbox seals it, so the code is never
stored readable in identity's database. An email request is identity's own
work item, so a sensitive one stays sealed on the bus too (only identity's
mailer, with the same key, opens it): the IDENTITY stream never holds the code.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from simfleet.events.v1 import identity_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import IdentitySubjects, NetsimSubjects


class Notifier:
    def __init__(self, *, outbox: Outbox, clock: Clock, sms_sender: str) -> None:
        self._outbox = outbox
        self._clock = clock
        self._sender = sms_sender

    async def sms(self, session: AsyncSession, *, to: str, text: str, tenant: str = "", sensitive: bool = False) -> str:
        message_id = new_id()
        await self._outbox.add(
            session,
            NetsimSubjects.SUBMIT_SMS,
            smsc_pb2.SubmitSmsCommand(
                message_id=message_id,
                to_msisdn=to,
                sender=self._sender,
                text=text,
                submitted_at=timestamp(self._clock.now()),
            ),
            tenant=tenant,
            event_id=message_id,
            sensitive=sensitive,
        )
        return message_id

    async def email(
        self, session: AsyncSession, *, to: str, subject: str, body: str, tenant: str = "", sensitive: bool = False
    ) -> str:
        message_id = new_id()
        await self._outbox.add(
            session,
            IdentitySubjects.EMAIL_REQUESTED,
            ev.EmailRequested(
                message_id=message_id,
                to_address=to,
                subject=subject,
                body=body,
                requested_at=timestamp(self._clock.now()),
            ),
            tenant=tenant,
            event_id=message_id,
            sealed_on_bus=sensitive,
        )
        return message_id
