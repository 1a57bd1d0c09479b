"""Money per period (AC-2, BI-1): statements of personal accounts and the totals of a node, from the postings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing.ledger.models import PAYMENTS_CLEARING, PROMISED_CREDIT, REVENUE
from billing.ledger.service import CREDIT, DEBIT, Leg, NewEntry
from billing.statements.service import Figures, period_of
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.ids import new_id

from .conftest import Harness  # type: ignore[import-not-found]

DAY = 86_400


def test_a_period_is_a_utc_month_up_to_the_current_one() -> None:
    now = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    this = period_of("", now)
    assert (this.name, this.start, this.end, this.open) == (
        "2026-12",
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
        True,
    )
    february = period_of("2026-02", now)
    assert (february.start, february.end, february.open) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        False,
    )
    assert period_of("2026-12", now) == this
    for bad in ("2027-01", "2026-13", "2026-00", "1999-12", "2026-1", "december", "2026-12-01"):
        with pytest.raises(InvalidArgument) as refused:
            period_of(bad, now)
        assert refused.value.reason == "INVALID_PERIOD" and "period" in refused.value.field_violations


async def _post(harness: Harness, kind: str, debit: str, credit: str, amount: int, currency: str = "RUB") -> None:
    await harness.billing.ledger.post(
        NewEntry(
            id=f"{kind}:{new_id()}",
            kind=kind,
            currency=currency,
            legs=(Leg(debit, DEBIT, amount), Leg(credit, CREDIT, amount)),
        )
    )


async def test_a_statement_splits_the_change_of_the_balance_by_what_moved_it(harness: Harness) -> None:
    revenue = (await harness.operator_account(REVENUE)).id
    clearing = (await harness.operator_account(PAYMENTS_CLEARING)).id
    promised = (await harness.operator_account(PROMISED_CREDIT)).id
    a = await harness.personal()
    b = await harness.personal()
    statements = harness.billing.statements
    # An earlier month, then this one.
    harness.move_clock(-32 * DAY)
    last = statements.period("")
    await _post(harness, "payment", clearing, a.id, 10_000)
    await _post(harness, "usage", a.id, revenue, 3_000)
    harness.move_clock(0)
    this = statements.period("")
    assert last.end <= this.start
    await _post(harness, "promised_payment", promised, a.id, 500)
    await _post(harness, "fee", a.id, revenue, 1_200)
    await _post(harness, "transfer", a.id, b.id, 2_000)
    await _post(harness, "promised_payment", a.id, promised, 500)

    before = (await statements.of_accounts([(a.id, "RUB")], last))[a.id]
    assert before.opening_balance == 0 and before.closing_balance == 7_000
    assert before.movements == {
        "charges": 3_000,
        "payments": 10_000,
        "transfers_in": 0,
        "other_credits": 0,
        "transfers_out": 0,
        "other_debits": 0,
    }
    assert before.postings_count == 2

    now = await statements.of_accounts([(a.id, "RUB"), (b.id, "RUB")], this)
    assert now[a.id].opening_balance == before.closing_balance
    assert now[a.id].movements == {
        "charges": 1_200,
        "payments": 0,
        "transfers_in": 0,
        "other_credits": 500,
        "transfers_out": 2_000,
        "other_debits": 500,
    }
    balances = await harness.billing.ledger.balances([a.id, b.id])
    assert now[a.id].closing_balance == balances[a.id] == 3_800
    assert now[b.id].movements["transfers_in"] == 2_000 and now[b.id].closing_balance == balances[b.id]

    # A month before anything: nothing moved, nothing opened.
    earlier = statements.period(f"{last.start.year - 1}-{last.start.month:02d}")
    empty = (await statements.of_accounts([(a.id, "RUB")], earlier))[a.id]
    assert (empty.opening_balance, empty.closing_balance, empty.postings_count) == (0, 0, 0)


async def test_a_nodes_finances_sum_its_personal_accounts_per_currency(harness: Harness) -> None:
    revenue = (await harness.operator_account(REVENUE)).id
    clearing = (await harness.operator_account(PAYMENTS_CLEARING)).id
    clearing_irr = (await harness.operator_account(PAYMENTS_CLEARING, "IRR")).id
    await harness.node(harness.company_id, f"/{harness.company_id}/", kind="company")
    a = await harness.personal()
    b = await harness.personal()
    rials = await harness.personal(currency="IRR")
    other = await harness.personal(customer_id=new_id())
    await _post(harness, "payment", clearing, a.id, 5_000)
    await _post(harness, "payment", clearing, b.id, 700)
    await _post(harness, "usage", b.id, revenue, 200)
    await _post(harness, "payment", clearing_irr, rials.id, 1_000_000, "IRR")
    await _post(harness, "payment", clearing, other.id, 9_999)
    statements = harness.billing.statements
    period = statements.period("")

    totals = await statements.of_node(harness.customer_id, harness.company_id, period)
    assert [t.currency for t in totals] == ["IRR", "RUB"]
    irr, rub = totals
    assert (irr.personal_accounts, irr.movements["payments"], irr.closing_balance) == (1, 1_000_000, 1_000_000)
    assert (rub.personal_accounts, rub.movements["payments"], rub.movements["charges"]) == (2, 5_700, 200)
    assert rub.closing_balance == 5_500
    # One account's node: its figures alone.
    only_b = await statements.of_node(harness.customer_id, b.personal_account_id, period)
    assert [(t.currency, t.personal_accounts, t.closing_balance) for t in only_b] == [("RUB", 1, 500)]
    # Another customer's node, or none: nothing.
    assert await statements.of_node(harness.customer_id, other.personal_account_id, period) == []
    assert await statements.of_node(harness.customer_id, new_id(), period) == []


def test_figures_add_up() -> None:
    total = Figures("RUB")
    one = Figures("RUB", opening_balance=100, personal_accounts=1, postings_count=2)
    one.movements["charges"] = 30
    one.movements["payments"] = 50
    total.add(one)
    total.add(one)
    assert (total.opening_balance, total.closing_balance, total.personal_accounts, total.postings_count) == (
        200,
        240,
        2,
        4,
    )
