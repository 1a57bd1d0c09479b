"""Top-ups by card and automatic payments: credited exactly once whatever the provider does.

The payment provider is another service (netsim's simulated acquirer): these
tests run a stand-in of its gRPC contract on a real server, which answers as
the contract says and can decline, lose its answers or be out of service.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from billing.ledger.models import PAYMENTS_CLEARING, LedgerAccount
from billing.ledger.service import CREDIT, DEBIT, Leg, NewEntry
from billing.main import build
from billing.models import BUS
from billing.payments.service import PaymentFilter, Payments
from simfleet.events.v1 import billing_pb2 as ev
from simfleet.netsim.v1 import payments_pb2 as pb
from simfleet.netsim.v1 import payments_pb2_grpc
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, database_backends, database_url, drop_postgres_database, free_port
from simfleet_subjects import BillingSubjects

from .conftest import Harness, settings_for  # type: ignore[import-not-found]


@dataclass
class Acquirer(payments_pb2_grpc.PaymentProviderServiceServicer):
    """The provider's contract, in memory: idempotent by payment id; it may decline, lose answers or be down."""

    payments: dict[str, pb.Payment] = field(default_factory=dict)
    declining: set[str] = field(default_factory=set)
    lose_answers: int = 0
    outage: bool = False
    down: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)

    async def _answer(self, context: Any, payment: pb.Payment) -> pb.Payment:
        if self.lose_answers:
            self.lose_answers -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "answer lost")
        return payment

    async def _up(self, context: Any, name: str) -> None:
        self.calls.append(name)
        if self.outage or name in self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "out of service")

    async def Authorize(self, request: pb.AuthorizeRequest, context: Any) -> pb.AuthorizeResponse:
        await self._up(context, "Authorize")
        payment = self.payments.get(request.payment_id)
        if payment is None:
            declined = request.card_token in self.declining
            payment = self.payments[request.payment_id] = pb.Payment(
                payment_id=request.payment_id,
                amount=request.amount,
                currency=request.currency,
                card_token=request.card_token,
                state=pb.PAYMENT_STATE_DECLINED if declined else pb.PAYMENT_STATE_AUTHORIZED,
                decline_reason="insufficient_funds" if declined else "",
            )
        return pb.AuthorizeResponse(payment=await self._answer(context, payment))

    async def Capture(self, request: pb.CaptureRequest, context: Any) -> pb.CaptureResponse:
        await self._up(context, "Capture")
        payment = self.payments.get(request.payment_id)
        if payment is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such payment")
        assert payment is not None
        if payment.state == pb.PAYMENT_STATE_AUTHORIZED:
            payment.state = pb.PAYMENT_STATE_CAPTURED
        elif payment.state != pb.PAYMENT_STATE_CAPTURED:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not authorised")
        return pb.CaptureResponse(payment=await self._answer(context, payment))

    async def Void(self, request: pb.VoidRequest, context: Any) -> pb.VoidResponse:
        await self._up(context, "Void")
        payment = self.payments[request.payment_id]
        if payment.state == pb.PAYMENT_STATE_AUTHORIZED:
            payment.state = pb.PAYMENT_STATE_VOIDED
        return pb.VoidResponse(payment=payment)

    async def GetPayment(self, request: pb.GetPaymentRequest, context: Any) -> pb.GetPaymentResponse:
        await self._up(context, "GetPayment")
        return pb.GetPaymentResponse(payment=self.payments[request.payment_id])

    def captured(self) -> int:
        return sum(p.amount for p in self.payments.values() if p.state == pb.PAYMENT_STATE_CAPTURED)


@pytest.fixture
async def acquirer() -> AsyncIterator[tuple[Acquirer, str]]:
    double = Acquirer()
    server = grpc.aio.server()
    payments_pb2_grpc.add_PaymentProviderServiceServicer_to_server(double, server)
    port = server.add_insecure_port(f"127.0.0.1:{free_port()}")
    await server.start()
    yield double, f"127.0.0.1:{port}"
    await server.stop(0)


@pytest.fixture(params=database_backends())
async def paying(
    request: pytest.FixtureRequest, tmp_path: Path, ring: KeyRing, acquirer: tuple[Acquirer, str]
) -> AsyncIterator[tuple[Harness, Acquirer]]:
    name = f"billing_pay_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    clock_file = tmp_path / "clock"
    settings = settings_for(
        url,
        clock_file=str(clock_file),
        payment_provider_target=acquirer[1],
        payment_provider_timeout_seconds=2.0,
        payment_retry_seconds=0.01,
    )
    billing = build(settings, jwks=ring.fetch)
    await billing.runtime.migrate()
    try:
        yield Harness(billing, clock_file), acquirer[0]
    finally:
        await billing.runtime.shutdown()
        if request.param == "postgresql":
            await drop_postgres_database(name)


async def pay(payments: Payments, account: LedgerAccount, amount: int, key: str, card: str = "tok_visa") -> Any:
    return await payments.pay(account=account, user_id="u1", amount=amount, currency="RUB", card_token=card, key=key)


async def test_a_top_up_is_credited_once_and_a_retry_answers_it(paying: tuple[Harness, Acquirer]) -> None:
    harness, acquirer = paying
    payments = harness.billing.payments
    account = await harness.personal()
    payment, replayed = await pay(payments, account, 150_000, "key-1")
    assert (payment.state, payment.kind, replayed) == ("credited", "card", False)
    assert payment.entry_id and payment.credited_at is not None
    assert (await harness.account(account.id)).balance == 150_000
    again, replayed = await pay(payments, account, 150_000, "key-1")
    assert (again.id, again.state, replayed) == (payment.id, "credited", True)
    assert (await harness.account(account.id)).balance == 150_000 == acquirer.captured()
    with pytest.raises(InvalidArgument) as reused:
        await pay(payments, account, 1, "key-1")
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    lines, _ = await harness.billing.ledger.postings(account, page_size=10, page_token="", order_by="")
    assert [(line.kind, line.posting.amount) for line in lines] == [("payment", 150_000)]


async def received(harness: Harness) -> list[Any]:
    """The payment.received events in billing's outbox, oldest first."""
    table = BUS.outbox
    async with harness.billing.runtime.db.sessions() as session:
        rows = await session.scalars(
            sa.select(table.c.payload)
            .where(table.c.subject == BillingSubjects.PAYMENT_RECEIVED)
            .order_by(table.c.created_at, table.c.id)
        )
        return [ev.PaymentReceived.FromString(payload) for payload in rows]


async def test_a_credited_payment_writes_its_event_with_the_credit_once(paying: tuple[Harness, Acquirer]) -> None:
    harness, acquirer = paying
    payments = harness.billing.payments
    account = await harness.personal()
    acquirer.declining.add("tok_broke")
    await pay(payments, account, 700, "declined", card="tok_broke")
    acquirer.down = {"Capture"}
    waiting, _ = await pay(payments, account, 300, "waiting")
    assert waiting.state == "pending" and await received(harness) == []  # nothing credited, nothing told

    acquirer.down = set()
    payment, _ = await pay(payments, account, 150_000, "paid")
    await pay(payments, account, 150_000, "paid")  # a retry credits nothing more, and tells nothing more
    harness.move_clock(60)
    await asyncio.gather(payments.settle(waiting.id), payments.settle(waiting.id))
    first, second = await received(harness)
    assert (first.payment_id, first.amount, first.currency, first.kind) == (payment.id, 150_000, "RUB", "card")
    assert (first.customer_id, first.personal_account_id) == (account.customer_id, account.personal_account_id)
    assert first.balance == 150_000 and first.occurred_at.seconds > 0
    assert (second.payment_id, second.amount, second.balance) == (waiting.id, 300, 150_300)


async def test_a_declined_card_credits_nothing(paying: tuple[Harness, Acquirer]) -> None:
    harness, acquirer = paying
    acquirer.declining.add("tok_broke")
    account = await harness.personal()
    payment, _ = await pay(harness.billing.payments, account, 5_000, "key-2", card="tok_broke")
    assert (payment.state, payment.reason, payment.entry_id) == ("declined", "insufficient_funds", None)
    assert (await harness.account(account.id)).balance == 0 and acquirer.captured() == 0


async def test_lost_answers_and_an_outage_end_in_one_credit(paying: tuple[Harness, Acquirer]) -> None:
    harness, acquirer = paying
    payments = harness.billing.payments
    account = await harness.personal()
    # The provider authorises and captures, but its answers are lost: asked again, it answers what it did.
    acquirer.lose_answers = 2
    lost, _ = await pay(payments, account, 1_000, "key-3")
    assert lost.state == "credited" and acquirer.captured() == 1_000

    # Down: the payment waits, pending, until the reconciler finds the provider back.
    acquirer.outage = True
    waiting, _ = await pay(payments, account, 2_000, "key-4")
    assert (waiting.state, waiting.attempts) == ("pending", 1)
    assert (await harness.account(account.id)).balance == 1_000
    acquirer.outage = False
    harness.move_clock(60)
    await asyncio.gather(payments.reconcile_once(), payments.settle(waiting.id), payments.settle(waiting.id))
    assert (await payments.get(account.personal_account_id, waiting.id)).state == "credited"
    assert await payments.reconcile_once() == 0
    assert (await harness.account(account.id)).balance == 3_000 == acquirer.captured()


async def test_a_payment_the_provider_never_settles_fails_and_its_authorisation_is_released(
    paying: tuple[Harness, Acquirer],
) -> None:
    harness, acquirer = paying
    payments = harness.billing.payments
    account = await harness.personal()
    acquirer.down = {"Capture"}  # authorised, then the provider stops answering captures
    stuck, _ = await pay(payments, account, 900, "key-6")
    assert (stuck.state, stuck.provider_step) == ("pending", "authorized")
    harness.move_clock(3600)
    assert (await payments.settle(stuck.id)).state == "pending"  # still trying within the day
    harness.move_clock(25 * 3600)
    failed = await payments.settle(stuck.id)
    assert (failed.state, failed.reason) == ("failed", "the payment provider did not answer in time")
    assert acquirer.payments[stuck.id].state == pb.PAYMENT_STATE_VOIDED  # the hold on the card is released
    assert (await harness.account(account.id)).balance == 0 and acquirer.captured() == 0
    assert (await payments.settle(stuck.id)).state == "failed"  # ended: nothing more is asked
    assert acquirer.calls.count("Capture") >= 2 and "Void" in acquirer.calls


async def test_an_automatic_payment_tops_up_below_its_threshold_within_its_daily_limit(
    paying: tuple[Harness, Acquirer],
) -> None:
    harness, _acquirer = paying
    payments = harness.billing.payments
    account = await harness.personal("postpaid", 100_000)
    rule = await payments.set_auto_payment(
        account=account,
        threshold=1_000,
        amount=5_000,
        currency="RUB",
        card_token="tok_auto",
        daily_limit=2,
        set_by="u1",
    )
    assert (rule.threshold, rule.amount, rule.daily_limit) == (1_000, 5_000, 2)
    assert await payments.auto_pay_once() == 1  # 0 < 1,000
    assert (await harness.account(account.id)).balance == 5_000
    assert await payments.auto_pay_once() == 0  # above the threshold now
    clearing = await harness.operator_account("payments_clearing")
    for n in range(3):  # spent below the threshold again, three times in a day: paid twice
        await harness.move(f"spend-{n}", account.id, clearing.id, 5_000)
        await payments.auto_pay_once()
    made, _ = await payments.list(
        account.personal_account_id, PaymentFilter(kinds=["automatic"]), page_size=10, page_token=""
    )
    assert [p.state for p in made] == ["credited", "credited"]
    assert all(p.requested_by == "" for p in made)
    await payments.delete_auto_payment(account.personal_account_id)
    assert await payments.auto_payment(account.personal_account_id) is None


async def test_bad_payments_are_refused_by_field_and_change_nothing(paying: tuple[Harness, Acquirer]) -> None:
    harness, acquirer = paying
    account = await harness.personal()
    for amount, currency, card, field_name in (
        (0, "RUB", "tok", "amount"),
        (-5, "RUB", "tok", "amount"),
        (10**9, "RUB", "tok", "amount"),
        (100, "USD", "tok", "currency"),
        (100, "rub", "tok", "currency"),
        (100, "RUB", "4111 1111 1111 1111", "card_token"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            await harness.billing.payments.pay(
                account=account, user_id="u", amount=amount, currency=currency, card_token=card, key=""
            )
        assert field_name in refused.value.field_violations
    assert acquirer.calls == [] and (await harness.account(account.id)).balance == 0
    listed, _ = await harness.billing.payments.list(
        account.personal_account_id, PaymentFilter(), page_size=10, page_token=""
    )
    assert listed == []


async def test_a_payment_the_operator_posts_is_told_as_card_payments_are(harness: Harness) -> None:
    ledger = harness.billing.ledger
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    first, second = await harness.personal(), await harness.personal()
    # A bank transfer booked by the operator (admin PostEntry), paying two personal accounts in one entry.
    booked = NewEntry(
        id="payment:bank-2026-12-07-1",
        kind="payment",
        currency="RUB",
        legs=(Leg(clearing.id, DEBIT, 7_500), Leg(first.id, CREDIT, 5_000), Leg(second.id, CREDIT, 2_500)),
        description="bank transfer",
    )
    await ledger.post(booked)
    told = {e.personal_account_id: e for e in await received(harness)}
    assert {node: (e.amount, e.balance, e.currency, e.kind) for node, e in told.items()} == {
        first.personal_account_id: (5_000, 5_000, "RUB", "booked"),
        second.personal_account_id: (2_500, 2_500, "RUB", "booked"),
    }
    assert {(e.customer_id, e.payment_id) for e in told.values()} == {(harness.customer_id, booked.id)}
    assert all(e.occurred_at.seconds for e in told.values())

    assert (await ledger.post(booked)).replayed  # the same entry again: told once
    await harness.move("transfer-1", clearing.id, first.id, 100)  # not a payment
    refund = NewEntry(
        id="payment:refund-1",
        kind="payment",
        currency="RUB",
        legs=(Leg(first.id, DEBIT, 50), Leg(clearing.id, CREDIT, 50)),
    )
    await ledger.post(refund)  # money out of a personal account is no payment received
    assert len(await received(harness)) == 2

    # A pending payment is told when it is posted, never when it is reserved or voided.
    for entry_id in ("payment:pending-posted", "payment:pending-voided"):
        await ledger.post(
            NewEntry(
                id=entry_id,
                kind="payment",
                currency="RUB",
                legs=(Leg(clearing.id, DEBIT, 1_000), Leg(second.id, CREDIT, 1_000)),
                pending=True,
            )
        )
    await ledger.void_pending("payment:pending-voided")
    assert len(await received(harness)) == 2
    await ledger.post_pending("payment:pending-posted")
    *_, last = await received(harness)
    assert (last.payment_id, last.personal_account_id, last.amount, last.balance) == (
        "payment:pending-posted",
        second.personal_account_id,
        1_000,
        3_500,
    )
    assert len(await received(harness)) == 3
