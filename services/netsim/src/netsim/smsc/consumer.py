"""The SMSC's consumer: ``simfleet.netsim.cmd.sms.submit`` on the NETSIM_CMD work queue.

Each command is applied once (the runtime records its event id with the change,
and :func:`netsim.smsc.service.deliver_sms` ignores a repeated ``message_id``).
A command that can never succeed (undecodable, bad number, missing fields)
raises :class:`PermanentError` and is dead-lettered at once, so it does not hold
up the ones behind it.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import DecodeError
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.smsc.service import deliver_sms, validate_command
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.bus import Event, EventHandler, GroupHandler, Outbox, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import InvalidArgument

CONSUMER_NAME = "netsim-smsc"
GROUP_SIZE = 8
"""Submissions delivered together in one transaction, at most."""


def submit_sms_handler(*, outbox: Outbox, clock: Clock) -> EventHandler:
    async def handle(session: AsyncSession, event: Event) -> None:
        try:
            command = smsc_pb2.SubmitSmsCommand.FromString(event.data)
        except DecodeError as exc:
            raise PermanentError(f"not a SubmitSmsCommand: {exc}") from exc
        try:
            submission = validate_command(command)
        except InvalidArgument as exc:
            fields = ", ".join(f"{k}: {v}" for k, v in exc.field_violations.items())
            raise PermanentError(f"{exc.reason}: {exc.message} ({fields})") from exc
        await deliver_sms(session, submission, outbox=outbox, clock=clock, tenant=event.tenant)

    return handle


def submit_sms_group_handler(*, outbox: Outbox, clock: Clock) -> GroupHandler:
    """Several submissions delivered in one transaction (a burst of sign-in codes costs one commit, not one each);
    one that cannot be delivered fails the group, and the consumer then takes each on its own."""
    single = submit_sms_handler(outbox=outbox, clock=clock)

    async def handle(session: AsyncSession, events: Sequence[Event]) -> None:
        for event in events:
            await single(session, event)

    return handle
