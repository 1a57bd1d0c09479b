"""Registration numbers: T-<year>-<6 digits>, unique and sequential per year, with no gap, whatever creators race.

On PostgreSQL (SIMFLEET_TEST_POSTGRES_URL) the creators are real concurrent transactions on their own
connections; on SQLite they queue for its one writer.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from ticketing.tickets.models import Ticket
from ticketing.tickets.service import ticket_number
from ticketing.tickets.validation import NewTicket

from .conftest import Running  # type: ignore[import-not-found]

NUMBER = re.compile(r"T-(\d{4})-(\d{6})")


def new(running: Running, topic: str = "A question") -> NewTicket:
    return NewTicket(
        node_id=running.branch,
        type="question",
        topic=topic,
        description="How do I order more SIM cards?",
        severity="low",
        priority="normal",
        msisdns=(),
        operation_id="",
        bill_id="",
        contact_msisdn="",
    )


def test_the_number_reads_as_customers_quote_it() -> None:
    assert ticket_number(2026, 123) == "T-2026-000123"
    assert ticket_number(2027, 1) == "T-2027-000001"


async def test_concurrent_creators_get_every_number_once_and_in_sequence(running: Running) -> None:
    tickets = running.ticketing.tickets
    created = await asyncio.gather(
        *(
            tickets.create(customer_id=running.customer_id, user_id=f"user-{i}", new=new(running, f"Question {i}"))
            for i in range(24)
        )
    )
    year = running.ticketing.runtime.clock.now().year
    numbers = sorted(t.number for t, _ in created)
    assert numbers == [ticket_number(year, n) for n in range(1, 25)]
    # Each ticket kept the number its own transaction took.
    async with running.db.sessions() as session:
        stored = dict((await session.execute(sa.select(Ticket.id, Ticket.number))).all())
    assert stored == {t.id: t.number for t, _ in created}


async def test_a_creation_that_fails_leaves_no_gap(running: Running) -> None:
    tickets = running.ticketing.tickets
    first, _ = await tickets.create(customer_id=running.customer_id, user_id="user-1", new=new(running))

    async def fails_after_taking_a_number() -> None:
        async with running.db.transaction() as session:
            await tickets.next_number(session, first.created_at.year)
            raise RuntimeError("the ticket's transaction fails after taking its number")

    with pytest.raises(RuntimeError):
        await fails_after_taking_a_number()
    second, _ = await tickets.create(customer_id=running.customer_id, user_id="user-1", new=new(running))
    (y1, n1), (y2, n2) = (NUMBER.fullmatch(t.number).groups() for t in (first, second))  # type: ignore[union-attr]
    assert y1 == y2 and int(n2) == int(n1) + 1


async def test_numbers_start_again_each_year(running: Running) -> None:
    tickets = running.ticketing.tickets
    last_year, _ = await tickets.create(customer_id=running.customer_id, user_id="user-1", new=new(running))
    now = running.ticketing.runtime.clock.now()
    new_year = datetime(now.year + 1, 1, 1, 0, 0, 1, tzinfo=UTC)
    running.move_clock((new_year - now).total_seconds())
    this_year, _ = await tickets.create(customer_id=running.customer_id, user_id="user-1", new=new(running))
    again, _ = await tickets.create(customer_id=running.customer_id, user_id="user-1", new=new(running))
    assert last_year.number == ticket_number(now.year, 1)
    assert (this_year.number, again.number) == (ticket_number(now.year + 1, 1), ticket_number(now.year + 1, 2))
