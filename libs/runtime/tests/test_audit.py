"""The action history's writer: commands recorded by the interceptor, and those that record themselves."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from simfleet.events.v1 import audit_pb2 as ev
from simfleet_runtime.audit import Actor, AuditTrail, Command, obj, set_actor
from simfleet_runtime.bus import BusTables, Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import NotFound

READ = "/rt.test.v1.Secrets/Read"
RENAME = "/rt.test.v1.Secrets/Rename"
SUBJECT = "simfleet.rt.audit.recorded"


def trail(db: Database, tables: BusTables) -> AuditTrail:
    clock = Clock()
    return AuditTrail(
        db=db,
        outbox=Outbox(tables, clock),
        clock=clock,
        service="rt",
        commands={
            READ: Command("secrets.read", lambda req, _ans: [obj("secret", req)], in_transaction=True),
            RENAME: Command("secrets.rename", lambda req, _ans: [obj("secret", req)]),
        },
    )


async def recorded(db: Database, tables: BusTables) -> list[ev.AuditRecorded]:
    async with db.sessions() as session:
        rows = await session.execute(
            sa.select(tables.outbox.c.payload)
            .where(tables.outbox.c.subject == SUBJECT)
            .order_by(tables.outbox.c.created_at, tables.outbox.c.id)
        )
        return [ev.AuditRecorded.FromString(payload) for (payload,) in rows]


async def test_a_self_recording_command_is_recorded_once_and_its_refusals_by_the_interceptor(
    db: Database, tables: BusTables
) -> None:
    audit = trail(db, tables)
    set_actor("user-1", "customer-1")
    async with db.transaction() as session:
        await audit.add(session, "secrets.read", [obj("secret", "s1", "node-1")], actor=Actor("user-1", "customer-1"))
    # The interceptor, after the same call's answer: nothing more.
    await audit.record(READ, "s1", object(), None)
    [event] = await recorded(db, tables)
    assert (event.actor_id, event.customer_id, event.action, event.result) == (
        "user-1",
        "customer-1",
        "secrets.read",
        "succeeded",
    )
    assert [(o.kind, o.id, o.node_id) for o in event.objects] == [("secret", "s1", "node-1")]

    # A refusal of the same command is the interceptor's to record; other commands are recorded as before.
    await audit.record(READ, "s2", None, NotFound("no such secret", reason="NOT_FOUND"))
    await audit.record(RENAME, "s1", object(), None)
    events = await recorded(db, tables)
    assert [(e.action, e.result, e.reason) for e in events[1:]] == [
        ("secrets.read", "failed", "NOT_FOUND"),
        ("secrets.rename", "succeeded", ""),
    ]


async def test_a_self_recorded_event_lives_and_dies_with_its_transaction(db: Database, tables: BusTables) -> None:
    audit = trail(db, tables)

    async def read_then_fail() -> Any:
        async with db.transaction() as session:
            await audit.add(session, "secrets.read", [obj("secret", "s1")], actor=Actor("user-1", "customer-1"))
            raise RuntimeError("the read failed after the event was written")

    with pytest.raises(RuntimeError):
        await read_then_fail()
    assert await recorded(db, tables) == []
    with pytest.raises(ValueError, match="actor"):
        async with db.transaction() as session:
            await audit.add(session, "secrets.read", [], actor=Actor("", "customer-1"))


async def test_in_a_recorded_call_a_command_that_wrote_no_event_with_a_change_is_recorded_after_it(
    db: Database, tables: BusTables
) -> None:
    audit = trail(db, tables)
    set_actor("user-1", "customer-1")
    # A call that changed something wrote its event in that transaction: the interceptor adds nothing.
    audit.begin()
    async with db.transaction() as session:
        await audit.add_for_caller(session, "secrets.read", [obj("secret", "s1")])
    await audit.record(READ, "s1", object(), None)
    assert [e.action for e in await recorded(db, tables)] == ["secrets.read"]

    # One that changed nothing (an idempotent replay), or whose transaction rolled back, is still recorded.
    audit.begin()

    async def write_then_fail() -> None:
        async with db.transaction() as session:
            await audit.add_for_caller(session, "secrets.read", [obj("secret", "s2")])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    await audit.record(READ, "s2", object(), None)
    events = await recorded(db, tables)
    assert [(e.action, [o.id for o in e.objects]) for e in events] == [
        ("secrets.read", ["s1"]),
        ("secrets.read", ["s2"]),
    ]


async def test_a_back_office_command_records_its_event_under_the_customer_it_names(
    db: Database, tables: BusTables
) -> None:
    audit = trail(db, tables)
    set_actor("staff-1", "", "operator")
    async with db.transaction() as session:
        await audit.add_for_caller(session, "secrets.read", [], customer="customer-9")
    [event] = await recorded(db, tables)
    assert (event.actor_id, event.actor_kind, event.customer_id) == ("staff-1", "operator", "customer-9")
