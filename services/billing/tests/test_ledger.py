"""The ledger's use cases: accounts, entries, the floor, idempotency, pending entries, settlement."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from billing.ledger.models import PAYMENTS_CLEARING, POSTED, REVENUE, VOIDED
from billing.ledger.service import CREDIT, DEBIT, Leg, NewAccount, NewEntry
from billing.settlement.service import Change
from simfleet_runtime.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.ids import new_id

from .conftest import Harness  # type: ignore[import-not-found]


async def refused(call: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_accounts_open_once_per_owner(harness: Harness) -> None:
    prepaid = await harness.personal()
    assert (prepaid.balance, prepaid.floor, prepaid.available, prepaid.settlement_method) == (0, 0, 0, "prepaid")
    again = await harness.billing.ledger.open_account(
        NewAccount(
            kind="personal",
            currency="RUB",
            customer_id=harness.customer_id,
            personal_account_id=prepaid.personal_account_id,
        )
    )
    assert again.id == prepaid.id
    other_currency = await refused(
        harness.billing.ledger.open_account(
            NewAccount(
                kind="personal",
                currency="USD",
                customer_id=harness.customer_id,
                personal_account_id=prepaid.personal_account_id,
            )
        )
    )
    assert isinstance(other_currency, AlreadyExists) and other_currency.reason == "ACCOUNT_EXISTS"

    postpaid = await harness.personal("postpaid", 50_000)
    assert (postpaid.floor, postpaid.available) == (-50_000, 50_000)
    revenue = await harness.operator_account(REVENUE)
    assert revenue.floor is None and revenue.available is None and revenue.settlement_method is None
    assert (await harness.operator_account(REVENUE)).id == revenue.id
    assert (await harness.operator_account(REVENUE, "IRR")).id != revenue.id


async def test_opening_refuses_bad_input_by_field(harness: Harness) -> None:
    ledger = harness.billing.ledger
    unknown = await refused(ledger.open_account(NewAccount(kind="personal", currency="XXX", customer_id="c")))
    assert unknown.reason == "UNKNOWN_CURRENCY" and "currency" in unknown.field_violations
    bad = await refused(
        ledger.open_account(
            NewAccount(kind="personal", currency="RUB", settlement_method="prepaid", credit_limit=-5, bill_email="no")
        )
    )
    assert isinstance(bad, InvalidArgument)
    assert {"customer_id", "personal_account_id", "credit_limit", "bill_email"} <= set(bad.field_violations)
    operator = await refused(ledger.open_account(NewAccount(kind="revenue", currency="RUB", customer_id="c")))
    assert "customer_id" in operator.field_violations
    nowhere = await refused(
        ledger.open_account(
            NewAccount(kind="personal", currency="RUB", customer_id=harness.customer_id, personal_account_id=new_id())
        )
    )
    assert isinstance(nowhere, NotFound) and nowhere.reason == "PERSONAL_ACCOUNT_NOT_FOUND"
    department = new_id()
    await harness.node(department, f"/{harness.company_id}/{department}/", kind="department")
    not_personal = await refused(
        ledger.open_account(
            NewAccount(kind="personal", currency="RUB", customer_id=harness.customer_id, personal_account_id=department)
        )
    )
    assert not_personal.reason == "NOT_A_PERSONAL_ACCOUNT"


async def test_an_entry_moves_balances_and_numbers_the_postings(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    revenue = await harness.operator_account(REVENUE)
    account = await harness.personal()
    top_up = await harness.move("payment:1", clearing.id, account.id, 10_000)
    assert top_up.entry.state == POSTED and top_up.entry.customer_id == harness.customer_id
    charge = await harness.move("usage:1", account.id, revenue.id, 2_550)
    assert not charge.replayed
    assert (await harness.account(account.id)).balance == 7_450
    assert (await harness.account(clearing.id)).balance == -10_000
    assert (await harness.account(revenue.id)).balance == 2_550

    page, token = await harness.billing.ledger.postings(account, page_size=1, page_token="", order_by="")
    assert [(line.posting.sequence, line.posting.amount, line.posting.balance_after) for line in page] == [
        (2, -2_550, 7_450)
    ]
    assert page[0].kind == "transfer"
    rest, end = await harness.billing.ledger.postings(account, page_size=1, page_token=token, order_by="")
    assert [(line.posting.sequence, line.posting.balance_after) for line in rest] == [(1, 10_000)]
    assert end == ""
    forged = await refused(harness.billing.ledger.postings(account, page_size=1, page_token=token, order_by="sequence"))
    assert forged.reason == "INVALID_PAGE_TOKEN"


async def test_an_entry_id_is_used_once(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    account = await harness.personal()
    first = await harness.move("payment:7", clearing.id, account.id, 500)
    again = await harness.move("payment:7", clearing.id, account.id, 500)
    assert again.replayed and again.entry.created_at == first.entry.created_at
    assert (await harness.account(account.id)).balance == 500
    reused = await refused(harness.move("payment:7", clearing.id, account.id, 501))
    assert isinstance(reused, InvalidArgument)
    assert reused.reason == "IDEMPOTENCY_KEY_REUSED" and "entry_id" in reused.field_violations
    assert (await harness.account(account.id)).balance == 500


async def test_bad_entries_are_refused_by_field(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    account = await harness.personal()
    dollars = await harness.personal(currency="USD")
    post = harness.billing.ledger.post

    def entry(*legs: Leg, currency: str = "RUB", entry_id: str = "e-1") -> NewEntry:
        return NewEntry(id=entry_id, kind="adjustment", currency=currency, legs=legs)

    zero = await refused(post(entry(Leg(clearing.id, DEBIT, 0), Leg(account.id, CREDIT, 0))))
    assert zero.reason == "INVALID_AMOUNT" and "legs[0].amount" in zero.field_violations
    negative = await refused(post(entry(Leg(clearing.id, DEBIT, -5), Leg(account.id, CREDIT, -5))))
    assert {"legs[0].amount", "legs[1].amount"} <= set(negative.field_violations)
    unbalanced = await refused(post(entry(Leg(clearing.id, DEBIT, 5), Leg(account.id, CREDIT, 4))))
    assert unbalanced.reason == "UNBALANCED_ENTRY" and "legs" in unbalanced.field_violations
    currency = await refused(post(entry(Leg(clearing.id, DEBIT, 5), Leg(account.id, CREDIT, 5), currency="ZZZ")))
    assert currency.reason == "UNKNOWN_CURRENCY" and "currency" in currency.field_violations
    mixed = await refused(post(entry(Leg(clearing.id, DEBIT, 5), Leg(dollars.id, CREDIT, 5))))
    assert mixed.reason == "CURRENCY_MISMATCH" and "legs[1].account_id" in mixed.field_violations
    missing = await refused(post(entry(Leg(clearing.id, DEBIT, 5), Leg(new_id(), CREDIT, 5))))
    assert missing.reason == "ACCOUNT_NOT_FOUND" and "legs[1].account_id" in missing.field_violations
    twice = await refused(post(entry(Leg(account.id, DEBIT, 5), Leg(account.id, CREDIT, 5))))
    assert "legs[1].account_id" in twice.field_violations
    single = await refused(post(entry(Leg(clearing.id, DEBIT, 5))))
    assert "legs" in single.field_violations
    shape = await refused(
        post(NewEntry(id="no spaces", kind="Not A Kind", currency="RUB", legs=(Leg(clearing.id, "up", 5),)))
    )
    assert {"entry_id", "kind", "legs", "legs[0].side"} <= set(shape.field_violations)
    other = await harness.personal(customer_id=new_id())
    customers = await refused(post(entry(Leg(account.id, DEBIT, 5), Leg(other.id, CREDIT, 5))))
    assert customers.reason == "CUSTOMERS_MIXED"
    # Nothing of it was written: the id is free.
    assert (await harness.move("e-1", clearing.id, account.id, 5)).entry.state == POSTED


async def test_the_floor_holds_and_a_refused_entry_leaves_nothing(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    revenue = await harness.operator_account(REVENUE)
    prepaid = await harness.personal()
    await harness.move("pay-1", clearing.id, prepaid.id, 1_000)
    short = await refused(harness.move("usage-1", prepaid.id, revenue.id, 1_001))
    assert isinstance(short, FailedPrecondition) and short.reason == "INSUFFICIENT_FUNDS"
    assert short.metadata == {"account_id": prepaid.id}
    assert (await harness.account(prepaid.id)).balance == 1_000
    assert (await harness.account(revenue.id)).balance == 0
    await harness.move("usage-1", prepaid.id, revenue.id, 1_000)  # the same id, now within the floor
    assert (await harness.account(prepaid.id)).balance == 0

    postpaid = await harness.personal("postpaid", 3_000)
    await harness.move("usage-2", postpaid.id, revenue.id, 3_000)
    assert (await harness.account(postpaid.id)).balance == -3_000
    assert (await refused(harness.move("usage-3", postpaid.id, revenue.id, 1))).reason == "INSUFFICIENT_FUNDS"


async def test_pending_entries_reserve_then_post_or_void(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    revenue = await harness.operator_account(REVENUE)
    account = await harness.personal()
    await harness.move("pay-1", clearing.id, account.id, 1_000)
    held = await harness.move("hold-1", account.id, revenue.id, 600, pending=True)
    assert held.entry.state == "pending" and held.entry.expires_at is not None
    reserved = await harness.account(account.id)
    assert (reserved.balance, reserved.debits_pending, reserved.available) == (1_000, 600, 400)
    assert (await harness.account(revenue.id)).credits_pending == 600
    # The reservation counts against the floor.
    assert (await refused(harness.move("usage-1", account.id, revenue.id, 401))).reason == "INSUFFICIENT_FUNDS"

    posted = await harness.billing.ledger.post_pending("hold-1")
    assert posted.entry.state == POSTED and posted.entry.two_phase
    after = await harness.account(account.id)
    assert (after.balance, after.debits_pending, after.postings_count) == (400, 0, 2)
    assert (await harness.account(revenue.id)).balance == 600
    assert (await harness.billing.ledger.post_pending("hold-1")).replayed
    assert (await refused(harness.billing.ledger.void_pending("hold-1"))).reason == "ENTRY_POSTED"

    await harness.move("hold-2", account.id, revenue.id, 400, pending=True)
    voided = await harness.billing.ledger.void_pending("hold-2")
    assert voided.entry.state == VOIDED
    released = await harness.account(account.id)
    assert (released.balance, released.debits_pending, released.available) == (400, 0, 400)
    assert (await refused(harness.billing.ledger.post_pending("hold-2"))).reason == "ENTRY_VOIDED"
    assert (await refused(harness.billing.ledger.post_pending("pay-1"))).reason == "ENTRY_NOT_PENDING"
    assert (await refused(harness.billing.ledger.post_pending("nothing"))).reason == "ENTRY_NOT_FOUND"
    # Voided legs never became postings.
    page, _ = await harness.billing.ledger.postings(released, page_size=10, page_token="", order_by="sequence")
    assert [line.posting.entry_id for line in page] == ["pay-1", "hold-1"]


async def test_pending_entries_expire(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    account = await harness.personal()
    await harness.move("pay-1", clearing.id, account.id, 1_000)
    for name in ("hold-a", "hold-b"):
        await harness.billing.ledger.post(
            NewEntry(
                id=name,
                kind="payment",
                currency="RUB",
                legs=(Leg(account.id, DEBIT, 100), Leg(clearing.id, CREDIT, 100)),
                pending=True,
                pending_timeout_seconds=60,
            )
        )
    harness.move_clock(61)
    await asyncio.sleep(0.06)  # the clock re-reads its file at most every 50 ms
    expired = await refused(harness.billing.ledger.post_pending("hold-a"))
    assert expired.reason == "ENTRY_EXPIRED"
    assert (await harness.billing.ledger.entry("hold-a")).entry.state == VOIDED
    assert await harness.billing.sweeper.once() == (0, 1)
    assert (await harness.billing.ledger.entry("hold-b")).entry.state == VOIDED
    assert (await harness.account(account.id)).debits_pending == 0


async def test_settlement_changes_move_the_floor_at_their_date(harness: Harness) -> None:
    clearing = await harness.operator_account(PAYMENTS_CLEARING)
    revenue = await harness.operator_account(REVENUE)
    account = await harness.personal()
    settlement = harness.billing.settlement
    change, now = await settlement.change(Change(account.id, "credit", 2_000, note="credit line"), actor="u1")
    assert change.applied_at is not None and (now.floor, now.settlement_method) == (-2_000, "credit")
    await harness.move("usage-1", account.id, revenue.id, 1_500)

    later = harness.billing.runtime.clock.now() + timedelta(days=3)
    scheduled, still = await settlement.change(Change(account.id, "prepaid", 0, effective_at=later), actor="u1")
    assert scheduled.applied_at is None and still.floor == -2_000
    assert (await settlement.scheduled(account.id)) is not None
    assert await settlement.apply_due() == 0
    harness.move_clock(3 * 86_400 + 1)
    await asyncio.sleep(0.06)
    assert await harness.billing.sweeper.once() == (1, 0)
    turned = await harness.account(account.id)
    assert (turned.settlement_method, turned.floor, turned.credit_limit, turned.balance) == ("prepaid", 0, 0, -1_500)
    # Below its new floor: debits wait, credits are taken.
    assert (await refused(harness.move("usage-2", account.id, revenue.id, 1))).reason == "INSUFFICIENT_FUNDS"
    await harness.move("pay-1", clearing.id, account.id, 1_000)
    assert (await harness.account(account.id)).balance == -500

    history, token = await settlement.history(account.id, page_size=2, page_token="")
    assert [c.method for c in history] == ["prepaid", "credit"] and token
    rest, _ = await settlement.history(account.id, page_size=2, page_token=token)
    assert [(c.method, c.note) for c in rest] == [("prepaid", "opened")]

    bad = await refused(
        settlement.change(
            Change(account.id, "prepaid", 10, effective_at=later + timedelta(days=400), note="\u202e"), actor="u1"
        )
    )
    assert {"credit_limit", "effective_at", "note"} <= set(bad.field_violations)
    assert (await refused(settlement.change(Change(revenue.id, "prepaid"), actor="u1"))).reason == (
        "NOT_A_PERSONAL_ACCOUNT"
    )
    assert (await refused(settlement.change(Change(new_id(), "prepaid"), actor="u1"))).reason == "ACCOUNT_NOT_FOUND"


async def test_the_bill_delivery_address(harness: Harness) -> None:
    account = await harness.personal()
    changed = await harness.billing.settlement.set_bill_email(account.id, " Bills@Example.COM ")
    assert changed.bill_email == "bills@example.com"
    assert (await refused(harness.billing.settlement.set_bill_email(account.id, "not-mail"))).reason == (
        "INVALID_EMAIL"
    )
    assert (await harness.billing.settlement.set_bill_email(account.id, "")).bill_email == ""
