"""Data packages: bought all or nothing and charged once, in scope only, and drawn on by rating before unit prices."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import aiosmtplib
import pytest
import sqlalchemy as sa

from billing.catalogue.packages import GIBIBYTE, OFFERS_BY_CODE
from billing.catalogue.plans import MEBIBYTE
from billing.ledger.models import LedgerAccount
from billing.limits.models import SPEND
from billing.packages.models import PACKAGES, PURCHASES, RECEIPTS
from billing.packages.service import BUY, READ, PurchaseFilter, PurchaseRequest, receipt_text
from simfleet_runtime.auth import Principal
from simfleet_runtime.authz import Access, Grant
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from simfleet_runtime.ids import new_id

from .conftest import Harness  # type: ignore[import-not-found]
from .test_rating import Line, rate, record, stored  # type: ignore[import-not-found]

DATA_1G = OFFERS_BY_CODE["DATA-1G"]
GROUP_50G = OFFERS_BY_CODE["GROUP-50G"]


def access(harness: Harness, node_id: str, *perms: str, customer_id: str = "", user_id: str = "u-1") -> Access:
    principal = Principal(user_id, customer_id or harness.customer_id, "s", "t", 0.0)
    return Access(principal, (Grant(node_id, frozenset(perms or (BUY, READ)), "manager"),))


async def fund(harness: Harness, account: LedgerAccount, amount: int) -> None:
    clearing = await harness.operator_account("payments_clearing")
    await harness.move(f"fund-{new_id()}", clearing.id, account.id, amount)


async def company(harness: Harness) -> None:
    await harness.node(harness.company_id, f"/{harness.company_id}/", kind="company")


async def lines(harness: Harness, account: LedgerAccount, *numbers: str) -> list[Line]:
    await harness.billing.catalogue.seed()
    made = []
    for number in numbers:
        line = Line(harness, account, number)
        await line.change(harness.billing.runtime.clock.now() - timedelta(days=1))
        made.append(line)
    return made


async def count(harness: Harness, table: sa.Table) -> int:
    async with harness.db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_a_purchase_is_charged_once_however_often_it_is_retried(harness: Harness) -> None:
    await company(harness)
    account = await harness.personal()
    await fund(harness, account, 100_000)
    await lines(harness, account, "+79990000001", "+79990000002")
    buyer = access(harness, harness.company_id)
    request = PurchaseRequest("DATA-1G", ["+79990000001", "+79990000002"], receipt_email="Boss@Example.com")

    bought = await harness.billing.packages.purchase(buyer, request, key="k-1")
    assert not bought.replayed
    assert (bought.purchase.amount, bought.purchase.quantity) == (2 * DATA_1G.price, 2)
    assert sorted(p.msisdn for p in bought.packages) == ["+79990000001", "+79990000002"]
    assert all(p.bytes == GIBIBYTE and p.used == 0 for p in bought.packages)
    assert bought.packages[0].expires_at - bought.packages[0].starts_at == timedelta(days=30)
    assert (await harness.account(account.id)).balance == 100_000 - 2 * DATA_1G.price

    again = await harness.billing.packages.purchase(buyer, request, key="k-1")
    assert again.replayed and again.purchase.id == bought.purchase.id
    assert (await harness.account(account.id)).balance == 100_000 - 2 * DATA_1G.price
    assert await count(harness, PACKAGES) == 2
    # The receipt waits for the mail, to the address given.
    async with harness.db.sessions() as session:
        receipt = (await session.execute(sa.select(RECEIPTS))).one()
    assert (receipt.email, receipt.sent_at) == ("boss@example.com", None)

    # The same key for another purchase is refused; a new key buys again.
    with pytest.raises(InvalidArgument) as refused:
        await harness.billing.packages.purchase(buyer, PurchaseRequest("DATA-5G", ["+79990000001"]), key="k-1")
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    await harness.billing.packages.purchase(buyer, PurchaseRequest("DATA-1G", ["+79990000001"]), key="k-2")
    assert (await harness.account(account.id)).balance == 100_000 - 3 * DATA_1G.price

    text = receipt_text(bought.purchase, bought.packages)
    assert bought.purchase.id in text and "+79990000002" in text and "Amount: 300.00 RUB" in text


async def test_insufficient_funds_buys_nothing(harness: Harness) -> None:
    await company(harness)
    rich, poor = await harness.personal(), await harness.personal()
    await fund(harness, rich, 100_000)
    await fund(harness, poor, DATA_1G.price - 1)
    await lines(harness, rich, "+79990000001")
    await lines(harness, poor, "+79990000002")
    buyer = access(harness, harness.company_id)

    with pytest.raises(FailedPrecondition) as refused:
        await harness.billing.packages.purchase(
            buyer, PurchaseRequest("DATA-1G", ["+79990000001", "+79990000002"], receipt_email="a@example.com"), key="k"
        )
    assert refused.value.reason == "INSUFFICIENT_FUNDS"
    assert (await harness.account(rich.id)).balance == 100_000
    assert (await harness.account(poor.id)).balance == DATA_1G.price - 1
    assert [await count(harness, t) for t in (PURCHASES, PACKAGES, RECEIPTS)] == [0, 0, 0]
    # Once the money is there, the same key buys.
    await fund(harness, poor, 1)
    bought = await harness.billing.packages.purchase(
        buyer, PurchaseRequest("DATA-1G", ["+79990000001", "+79990000002"], receipt_email="a@example.com"), key="k"
    )
    assert not bought.replayed and (await harness.account(poor.id)).balance == 0


async def test_lines_out_of_scope_or_unknown_are_not_found_and_nothing_is_bought(harness: Harness) -> None:
    await company(harness)
    mine, other = await harness.personal(), await harness.personal()
    await fund(harness, mine, 100_000)
    await fund(harness, other, 100_000)
    await lines(harness, mine, "+79990000001")
    await lines(harness, other, "+79990000002")
    narrow = access(harness, mine.personal_account_id)
    for numbers in (["+79990000001", "+79990000002"], ["+79990000001", "+79990000009"]):
        with pytest.raises(NotFound) as refused:
            await harness.billing.packages.purchase(narrow, PurchaseRequest("DATA-1G", numbers), key=new_id())
        assert refused.value.reason == "LINE_NOT_FOUND"
    stranger = access(harness, harness.company_id, customer_id=new_id())
    with pytest.raises(NotFound):
        await harness.billing.packages.purchase(stranger, PurchaseRequest("DATA-1G", ["+79990000001"]), key="x")
    reader = access(harness, harness.company_id, READ)
    with pytest.raises(Exception) as denied:
        await harness.billing.packages.purchase(reader, PurchaseRequest("DATA-1G", ["+79990000001"]), key="y")
    assert getattr(denied.value, "reason", "") == "PERMISSION_MISSING"
    assert await count(harness, PURCHASES) == 0
    assert (await harness.account(mine.id)).balance == 100_000

    # The narrow user buys for their own line, and sees only what is theirs.
    await harness.billing.packages.purchase(narrow, PurchaseRequest("DATA-1G", ["+79990000001"]), key="n")
    wide = access(harness, harness.company_id)
    await harness.billing.packages.purchase(wide, PurchaseRequest("DATA-5G", ["+79990000002"]), key="w")
    seen, _ = await harness.billing.packages.history(narrow, PurchaseFilter(), page_size=10, page_token="")
    assert [p.offer_code for p in seen] == ["DATA-1G"]
    every, _ = await harness.billing.packages.history(wide, PurchaseFilter(), page_size=10, page_token="")
    assert sorted(p.offer_code for p in every) == ["DATA-1G", "DATA-5G"]
    by_number, _ = await harness.billing.packages.history(
        wide, PurchaseFilter(msisdn="+79990000002"), page_size=10, page_token=""
    )
    assert [p.offer_code for p in by_number] == ["DATA-5G"]
    with pytest.raises(NotFound):
        await harness.billing.packages.get(narrow, every[0].id if every[0].offer_code == "DATA-5G" else every[1].id)


async def test_bad_requests_are_refused_by_field(harness: Harness) -> None:
    buyer = access(harness, harness.company_id)
    cases = [
        (PurchaseRequest("NOPE", ["+79990000001"]), "UNKNOWN_OFFER"),
        (PurchaseRequest("DATA-1G", []), "INVALID_PURCHASE"),
        (PurchaseRequest("DATA-1G", ["+79990000001"], node_id="n"), "INVALID_PURCHASE"),
        (PurchaseRequest("GROUP-50G", ["+79990000001"]), "INVALID_PURCHASE"),
        (PurchaseRequest("DATA-1G", ["12"]), "INVALID_PHONE"),
        (PurchaseRequest("DATA-1G", ["+79990000001", "+79990000001"]), "DUPLICATE_MSISDN"),
        (PurchaseRequest("DATA-1G", ["+79990000001"], receipt_email="not-an-address"), "INVALID_EMAIL"),
    ]
    for request, reason in cases:
        with pytest.raises(InvalidArgument) as refused:
            await harness.billing.packages.purchase(buyer, request, key="")
        assert refused.value.reason == reason, request


async def test_rating_draws_on_the_allowance_then_packages_then_prices(harness: Harness) -> None:
    await company(harness)
    account = await harness.personal()
    await fund(harness, account, 1_000_000)
    (line,) = await lines(harness, account, "+79990000001")
    line_access = access(harness, harness.company_id)
    await line.change(harness.billing.runtime.clock.now() - timedelta(days=1), tariff="IOT-S")
    await harness.billing.packages.purchase(line_access, PurchaseRequest("DATA-1G", ["+79990000001"]), key="p")
    balance = (await harness.account(account.id)).balance
    at = harness.billing.runtime.clock.now() + timedelta(minutes=1)
    allowance = 500 * MEBIBYTE  # IOT-S's data allowance
    records = [
        record(line.msisdn, "data", allowance - MEBIBYTE, at, rid="d-1"),
        record(line.msisdn, "data", 3 * MEBIBYTE, at + timedelta(seconds=1), rid="d-2"),  # 1 MiB allowance, 2 package
        record(line.msisdn, "data", GIBIBYTE, at + timedelta(seconds=2), rid="d-3"),  # the package's rest, then paid
    ]
    await rate(harness, records)
    rows = await stored(harness)
    assert [(rows[r]["included_units"], rows[r]["package_units"]) for r in ("d-1", "d-2", "d-3")] == [
        (allowance - MEBIBYTE, 0),
        (MEBIBYTE, 2 * MEBIBYTE),
        (0, GIBIBYTE - 2 * MEBIBYTE),
    ]
    assert rows["d-2"]["charged"] == 0 and rows["d-3"]["charged"] > 0
    async with harness.db.sessions() as session:
        used = await session.scalar(sa.select(PACKAGES.c.used))
    assert used == GIBIBYTE
    assert (await harness.account(account.id)).balance < balance


async def test_a_group_package_is_shared_by_the_lines_under_its_node(harness: Harness) -> None:
    await company(harness)
    payer, first, second = await harness.personal(), await harness.personal(), await harness.personal()
    await fund(harness, payer, GROUP_50G.price)
    (one,) = await lines(harness, first, "+79990000001")
    (two,) = await lines(harness, second, "+79990000002")
    buyer = access(harness, harness.company_id)
    with pytest.raises(NotFound):  # the node must be in scope
        await harness.billing.packages.purchase(
            access(harness, first.personal_account_id),
            PurchaseRequest("GROUP-50G", node_id=harness.company_id, personal_account_id=first.personal_account_id),
            key="g0",
        )
    bought = await harness.billing.packages.purchase(
        buyer,
        PurchaseRequest("GROUP-50G", node_id=harness.company_id, personal_account_id=payer.personal_account_id),
        key="g",
    )
    assert bought.purchase.scope == "group" and len(bought.packages) == 1
    assert (await harness.account(payer.id)).balance == 0
    # Both lines (in sub-nodes of the company) draw on the one pool, once their allowances are spent.
    for line in (one, two):
        await line.change(harness.billing.runtime.clock.now() - timedelta(hours=1), tariff="IOT-S")
    at = harness.billing.runtime.clock.now() + timedelta(minutes=1)
    records = [
        record(one.msisdn, "data", 500 * MEBIBYTE + 10, at, rid="g-1"),
        record(two.msisdn, "data", 500 * MEBIBYTE + 20, at, rid="g-2"),
    ]
    await rate(harness, records)
    rows = await stored(harness)
    assert (rows["g-1"]["package_units"], rows["g-2"]["package_units"]) == (10, 20)
    active = await harness.billing.packages.active_for_line(await harness.billing.rater.line(one.line_id))
    assert [(p.scope, p.left) for p in active] == [("group", GROUP_50G.bytes - 30)]


async def test_a_line_package_counts_in_its_lines_spend_once_and_a_group_package_in_none(harness: Harness) -> None:
    await company(harness)
    account = await harness.personal()
    await fund(harness, account, 10 * GROUP_50G.price)
    one, two = await lines(harness, account, "+79990000001", "+79990000002")
    buyer = access(harness, harness.company_id)
    now = harness.billing.runtime.clock.now()
    period = f"{now.year:04d}-{now.month:02d}"

    async def spend() -> dict[str, tuple[str, str, int]]:
        async with harness.db.sessions() as session:
            rows = await session.execute(sa.select(SPEND))
            return {row.line_id: (row.period, row.currency, row.amount) for row in rows}

    request = PurchaseRequest("DATA-1G", ["+79990000001", "+79990000002"])
    await harness.billing.packages.purchase(buyer, request, key="s-1")
    await harness.billing.packages.purchase(buyer, request, key="s-1")  # replayed: counted once
    expected = (period, DATA_1G.currency, DATA_1G.price)
    assert await spend() == {one.line_id: expected, two.line_id: expected}
    await harness.billing.packages.purchase(
        buyer,
        PurchaseRequest("GROUP-50G", node_id=harness.company_id, personal_account_id=account.personal_account_id),
        key="s-2",
    )
    assert await spend() == {one.line_id: expected, two.line_id: expected}  # the group's package: no line's


async def test_receipts_are_emailed_after_the_purchase_and_tried_again_until_taken(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await company(harness)
    account = await harness.personal()
    await fund(harness, account, 100_000)
    await lines(harness, account, "+79990000001", "+79990000002")
    buyer = access(harness, harness.company_id)
    sent: list[EmailMessage] = []
    answers: list[Exception | None] = [OSError("relay down"), aiosmtplib.SMTPResponseException(451, "later"), None]

    async def send(message: EmailMessage, **_: object) -> None:
        answer = answers.pop(0) if answers else None
        if answer is not None:
            raise answer
        sent.append(message)

    monkeypatch.setattr(aiosmtplib, "send", send)
    bought = await harness.billing.packages.purchase(
        buyer, PurchaseRequest("DATA-1G", ["+79990000001"], receipt_email="boss@example.com"), key="r"
    )
    receipts = harness.billing.receipts
    assert await receipts.send_due() == 0  # the relay is down: later
    harness.move_clock(3600)
    assert await receipts.send_due() == 0  # 451: later again
    harness.move_clock(7200)
    assert await receipts.send_due() == 1
    (message,) = sent
    assert message["To"] == "boss@example.com"
    assert bought.purchase.id in message.get_content() and "Amount: 150.00 RUB" in message.get_content()
    harness.move_clock(10_800)
    assert await receipts.send_due() == 0  # sent once

    # A relay that refuses an address for good: given up, the receipt still readable.
    answers[:] = [aiosmtplib.SMTPResponseException(550, "no such mailbox")]
    await harness.billing.packages.purchase(
        buyer, PurchaseRequest("DATA-1G", ["+79990000002"], receipt_email="nobody@example.com"), key="r2"
    )
    assert await receipts.send_due() == 0
    harness.move_clock(20_000)
    assert await receipts.send_due() == 0 and len(sent) == 1
    async with harness.db.sessions() as session:
        given_up = (await session.execute(sa.select(RECEIPTS).where(RECEIPTS.c.email == "nobody@example.com"))).one()
    assert given_up.sent_at is None and "550" in given_up.last_error


async def test_a_line_whose_account_holds_no_money_buys_nothing(harness: Harness) -> None:
    await company(harness)
    node = new_id()
    await harness.node(node, f"/{harness.company_id}/{node}/", kind="department")
    await harness.billing.catalogue.seed()
    line = Line(harness, LedgerAccount(customer_id=harness.customer_id, personal_account_id=node), "+79990000003")
    await line.change(harness.billing.runtime.clock.now() - timedelta(days=1))
    with pytest.raises(FailedPrecondition) as refused:
        await harness.billing.packages.purchase(
            access(harness, harness.company_id), PurchaseRequest("DATA-1G", ["+79990000003"]), key="z"
        )
    assert refused.value.reason == "NO_LEDGER_ACCOUNT"


async def test_forged_ids_name_nothing(harness: Harness) -> None:
    buyer = access(harness, harness.company_id)
    for pid in ("", "pkg:\x00", "x" * 65, "no such"):
        with pytest.raises(NotFound):
            await harness.billing.packages.get(buyer, pid)
    with pytest.raises(NotFound):
        await harness.billing.packages.purchase(
            buyer, PurchaseRequest("GROUP-50G", node_id="bad\x00id", personal_account_id="has space"), key="f"
        )


async def test_a_customer_in_rials_buys_at_the_rial_price_list_and_cannot_mix_currencies(harness: Harness) -> None:
    await company(harness)
    rials = await harness.personal(currency="IRR")
    clearing = await harness.operator_account("payments_clearing", "IRR")
    await harness.move(f"fund-{new_id()}", clearing.id, rials.id, 10_000_000, currency="IRR")
    await lines(harness, rials, "+79990000001")
    buyer = access(harness, harness.company_id)

    bought = await harness.billing.packages.purchase(buyer, PurchaseRequest("DATA-1G", ["+79990000001"]), key="r-1")
    # 150.00 RUB at 500 rials a rouble: 75,000 rials (the rial has no minor unit).
    assert (bought.purchase.currency, bought.purchase.unit_price, bought.purchase.amount) == ("IRR", 75_000, 75_000)
    assert (await harness.account(rials.id)).balance == 10_000_000 - 75_000
    assert "Amount: 75000 IRR" in receipt_text(bought.purchase, bought.packages)

    roubles = await harness.personal()
    await fund(harness, roubles, 100_000)
    await lines(harness, roubles, "+79990000002")
    with pytest.raises(FailedPrecondition) as refused:
        await harness.billing.packages.purchase(
            buyer, PurchaseRequest("DATA-1G", ["+79990000001", "+79990000002"]), key="r-2"
        )
    assert refused.value.reason == "CURRENCY_MISMATCH"
    assert (await harness.account(roubles.id)).balance == 100_000
    assert await count(harness, PURCHASES) == 1
