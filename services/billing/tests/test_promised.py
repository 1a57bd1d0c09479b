"""Promised payments (BI-9): taken within limits, repaid once when due, the holds following the balance;
and the customer's settlement method (BI-13) through the customer-facing gRPC API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from billing.ledger.models import PROMISED_CREDIT, JournalEntry, LedgerAccount
from billing.ledger.service import NewAccount
from billing.main import build
from billing.promised.models import PROMISED, PromisedPayment
from simfleet.billing.v1 import ledger_pb2, promised_pb2, promised_pb2_grpc, settlement_pb2, settlement_pb2_grpc
from simfleet.events.v1 import inventory_pb2 as inv
from simfleet_runtime.authz import Grant
from simfleet_runtime.errors import DomainError, read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, create_postgres_database, drop_postgres_database, postgres_base_url
from simfleet_runtime.timestamps import timestamp

from . import test_grpc_api as grpc_api_tests  # type: ignore[attr-defined]
from .conftest import Harness, settings_for  # type: ignore[import-not-found]
from .test_grpc_api import MANAGER, READER, Running, failure  # type: ignore[import-not-found]
from .test_holds import events  # type: ignore[import-not-found]
from .test_rating import Line, deliver_lines, rate, record  # type: ignore[import-not-found]

DAY = 86_400.0
running = grpc_api_tests.running  # billing served on a real channel, as test_grpc_api has it


async def refused(call: object) -> str:
    with pytest.raises(DomainError) as failed:
        await call  # type: ignore[misc]
    return failed.value.reason


async def promised_rows(harness: Harness) -> list[PromisedPayment]:
    async with harness.db.sessions() as session:
        return list(await session.scalars(sa.select(PromisedPayment).order_by(PromisedPayment.taken_at)))


async def entry_ids(harness: Harness, kind: str) -> list[str]:
    async with harness.db.sessions() as session:
        return list(await session.scalars(sa.select(JournalEntry.id).where(JournalEntry.kind == kind)))


async def test_a_promised_payment_credits_the_account_and_is_taken_back_once_when_due(harness: Harness) -> None:
    promised = harness.billing.promised
    account = await harness.personal()
    taken, replayed = await promised.take(account=account, user_id="user-1", amount=50_000, key="k1")
    assert not replayed and taken.status == "open" and taken.entry_id == f"promised:{taken.id}"
    assert taken.due_at - taken.taken_at == timedelta(days=7)
    assert (await harness.account(account.id)).balance == 50_000
    again, replayed = await promised.take(account=account, user_id="user-1", amount=50_000, key="k1")
    assert replayed and again.id == taken.id
    assert (await harness.account(account.id)).balance == 50_000  # the retry took nothing more
    assert await refused(promised.take(account=account, user_id="user-1", amount=40_000, key="k1")) == (
        "IDEMPOTENCY_KEY_REUSED"
    )

    assert await promised.repay_due() == 0  # not due yet
    harness.move_clock(7 * DAY + 1)
    # Racing sweeps repay once.
    assert sorted(await asyncio.gather(promised.repay_due(), promised.repay_due(), promised.repay_due())) == [0, 0, 1]
    assert await promised.repay_due() == 0
    after = await harness.account(account.id)
    assert after.balance == 0
    (row,) = await promised_rows(harness)
    assert (row.status, row.repaid_by, row.open_slot, row.repay_entry_id) == (
        "repaid",
        "due",
        None,
        f"promised-repay:{taken.id}",
    )
    assert await entry_ids(harness, "promised_repay") == [f"promised-repay:{taken.id}"]
    assert await promised.repay(taken.id) is False  # repaid already: nothing moves
    assert (await harness.account(account.id)).balance == 0


async def test_limits_refuse_with_a_reason_and_change_nothing(harness: Harness) -> None:
    promised = harness.billing.promised
    account = await harness.personal()
    assert await refused(promised.take(account=account, user_id="u", amount=300_001, key="")) == "AMOUNT_TOO_LARGE"
    assert await refused(promised.take(account=account, user_id="u", amount=0, key="")) == "INVALID_AMOUNT"
    first, _ = await promised.take(account=account, user_id="u", amount=300_000, key="")
    assert await refused(promised.take(account=account, user_id="u", amount=100, key="")) == "PROMISED_PAYMENT_OPEN"
    assert (await harness.account(account.id)).balance == 300_000
    assert await promised.repay(first.id) is True  # repaid early by the customer
    assert (await harness.account(account.id)).balance == 0
    second, _ = await promised.take(account=account, user_id="u", amount=100, key="")
    await promised.repay(second.id)
    third, _ = await promised.take(account=account, user_id="u", amount=100, key="")
    await promised.repay(third.id)
    assert await refused(promised.take(account=account, user_id="u", amount=100, key="")) == "PROMISED_PAYMENT_LIMIT"
    assert len(await promised_rows(harness)) == 3
    assert (await harness.account(account.id)).balance == 0
    harness.move_clock(30 * DAY + 1)  # the first three left the window
    fourth, _ = await promised.take(account=account, user_id="u", amount=100, key="")
    assert fourth.status == "open"
    page, token = await promised.list(account.id, page_size=2, page_token="")
    assert [p.id for p in page] == [fourth.id, third.id] and token
    rest, token = await promised.list(account.id, page_size=2, page_token=token)
    assert [p.id for p in rest] == [second.id, first.id] and token == ""


async def test_the_financial_hold_follows_the_promised_payment(harness: Harness) -> None:
    await harness.billing.catalogue.seed()
    account = await harness.personal()  # prepaid
    now = harness.billing.runtime.clock.now()
    line = Line(harness, account, "+79990000071")
    await line.change(now - timedelta(hours=1))
    await rate(harness, [record(line.msisdn, "voice", 60, now, zone="international", rid="intl")])
    assert (await harness.account(account.id)).balance == -4900
    holds = harness.billing.holds
    assert await holds.sweep() == (1, 0)

    await harness.billing.promised.take(account=account, user_id="u", amount=10_000, key="")
    assert (await harness.account(account.id)).balance == 5_100
    assert await holds.sweep() == (0, 1)  # lifted by the credit

    harness.move_clock(7 * DAY + 1)
    assert await harness.billing.promised.repay_due() == 1
    assert (await harness.account(account.id)).balance == -4_900  # owed: below the floor
    assert await holds.sweep() == (1, 0)  # held again
    assert [subject.rsplit(".", 1)[-1] for subject, _ in await events(harness)] == [
        "exhausted",
        "replenished",
        "exhausted",
    ]


async def test_the_api_takes_for_an_account_a_line_and_a_group_within_the_callers_scope(running: Running) -> None:
    await running.tree()
    ledger = running.billing.ledger
    personal = await ledger.open_account(
        NewAccount(
            kind="personal", currency="RUB", customer_id=running.customer_id, personal_account_id=running.personal
        )
    )
    other = await ledger.open_account(
        NewAccount(
            kind="personal", currency="RUB", customer_id=running.customer_id, personal_account_id=running.elsewhere
        )
    )
    reader = running.bearer(Grant(running.company, READER, "viewer"))
    manager = running.bearer(Grant(running.company, MANAGER, "manager"))
    branch_manager = running.bearer(Grant(running.branch, MANAGER, "manager"))
    async with make_channel(running.target, default_timeout=5) as channel:
        stub = promised_pb2_grpc.PromisedPaymentServiceStub(channel)
        take = promised_pb2.TakePromisedPaymentRequest(
            personal_account_id=running.personal, amount=20_000, idempotency_key="take-1"
        )
        assert (await failure(stub.TakePromisedPayment(take, metadata=reader)))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        outside = running.bearer(Grant(running.elsewhere, MANAGER, "manager"))
        assert (await failure(stub.TakePromisedPayment(take, metadata=outside)))[:2] == (
            grpc.StatusCode.NOT_FOUND,
            "PERSONAL_ACCOUNT_NOT_FOUND",
        )
        answer = await stub.TakePromisedPayment(take, metadata=branch_manager)
        assert answer.account.balance.amount == 20_000 and not answer.replayed
        pp = answer.promised_payment
        assert pp.status == promised_pb2.PROMISED_PAYMENT_STATUS_OPEN and pp.amount.amount == 20_000
        assert (await stub.TakePromisedPayment(take, metadata=branch_manager)).replayed
        again = promised_pb2.TakePromisedPaymentRequest(personal_account_id=running.personal, amount=1)
        assert (await failure(stub.TakePromisedPayment(again, metadata=manager)))[:2] == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "PROMISED_PAYMENT_OPEN",
        )
        too_much = promised_pb2.TakePromisedPaymentRequest(personal_account_id=running.elsewhere, amount=10**6)
        bad = await failure(stub.TakePromisedPayment(too_much, metadata=manager))
        assert bad[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_TOO_LARGE") and "amount" in bad[2]

        listed = await stub.ListPromisedPayments(
            promised_pb2.ListPromisedPaymentsRequest(personal_account_id=running.personal), metadata=reader
        )
        assert [p.id for p in listed.promised_payments] == [pp.id]
        got = await stub.GetPromisedPayment(
            promised_pb2.GetPromisedPaymentRequest(personal_account_id=running.personal, promised_payment_id=pp.id),
            metadata=reader,
        )
        assert got.promised_payment.due_at.seconds - got.promised_payment.taken_at.seconds == 7 * 86_400
        elsewhere = promised_pb2.GetPromisedPaymentRequest(
            personal_account_id=running.elsewhere, promised_payment_id=pp.id
        )
        assert (await failure(stub.GetPromisedPayment(elsewhere, metadata=reader)))[1] == "PROMISED_PAYMENT_NOT_FOUND"
        repay = promised_pb2.RepayPromisedPaymentRequest(
            personal_account_id=running.personal, promised_payment_id=pp.id
        )
        assert (await failure(stub.RepayPromisedPayment(repay, metadata=reader)))[
            0
        ] == grpc.StatusCode.PERMISSION_DENIED
        repaid = await stub.RepayPromisedPayment(repay, metadata=manager)
        assert repaid.promised_payment.repaid_by == "customer" and repaid.account.balance.amount == 0
        assert (await stub.RepayPromisedPayment(repay, metadata=manager)).account.balance.amount == 0

        # A line: its personal account's promised payment.
        now = running.billing.runtime.clock.now()

        class _H:  # what deliver_lines needs of a harness
            billing = running.billing
            db = running.billing.runtime.db

        await deliver_lines(
            _H(),  # type: ignore[arg-type]
            [
                inv.LineChanged(
                    line_id=new_id(),
                    customer_id=running.customer_id,
                    msisdn="+79990000081",
                    imsi="250990000000081",
                    node_id=running.elsewhere,
                    personal_account_id=running.elsewhere,
                    tariff_code="BIZ-S",
                    state="active",
                    services=["voice"],
                    occurred_at=timestamp(now),
                )
            ],
        )
        line = promised_pb2.TakeLinePromisedPaymentRequest(msisdn="+79990000081", amount=5_000)
        assert (await failure(stub.TakeLinePromisedPayment(line, metadata=branch_manager)))[0] == (
            grpc.StatusCode.NOT_FOUND
        )
        unknown = promised_pb2.TakeLinePromisedPaymentRequest(msisdn="+79990000089", amount=5_000)
        assert (await failure(stub.TakeLinePromisedPayment(unknown, metadata=manager)))[1] == "LINE_NOT_FOUND"
        taken = await stub.TakeLinePromisedPayment(line, metadata=manager)
        assert taken.promised_payment.personal_account_id == running.elsewhere
        assert taken.account.id == other.id and taken.account.balance.amount == 5_000

        # A group: every personal account under the node the caller may pay from, each on its own.
        group = promised_pb2.TakeGroupPromisedPaymentsRequest(
            node_id=running.company, amount=1_000, idempotency_key="g"
        )
        decided = await stub.TakeGroupPromisedPayments(group, metadata=manager)
        assert [p.personal_account_id for p in decided.taken] == [running.personal]
        assert [(r.personal_account_id, r.reason) for r in decided.refused] == [
            (running.elsewhere, "PROMISED_PAYMENT_OPEN")
        ]
        replay = await stub.TakeGroupPromisedPayments(group, metadata=manager)
        assert [p.id for p in replay.taken] == [p.id for p in decided.taken]
        scoped = await stub.TakeGroupPromisedPayments(
            promised_pb2.TakeGroupPromisedPaymentsRequest(node_id=running.elsewhere, amount=1_000),
            metadata=running.bearer(Grant(running.company, READER, "viewer"), Grant(running.elsewhere, MANAGER, "m")),
        )
        assert [r.personal_account_id for r in scoped.refused] == [running.elsewhere] and not scoped.taken
        no_pay = promised_pb2.TakeGroupPromisedPaymentsRequest(node_id=running.company, amount=1_000)
        assert (await failure(stub.TakeGroupPromisedPayments(no_pay, metadata=reader)))[0] == (
            grpc.StatusCode.PERMISSION_DENIED
        )
        too_much_each = promised_pb2.TakeGroupPromisedPaymentsRequest(node_id=running.company, amount=10**6)
        assert (await failure(stub.TakeGroupPromisedPayments(too_much_each, metadata=manager)))[1] == (
            "AMOUNT_TOO_LARGE"
        )
        hidden = promised_pb2.TakeGroupPromisedPaymentsRequest(node_id=running.company, amount=1_000)
        assert (await failure(stub.TakeGroupPromisedPayments(hidden, metadata=branch_manager)))[0] == (
            grpc.StatusCode.NOT_FOUND
        )
        balances = await ledger.balances([personal.id, other.id])
        assert balances == {personal.id: 1_000, other.id: 5_000}
        async with running.billing.runtime.db.sessions() as session:
            operator = await session.scalar(
                sa.select(LedgerAccount.balance).where(LedgerAccount.kind == PROMISED_CREDIT)
            )
            opened = await session.scalar(sa.select(sa.func.count()).select_from(PROMISED))
        assert operator == -6_000 and opened == 3


async def test_a_group_in_two_currencies_takes_an_amount_per_currency(running: Running) -> None:
    await running.tree()
    ledger = running.billing.ledger
    rub = await ledger.open_account(
        NewAccount(
            kind="personal", currency="RUB", customer_id=running.customer_id, personal_account_id=running.personal
        )
    )
    irr = await ledger.open_account(
        NewAccount(
            kind="personal", currency="IRR", customer_id=running.customer_id, personal_account_id=running.elsewhere
        )
    )
    manager = running.bearer(Grant(running.company, MANAGER, "manager"))
    reader = running.bearer(Grant(running.company, READER, "viewer"))
    Req = promised_pb2.TakeGroupPromisedPaymentsRequest
    async with make_channel(running.target, default_timeout=5) as channel:
        stub = promised_pb2_grpc.PromisedPaymentServiceStub(channel)
        # One amount is ambiguous: refused, naming the currencies, and nothing is taken.
        with pytest.raises(grpc.aio.AioRpcError) as one:
            await stub.TakeGroupPromisedPayments(Req(node_id=running.company, amount=1_000), metadata=manager)
        details = read_error(one.value)
        assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_PER_CURRENCY")
        assert details.metadata == {"currencies": "IRR,RUB"} and "IRR, RUB" in details.message
        assert details.field_violations == {"amounts": "an amount for each of IRR, RUB"}
        # So is an amount for one of them only.
        rub_only = Req(node_id=running.company, amounts={"RUB": 1_000})
        assert (await failure(stub.TakeGroupPromisedPayments(rub_only, metadata=manager)))[1] == "AMOUNT_PER_CURRENCY"
        # Bad amounts are the request's fault, named by their currency.
        for wrong, field, reason in [
            ({"RUB": 1_000, "IRR": 0}, "amounts.IRR", "INVALID_AMOUNT"),
            ({"RUB": 10**6, "IRR": 1}, "amounts.RUB", "AMOUNT_TOO_LARGE"),
            ({"RUB": 1_000, "IRR": 1, "rub": 1}, "amounts.rub", "UNKNOWN_CURRENCY"),
        ]:
            code, got, fields = await failure(
                stub.TakeGroupPromisedPayments(Req(node_id=running.company, amounts=wrong), metadata=manager)
            )
            assert (code, got, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, reason, [field])
        both = Req(node_id=running.company, amount=1_000, amounts={"RUB": 1_000, "IRR": 50_000})
        assert (await failure(stub.TakeGroupPromisedPayments(both, metadata=manager)))[2] == {
            "amount": "not with amounts"
        }
        # The permission is checked before the amounts.
        each = Req(node_id=running.company, amounts={"RUB": 1_000, "IRR": 50_000, "EUR": 7}, idempotency_key="g2")
        assert (await failure(stub.TakeGroupPromisedPayments(each, metadata=reader)))[1] == "PERMISSION_MISSING"
        assert await ledger.balances([rub.id, irr.id]) == {rub.id: 0, irr.id: 0}

        # An amount for each currency held: each account takes its own (EUR, held by none, takes nothing).
        decided = await stub.TakeGroupPromisedPayments(each, metadata=manager)
        assert sorted((p.personal_account_id, p.amount.amount, p.amount.currency) for p in decided.taken) == sorted(
            [(running.personal, 1_000, "RUB"), (running.elsewhere, 50_000, "IRR")]
        )
        assert not decided.refused
        replay = await stub.TakeGroupPromisedPayments(each, metadata=manager)
        assert sorted(p.id for p in replay.taken) == sorted(p.id for p in decided.taken)
        # Refusals are per account, as with one currency.
        again = await stub.TakeGroupPromisedPayments(
            Req(node_id=running.company, amounts={"RUB": 500, "IRR": 500}), metadata=manager
        )
        assert sorted((r.personal_account_id, r.reason) for r in again.refused) == sorted(
            [(running.personal, "PROMISED_PAYMENT_OPEN"), (running.elsewhere, "PROMISED_PAYMENT_OPEN")]
        )
        # Under a node of one currency the single amount still does.
        branch = await stub.TakeGroupPromisedPayments(Req(node_id=running.branch, amount=700), metadata=manager)
        assert [r.reason for r in branch.refused] == ["PROMISED_PAYMENT_OPEN"] and not branch.taken
    assert await ledger.balances([rub.id, irr.id]) == {rub.id: 1_000, irr.id: 50_000}


async def test_customers_choose_their_settlement_method_and_keep_the_operators_limit(running: Running) -> None:
    await running.tree()
    ledger = running.billing.ledger
    account = await ledger.open_account(
        NewAccount(
            kind="personal",
            currency="RUB",
            customer_id=running.customer_id,
            personal_account_id=running.personal,
            settlement_method="credit",
            credit_limit=50_000,
        )
    )
    reader = running.bearer(Grant(running.company, READER, "viewer"))
    manager = running.bearer(Grant(running.company, MANAGER, "manager"))
    today = running.billing.runtime.clock.now().astimezone(UTC).date()
    async with make_channel(running.target, default_timeout=5) as channel:
        stub = settlement_pb2_grpc.SettlementMethodServiceStub(channel)
        change = settlement_pb2.ChangeMySettlementMethodRequest(
            personal_account_id=running.personal, method=ledger_pb2.SETTLEMENT_METHOD_POSTPAID
        )
        assert (await failure(stub.ChangeMySettlementMethod(change, metadata=reader)))[0] == (
            grpc.StatusCode.PERMISSION_DENIED
        )
        now = await stub.ChangeMySettlementMethod(change, metadata=manager)
        assert now.change.HasField("applied_at") and now.account.credit_limit.amount == 50_000
        assert now.account.settlement_method == ledger_pb2.SETTLEMENT_METHOD_POSTPAID
        assert now.account.floor.amount == -50_000
        later = settlement_pb2.ChangeMySettlementMethodRequest(
            personal_account_id=running.personal,
            method=ledger_pb2.SETTLEMENT_METHOD_PREPAID,
            effective_from=(today + timedelta(days=3)).isoformat(),
        )
        scheduled = await stub.ChangeMySettlementMethod(later, metadata=manager)
        assert not scheduled.change.HasField("applied_at") and scheduled.change.credit_limit.amount == 0
        assert scheduled.account.scheduled_change.method == ledger_pb2.SETTLEMENT_METHOD_PREPAID
        for bad_date in (
            (today - timedelta(days=1)).isoformat(),
            (today + timedelta(days=400)).isoformat(),
            "tomorrow",
        ):
            refused_date = await failure(
                stub.ChangeMySettlementMethod(
                    settlement_pb2.ChangeMySettlementMethodRequest(
                        personal_account_id=running.personal,
                        method=ledger_pb2.SETTLEMENT_METHOD_CREDIT,
                        effective_from=bad_date,
                    ),
                    metadata=manager,
                )
            )
            assert refused_date[0] == grpc.StatusCode.INVALID_ARGUMENT and "effective_from" in refused_date[2]
        unknown = await failure(
            stub.ChangeMySettlementMethod(
                settlement_pb2.ChangeMySettlementMethodRequest(personal_account_id=running.personal, method=7),
                metadata=manager,
            )
        )
        assert unknown[0] == grpc.StatusCode.INVALID_ARGUMENT and "method" in unknown[2]
        read = await stub.GetSettlementMethod(
            settlement_pb2.GetSettlementMethodRequest(personal_account_id=running.personal, page_size=1),
            metadata=reader,
        )
        assert read.account.id == account.id and read.account.HasField("scheduled_change")
        assert [c.method for c in read.history] == [ledger_pb2.SETTLEMENT_METHOD_PREPAID] and read.next_page_token
        rest = await stub.GetSettlementMethod(
            settlement_pb2.GetSettlementMethodRequest(
                personal_account_id=running.personal, page_size=1, page_token=read.next_page_token
            ),
            metadata=reader,
        )
        assert [c.requested_by for c in rest.history] == ["user-1"]
        outside = running.bearer(Grant(running.elsewhere, MANAGER, "manager"))
        assert (
            await failure(
                stub.GetSettlementMethod(
                    settlement_pb2.GetSettlementMethodRequest(personal_account_id=running.personal), metadata=outside
                )
            )
        )[0] == grpc.StatusCode.NOT_FOUND


@pytest.fixture
async def pg(tmp_path: Path, ring: KeyRing) -> AsyncIterator[Harness]:
    name = f"billing_pp_{new_id().lower()}"
    url = await create_postgres_database(name)
    billing = build(settings_for(url, database_pool_size=10, clock_file=str(tmp_path / "clock")), jwks=ring.fetch)
    await billing.runtime.migrate()
    try:
        yield Harness(billing, tmp_path / "clock")
    finally:
        await billing.runtime.shutdown()
        await drop_postgres_database(name)


@pytest.mark.skipif(postgres_base_url() is None, reason="needs SIMFLEET_TEST_POSTGRES_URL")
async def test_racing_takes_and_sweeps_on_postgresql_move_each_promised_payment_once(pg: Harness) -> None:
    promised = pg.billing.promised
    accounts = [await pg.personal() for _ in range(6)]

    async def take(account: LedgerAccount, key: str) -> str:
        try:
            await promised.take(account=account, user_id="u", amount=1_000, key=key)
        except DomainError as refusal:
            return refusal.reason
        return "taken"

    # Ten takes at once on each account, under different keys: one each; the others are told it is open.
    outcomes = await asyncio.gather(*(take(a, f"{a.id}-{n}") for a in accounts for n in range(10)))
    assert outcomes.count("taken") == len(accounts)
    assert set(outcomes) == {"taken", "PROMISED_PAYMENT_OPEN"}
    # The same key at once: one promised payment, the others replay it.
    await promised.repay((await promised_rows(pg))[0].id)
    replays = await asyncio.gather(
        *(promised.take(account=accounts[0], user_id="u", amount=1_000, key="same") for _ in range(8))
    )
    assert len({p.id for p, _ in replays}) == 1 and sorted(r for _, r in replays).count(False) == 1

    pg.move_clock(7 * DAY + 1)
    # Racing sweeps on 10 connections: each open promised payment is taken back once.
    repaid = await asyncio.gather(*(promised.repay_due() for _ in range(8)))
    assert sum(repaid) == len(accounts)
    balances = await pg.billing.ledger.balances([a.id for a in accounts])
    assert set(balances.values()) == {0}
    assert len(await entry_ids(pg, "promised_repay")) == len(accounts) + 1
    rows = await promised_rows(pg)
    assert {r.status for r in rows} == {"repaid"} and len(rows) == len(accounts) + 1
