"""Spending limits (BI-10): the lines' spend per period, warnings once a period, blocks lifted when raised, and
lines held for several reasons at once blocked once and unblocked when the last reason goes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from billing.ledger.models import LedgerAccount
from billing.ledger.service import NewAccount
from billing.limits.emails import SUBJECT, LimitEmailer
from billing.limits.models import EMAILS, SPEND
from billing.limits.service import Settings, Target, settings, written
from billing.main import Billing, build
from billing.models import BUS
from simfleet.billing.v1 import limits_pb2, limits_pb2_grpc
from simfleet.events.v1 import billing_pb2 as ev
from simfleet.netsim.v1 import smsc_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.mail import SmtpSender
from simfleet_runtime.testing import KeyRing, create_postgres_database, drop_postgres_database, postgres_base_url
from simfleet_subjects import BillingSubjects, NetsimSubjects

from .conftest import Harness, settings_for  # type: ignore[import-not-found]
from .test_grpc_api import MANAGER, READER, Running, failure, running  # type: ignore[import-not-found]  # noqa: F401
from .test_rating import Line, rate, record  # type: ignore[import-not-found]

INTL_MINUTE = 4900  # one international minute on BIZ-S
PHONE = "+79990001111"


async def outbox(harness: Harness, *subjects: str) -> list[tuple[str, bytes]]:
    table = BUS.outbox
    async with harness.db.sessions() as session:
        rows = await session.execute(
            sa.select(table.c.subject, table.c.payload)
            .where(table.c.subject.in_(subjects))
            .order_by(table.c.created_at, table.c.id)
        )
        return [(row.subject, row.payload) for row in rows]


async def blocks(harness: Harness) -> list[tuple[str, list[str]]]:
    """Every block and unblock billing asked for: (subject, numbers)."""
    found = await outbox(
        harness,
        BillingSubjects.ACCOUNT_EXHAUSTED,
        BillingSubjects.ACCOUNT_REPLENISHED,
        BillingSubjects.LINES_HELD,
        BillingSubjects.LINES_RELEASED,
    )
    named = [(subject, list(ev.AccountFundsChanged.FromString(payload).msisdns)) for subject, payload in found]
    return [(subject, numbers) for subject, numbers in named if numbers]


def blocked_now(events: list[tuple[str, list[str]]]) -> set[str]:
    """What inventory would have blocked after these events."""
    held: set[str] = set()
    for subject, numbers in events:
        if subject in (BillingSubjects.ACCOUNT_EXHAUSTED, BillingSubjects.LINES_HELD):
            held |= set(numbers)
        else:
            held -= set(numbers)
    return held


async def company(harness: Harness) -> None:
    await harness.node(harness.company_id, f"/{harness.company_id}/", kind="company")


async def account_under(harness: Harness, path: str) -> LedgerAccount:
    """A personal account whose node is at ``path`` + its id."""
    node_id = new_id()
    await harness.node(node_id, f"{path}{node_id}/")
    return await harness.billing.ledger.open_account(
        NewAccount(
            kind="personal",
            currency="RUB",
            customer_id=harness.customer_id,
            personal_account_id=node_id,
            settlement_method="postpaid",
            credit_limit=10_000_000,
        )
    )


async def a_line(harness: Harness, msisdn: str, account: LedgerAccount | None = None) -> Line:
    await harness.billing.catalogue.seed()
    account = account or await harness.personal("postpaid", credit_limit=10_000_000)
    line = Line(harness, account, msisdn)
    await line.change(harness.billing.runtime.clock.now() - timedelta(hours=1))
    return line


async def spend_intl(harness: Harness, line: Line, minutes: int = 1) -> None:
    now = harness.billing.runtime.clock.now()
    await rate(harness, [record(line.msisdn, "voice", 60 * minutes, now, zone="international")])


async def new_limit(
    harness: Harness,
    target: Target,
    *,
    amount: int,
    action: str = "block",
    notify: tuple[str, ...] = (),
    key: str = "",
) -> str:
    chosen = settings(amount=amount, currency="RUB", action=action, notify=list(notify))
    view, _ = await harness.billing.limits.create(
        customer_id=harness.customer_id, user_id="u-1", target=target, chosen=chosen, key=key
    )
    return view.limit.id


def line_target(line: Line) -> Target:
    return Target("line", line.account.personal_account_id, line.line_id, line.msisdn)


async def spend_rows(harness: Harness) -> dict[tuple[str, str], int]:
    async with harness.db.sessions() as session:
        rows = await session.execute(sa.select(SPEND))
        return {(row.line_id, row.period): row.amount for row in rows}


# ----------------------------------------------------------------- spend


async def test_the_spend_counts_each_charge_once(harness: Harness) -> None:
    line = await a_line(harness, "+79990000101")
    now = harness.billing.runtime.clock.now()
    period = f"{now.year:04d}-{now.month:02d}"
    calls = [record(line.msisdn, "voice", 60, now, zone="international", rid=f"c-{i}") for i in range(2)]
    await rate(harness, calls, batch_id="b-1")
    assert await spend_rows(harness) == {(line.line_id, period): 2 * INTL_MINUTE}
    await rate(harness, calls, batch_id="b-2")  # the same records again: duplicates, never charged
    await rate(harness, [record(line.msisdn, "sms", 1, now, rid="s-1")])  # in the allowance: charged nothing
    assert await spend_rows(harness) == {(line.line_id, period): 2 * INTL_MINUTE}
    account = await harness.account(line.account.id)
    assert -account.balance == 2 * INTL_MINUTE  # the spend is what was charged

    fees = await harness.billing.fees.run_once()
    assert fees >= 1
    assert await harness.billing.fees.run_once() == 0
    charged = -(await harness.account(line.account.id)).balance
    assert await spend_rows(harness) == {(line.line_id, period): charged}  # fees once, with the usage


# ----------------------------------------------------------------- warn


async def test_a_warning_limit_warns_once_a_period_by_sms(harness: Harness) -> None:
    line = await a_line(harness, "+79990000102")
    limits = harness.billing.limits
    limit_id = await new_limit(
        harness, line_target(line), amount=INTL_MINUTE, action="warn", notify=(PHONE, "boss@example.com")
    )
    assert await limits.sweep() == (0, 0, 0)
    await spend_intl(harness, line)
    assert sorted(await asyncio.gather(limits.sweep(), limits.sweep())) == [(0, 0, 0), (1, 0, 0)]
    await spend_intl(harness, line)
    assert await limits.sweep() == (0, 0, 0)  # reached already this period

    (reached,) = await outbox(harness, BillingSubjects.LIMIT_REACHED)
    event = ev.SpendingLimitReached.FromString(reached[1])
    assert (event.limit_id, event.action, event.amount, event.spent) == (limit_id, "warn", INTL_MINUTE, INTL_MINUTE)
    assert list(event.notify) == [PHONE, "boss@example.com"]
    (sms,) = await outbox(harness, NetsimSubjects.SUBMIT_SMS)  # the phone only: emails go by mail
    command = smsc_pb2.SubmitSmsCommand.FromString(sms[1])
    assert command.to_msisdn == PHONE and command.origin == "billing"
    assert line.msisdn in command.text and "49.00 RUB" in command.text
    assert await blocks(harness) == []  # a warning blocks nothing

    # Raised, then reached again at its new amount: it warns again.
    await limits.update(
        harness.customer_id, limit_id, settings(amount=2 * INTL_MINUTE, currency="RUB", action="warn", notify=[PHONE])
    )
    assert await limits.sweep() == (1, 0, 0)
    assert len(await outbox(harness, NetsimSubjects.SUBMIT_SMS)) == 2

    # A new month: nothing spent in it yet.
    now = harness.billing.runtime.clock.now()
    first = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, 1, tzinfo=UTC)
    harness.move_clock((first - now).total_seconds())
    (view,) = await limits.views([await limits.get(harness.customer_id, limit_id)])
    assert (view.spent, view.reached) == (0, False)
    assert await limits.sweep() == (0, 0, 0)


class Sink:
    """An SMTP relay (aiosmtpd) that answers the first ``busy`` messages 451 and keeps the rest."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.taken: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.busy:
            self.busy -= 1
            return "451 try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.taken.append((list(envelope.rcpt_tos), content.decode()))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_warning_limit_emails_each_address_once_a_period_retrying_a_busy_or_absent_relay(
    harness: Harness,
) -> None:
    line = await a_line(harness, "+79990000103")
    limits = harness.billing.limits
    await new_limit(
        harness,
        line_target(line),
        amount=INTL_MINUTE,
        action="warn",
        notify=(PHONE, "boss@example.com", "cfo@example.com"),
    )
    port = free_port()
    emailer = LimitEmailer(
        db=harness.db,
        clock=harness.billing.runtime.clock,
        smtp=SmtpSender(host="127.0.0.1", port=port, sender="SIMfleet <no-reply@simfleet.local>", timeout=5.0),
        interval=1.0,
    )
    await spend_intl(harness, line)
    assert await limits.sweep() == (1, 0, 0)
    assert await emailer.send_due() == 0  # no relay listening yet: both later
    sink = Sink(busy=1)
    relay = Controller(sink, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        harness.move_clock(10)
        assert await emailer.send_due() == 1  # the first answered 451: later again
        harness.move_clock(60)
        assert await emailer.send_due() == 1
        await spend_intl(harness, line)
        assert await limits.sweep() == (0, 0, 0)  # reached already this period: nothing queued
        harness.move_clock(3600)
        assert await emailer.send_due() == 0  # each address once
    finally:
        relay.stop()
    assert sorted(to for tos, _ in sink.taken for to in tos) == ["boss@example.com", "cfo@example.com"]
    for _, content in sink.taken:
        assert f"Subject: {SUBJECT}" in content
        assert line.msisdn in content and "49.00 RUB" in content
    async with harness.db.sessions() as session:
        rows = (await session.execute(sa.select(EMAILS))).all()
    assert sorted(row.email for row in rows if row.sent_at is not None) == ["boss@example.com", "cfo@example.com"]
    assert sorted(row.attempts for row in rows) == [2, 3]  # absent relay, then one 451 for one of them


# ----------------------------------------------------------------- block


async def test_a_blocking_limit_blocks_its_lines_and_raising_it_unblocks_them(harness: Harness) -> None:
    line = await a_line(harness, "+79990000103")
    other = await a_line(harness, "+79990000104")  # another personal account: not in the limit
    limits = harness.billing.limits
    limit_id = await new_limit(harness, line_target(line), amount=INTL_MINUTE)
    await spend_intl(harness, other, 3)
    assert await limits.sweep() == (0, 0, 0)
    await spend_intl(harness, line)
    assert await limits.sweep() == (1, 1, 0)
    assert await limits.sweep() == (0, 0, 0)
    assert await blocks(harness) == [(BillingSubjects.LINES_HELD, [line.msisdn])]
    (held,) = await outbox(harness, BillingSubjects.LINES_HELD)
    message = ev.AccountFundsChanged.FromString(held[1])
    assert message.reason == f"limit:{limit_id}" and message.customer_id == harness.customer_id and message.hold_id

    raised = settings(amount=2 * INTL_MINUTE, currency="RUB", action="block", notify=[])
    await limits.update(harness.customer_id, limit_id, raised)
    assert await limits.sweep() == (0, 0, 1)
    assert await blocks(harness) == [
        (BillingSubjects.LINES_HELD, [line.msisdn]),
        (BillingSubjects.LINES_RELEASED, [line.msisdn]),
    ]
    (_, released) = await outbox(harness, BillingSubjects.LINES_HELD, BillingSubjects.LINES_RELEASED)
    assert ev.AccountFundsChanged.FromString(released[1]).hold_id != message.hold_id  # each its own key

    await spend_intl(harness, line)  # reached again: blocked again, then deleted: unblocked
    assert await limits.sweep() == (1, 1, 0)
    await limits.delete(harness.customer_id, limit_id)
    assert await limits.sweep() == (0, 0, 1)
    assert blocked_now(await blocks(harness)) == set()


async def test_a_new_period_lifts_a_limits_block(harness: Harness) -> None:
    line = await a_line(harness, "+79990000105")
    limits = harness.billing.limits
    await new_limit(harness, line_target(line), amount=INTL_MINUTE)
    await spend_intl(harness, line)
    assert await limits.sweep() == (1, 1, 0)
    now = harness.billing.runtime.clock.now()
    first = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, 1, tzinfo=UTC)
    harness.move_clock((first - now).total_seconds())
    assert await limits.sweep() == (0, 0, 1)
    assert blocked_now(await blocks(harness)) == set()


async def test_a_line_held_by_its_account_and_a_limit_stays_blocked_until_both_are_gone(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    account = await harness.personal()  # prepaid: floor 0
    line = await a_line(harness, "+79990000106", account)
    limits, holds = harness.billing.limits, harness.billing.holds
    limit_id = await new_limit(harness, line_target(line), amount=INTL_MINUTE)
    await spend_intl(harness, line)  # below its floor and past its limit

    assert await limits.sweep() == (1, 1, 0)  # the limit first: blocked
    assert await holds.sweep() == (1, 0)  # the account too: nothing more to block
    assert blocked_now(await blocks(harness)) == {line.msisdn}
    assert len(await blocks(harness)) == 1

    await limits.delete(harness.customer_id, limit_id)
    assert await limits.sweep() == (0, 0, 0)  # the account still holds it
    assert blocked_now(await blocks(harness)) == {line.msisdn}

    clearing = await harness.operator_account("payments_clearing")
    await harness.move("pay-1", clearing.id, account.id, INTL_MINUTE)
    assert await holds.sweep() == (0, 1)  # the last reason: unblocked
    assert await blocks(harness) == [
        (BillingSubjects.LINES_HELD, [line.msisdn]),
        (BillingSubjects.ACCOUNT_REPLENISHED, [line.msisdn]),
    ]

    # The other way round: the account first, the limit released last.
    await spend_intl(harness, line)
    assert await holds.sweep() == (1, 0)
    limit_id = await new_limit(harness, line_target(line), amount=INTL_MINUTE)
    assert (await limits.sweep())[1:] == (0, 0)  # held already by its account
    await harness.move("pay-2", clearing.id, account.id, INTL_MINUTE)
    assert await holds.sweep() == (0, 1)
    assert blocked_now(await blocks(harness)) == {line.msisdn}  # the limit still holds it
    higher = settings(amount=10**6, currency="RUB", action="block", notify=[])
    await limits.update(harness.customer_id, limit_id, higher)
    assert await limits.sweep() == (0, 0, 1)
    assert blocked_now(await blocks(harness)) == set()


# ----------------------------------------------------------------- scopes


async def test_a_groups_limit_counts_the_lines_under_it_and_the_companys_all_of_them(harness: Harness) -> None:
    await company(harness)
    c = harness.company_id
    group, sub = new_id(), new_id()
    await harness.node(group, f"/{c}/{group}/", kind="department")
    await harness.node(sub, f"/{c}/{group}/{sub}/", kind="department")
    inside = await a_line(harness, "+79990000107", await account_under(harness, f"/{c}/{group}/{sub}/"))
    also = await a_line(harness, "+79990000108", await account_under(harness, f"/{c}/{group}/"))
    outside = await a_line(harness, "+79990000109", await account_under(harness, f"/{c}/"))
    limits = harness.billing.limits
    group_limit = await new_limit(harness, Target("node", group), amount=3 * INTL_MINUTE)
    company_target = await limits.target(harness.customer_id, "company")
    assert company_target.node_id == c
    company_limit = await new_limit(harness, company_target, amount=4 * INTL_MINUTE, action="warn", notify=(PHONE,))

    await spend_intl(harness, outside, 2)
    await spend_intl(harness, inside)
    await spend_intl(harness, also)
    views = {v.limit.id: v for v in await limits.views([await limits.get(harness.customer_id, group_limit)])}
    assert views[group_limit].spent == 2 * INTL_MINUTE
    assert await limits.sweep() == (1, 0, 0)  # the company's (4 minutes) reached; the group's (2 of 3) not
    await spend_intl(harness, inside)
    assert await limits.sweep() == (1, 2, 0)
    assert blocked_now(await blocks(harness)) == {inside.msisdn, also.msisdn}
    (company_view,) = await limits.views([await limits.get(harness.customer_id, company_limit)])
    assert company_view.spent == 5 * INTL_MINUTE

    # A line leaving the group's scope (terminated: no longer in service) is unblocked; the rest stay.
    await also.change(harness.billing.runtime.clock.now(), state="terminated")
    assert await limits.sweep() == (0, 0, 1)
    assert blocked_now(await blocks(harness)) == {inside.msisdn}


# ----------------------------------------------------------------- setting


async def test_what_a_limit_may_be(harness: Harness) -> None:
    assert settings(amount=1, currency="RUB", action="warn", notify=[PHONE, PHONE]) == Settings(
        1, "RUB", "warn", (PHONE,)
    )
    bad = [
        ({"amount": 0}, "amount"),
        ({"currency": "XXX"}, "currency"),
        ({"action": "shout"}, "action"),
        ({"notify": ["12345"]}, "notify[0]"),
        ({"notify": []}, "notify"),
        ({"notify": [PHONE] * 11}, "notify"),
    ]
    for change, field in bad:
        values: dict[str, Any] = {"amount": 100, "currency": "RUB", "action": "warn", "notify": [PHONE]} | change
        with pytest.raises(InvalidArgument) as refused:
            settings(**values)
        assert field in refused.value.field_violations, change
    assert written(150000, "RUB") == "1500.00 RUB" and written(7, "IRR") == "7 IRR"
    assert written(-5, "KWD") == "-0.005 KWD"

    line = await a_line(harness, "+79990000110")
    first = await new_limit(harness, line_target(line), amount=100, key="k-1")
    assert await new_limit(harness, line_target(line), amount=100, key="k-1") == first  # replayed
    with pytest.raises(InvalidArgument) as reused:
        await new_limit(harness, line_target(line), amount=200, key="k-1")
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    with pytest.raises(InvalidArgument) as mismatch:
        await harness.billing.limits.create(
            customer_id=harness.customer_id,
            user_id="u-1",
            target=line_target(line),
            chosen=settings(amount=100, currency="USD", action="block", notify=[]),
            key="",
        )
    assert mismatch.value.reason == "CURRENCY_MISMATCH"
    target = await harness.billing.limits.target(harness.customer_id, "line", msisdn=line.msisdn)
    assert (target.line_id, target.node_id) == (line.line_id, line.account.personal_account_id)


# ----------------------------------------------------------------- racing on PostgreSQL


@pytest.fixture
async def pg(tmp_path: Path, ring: KeyRing) -> AsyncIterator[Harness]:
    if postgres_base_url() is None:
        pytest.skip("needs SIMFLEET_TEST_POSTGRES_URL")
    name = f"billing_limits_{new_id().lower()}"
    url = await create_postgres_database(name)
    billing: Billing = build(settings_for(url, database_pool_size=10), jwks=ring.fetch)
    await billing.runtime.migrate()
    try:
        yield Harness(billing, tmp_path / "clock")
    finally:
        await billing.runtime.shutdown()
        await drop_postgres_database(name)


async def test_racing_sweeps_block_and_warn_once(pg: Harness) -> None:
    await pg.billing.catalogue.seed()
    account = await pg.personal()  # prepaid: it runs out with the same charge
    line = await a_line(pg, "+79990000111", account)
    await new_limit(pg, line_target(line), amount=INTL_MINUTE)
    await new_limit(pg, line_target(line), amount=INTL_MINUTE, action="warn", notify=(PHONE,))
    await spend_intl(pg, line)
    limits, holds = pg.billing.limits, pg.billing.holds
    # Six sweeps of the limits and two of the accounts at once, on separate connections.
    await asyncio.gather(*(limits.sweep() for _ in range(6)), holds.sweep(), holds.sweep())
    assert await blocks(pg) == [(BillingSubjects.LINES_HELD, [line.msisdn])] or await blocks(pg) == [
        (BillingSubjects.ACCOUNT_EXHAUSTED, [line.msisdn])
    ]
    assert len(await outbox(pg, BillingSubjects.LIMIT_REACHED)) == 2  # one per limit
    assert len(await outbox(pg, NetsimSubjects.SUBMIT_SMS)) == 1

    # Both reasons released at once: unblocked once.
    async with pg.db.transaction() as session:
        await session.execute(sa.text("DELETE FROM spending_limits"))
    clearing = await pg.operator_account("payments_clearing")
    await pg.move("pay-1", clearing.id, account.id, INTL_MINUTE)
    await asyncio.gather(*(limits.sweep() for _ in range(4)), holds.sweep(), holds.sweep())
    events = await blocks(pg)
    assert len(events) == 2 and blocked_now(events) == set()


# ----------------------------------------------------------------- over gRPC, with scope


async def test_the_limits_over_grpc_with_scope(running: Running) -> None:  # noqa: F811
    await running.tree()
    manager = running.bearer(Grant(running.branch, MANAGER, "manager"))
    reader = running.bearer(Grant(running.branch, READER, "reader"))
    boss = running.bearer(Grant(running.company, MANAGER, "admin"))
    stranger = running.bearer(Grant(running.elsewhere, MANAGER, "manager"))

    def create(**fields: Any) -> limits_pb2.CreateSpendingLimitRequest:
        values: dict[str, Any] = {
            "scope": limits_pb2.SPENDING_LIMIT_SCOPE_NODE,
            "node_id": running.branch,
            "amount": 500_000,
            "currency": "RUB",
            "action": limits_pb2.SPENDING_LIMIT_ACTION_WARN,
            "notify": [PHONE, "boss@example.com"],
        } | fields
        return limits_pb2.CreateSpendingLimitRequest(**values)

    async with make_channel(running.target) as channel:
        api = limits_pb2_grpc.SpendingLimitServiceStub(channel)
        made = await api.CreateSpendingLimit(create(idempotency_key="k-1"), metadata=manager)
        limit = made.limit
        assert (limit.node_id, limit.amount.amount, limit.amount.exponent, limit.current_period) == (
            running.branch,
            500_000,
            2,
            running.billing.runtime.clock.now().strftime("%Y-%m"),
        )
        assert (limit.spent.amount, limit.reached, made.replayed) == (0, False, False)
        again = await api.CreateSpendingLimit(create(idempotency_key="k-1"), metadata=manager)
        assert again.replayed and again.limit.id == limit.id

        assert (await failure(api.CreateSpendingLimit(create(), metadata=reader)))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        company = create(scope=limits_pb2.SPENDING_LIMIT_SCOPE_COMPANY, node_id="")
        assert (await failure(api.CreateSpendingLimit(company, metadata=manager)))[0] == grpc.StatusCode.NOT_FOUND
        whole = await api.CreateSpendingLimit(company, metadata=boss)
        assert whole.limit.node_id == running.company
        assert (await failure(api.CreateSpendingLimit(create(), metadata=stranger)))[:2] == (
            grpc.StatusCode.NOT_FOUND,
            "NODE_NOT_FOUND",
        )
        line = create(scope=limits_pb2.SPENDING_LIMIT_SCOPE_LINE, node_id="", msisdn="+79990009999")
        assert (await failure(api.CreateSpendingLimit(line, metadata=manager)))[:2] == (
            grpc.StatusCode.NOT_FOUND,
            "LINE_NOT_FOUND",
        )
        code, reason, fields = await failure(
            api.CreateSpendingLimit(create(amount=0, notify=["nobody"]), metadata=manager)
        )
        assert (code, reason, set(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_AMOUNT", {"amount"})

        read = await api.GetSpendingLimit(limits_pb2.GetSpendingLimitRequest(limit_id=limit.id), metadata=reader)
        assert read.limit.id == limit.id
        assert (
            await failure(
                api.GetSpendingLimit(limits_pb2.GetSpendingLimitRequest(limit_id=limit.id), metadata=stranger)
            )
        )[:2] == (grpc.StatusCode.NOT_FOUND, "SPENDING_LIMIT_NOT_FOUND")
        listed = await api.ListSpendingLimits(limits_pb2.ListSpendingLimitsRequest(), metadata=reader)
        assert [found.id for found in listed.limits] == [limit.id]  # not the company's: above the reader
        listed = await api.ListSpendingLimits(limits_pb2.ListSpendingLimitsRequest(), metadata=boss)
        assert {found.id for found in listed.limits} == {limit.id, whole.limit.id}
        assert not (await api.ListSpendingLimits(limits_pb2.ListSpendingLimitsRequest(), metadata=stranger)).limits
        under = limits_pb2.ListSpendingLimitsRequest(node_id=running.branch)
        assert [found.id for found in (await api.ListSpendingLimits(under, metadata=boss)).limits] == [limit.id]
        assert (await failure(api.ListSpendingLimits(under, metadata=stranger)))[:2] == (
            grpc.StatusCode.NOT_FOUND,
            "NODE_NOT_FOUND",
        )
        nobody = running.bearer(Grant(running.branch, frozenset({"lines:read"}), "viewer"))
        assert (await failure(api.ListSpendingLimits(under, metadata=nobody)))[0] == grpc.StatusCode.PERMISSION_DENIED
        everything = limits_pb2.ListSpendingLimitsRequest()
        assert (await failure(api.ListSpendingLimits(everything, metadata=nobody)))[
            0
        ] == grpc.StatusCode.PERMISSION_DENIED

        change = limits_pb2.UpdateSpendingLimitRequest(
            limit_id=limit.id,
            amount=900_000,
            currency="RUB",
            action=limits_pb2.SPENDING_LIMIT_ACTION_BLOCK,
        )
        assert (await failure(api.UpdateSpendingLimit(change, metadata=reader)))[0] == grpc.StatusCode.PERMISSION_DENIED
        changed = await api.UpdateSpendingLimit(change, metadata=manager)
        assert (changed.limit.amount.amount, changed.limit.action, list(changed.limit.notify)) == (
            900_000,
            limits_pb2.SPENDING_LIMIT_ACTION_BLOCK,
            [],
        )
        gone = limits_pb2.DeleteSpendingLimitRequest(limit_id=limit.id)
        assert (await failure(api.DeleteSpendingLimit(gone, metadata=stranger)))[0] == grpc.StatusCode.NOT_FOUND
        await api.DeleteSpendingLimit(gone, metadata=manager)
        assert (await failure(api.DeleteSpendingLimit(gone, metadata=manager)))[0] == grpc.StatusCode.NOT_FOUND
