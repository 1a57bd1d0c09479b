"""Ledger invariants under any sequence of operations (Hypothesis).

Whatever entries, pending entries, posts, voids and replays come, in any
order: every entry's legs sum to 0, every balance is the sum of its account's
posted postings, the reservations are the sum of the pending legs, no account
with a floor has ``balance - debits_pending`` below it, and the ledger agrees
with a plain model of it on what was taken and what was refused.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.ledger.models import (
    ACCOUNTS,
    ENTRIES,
    PAYMENTS_CLEARING,
    PENDING,
    POSTED,
    POSTINGS,
    REVENUE,
    VOIDED,
    LedgerAccount,
)
from billing.ledger.service import CREDIT, DEBIT, Leg, NewEntry, Recorded
from simfleet_runtime.errors import DomainError
from simfleet_runtime.ids import new_id

from .conftest import Harness  # type: ignore[import-not-found]

Post = tuple[str, int, int, int, bool]
Resolve = tuple[str, int, bool]
Replay = tuple[str, int]

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 4), st.integers(0, 4), st.integers(1, 3_000), st.booleans()),
        st.tuples(st.just("resolve"), st.integers(0, 24), st.booleans()),
        st.tuples(st.just("replay"), st.integers(0, 24)),
    ),
    max_size=30,
)


@dataclass
class Model:
    """The ledger as a few integers: what it must say after each operation."""

    floors: list[int | None]
    balance: list[int] = field(default_factory=lambda: [0] * 5)
    debits_pending: list[int] = field(default_factory=lambda: [0] * 5)
    credits_pending: list[int] = field(default_factory=lambda: [0] * 5)
    entries: list[tuple[str, int, int, int, str, bool]] = field(default_factory=list)
    """(id, debit account, credit account, amount, state, two-phase) of the entries taken."""

    def takes(self, debit: int, amount: int) -> bool:
        floor = self.floors[debit]
        return floor is None or self.balance[debit] - self.debits_pending[debit] - amount >= floor


def entry(entry_id: str, debit: LedgerAccount, credit: LedgerAccount, amount: int, pending: bool) -> NewEntry:
    return NewEntry(
        id=entry_id,
        kind="usage",
        currency="RUB",
        legs=(Leg(debit.id, DEBIT, amount), Leg(credit.id, CREDIT, amount)),
        pending=pending,
    )


async def attempt(call: Awaitable[Recorded]) -> Recorded | str:
    """What the ledger answered: the entry, or the reason it refused."""
    try:
        return await call
    except DomainError as refused:
        return refused.reason


async def _accounts(harness: Harness) -> list[LedgerAccount]:
    return [
        await harness.operator_account(PAYMENTS_CLEARING),
        await harness.operator_account(REVENUE),
        await harness.personal(),
        await harness.personal("postpaid", 2_000),
        await harness.personal("credit", 500),
    ]


async def _check_invariants(harness: Harness, accounts: list[LedgerAccount], model: Model) -> None:
    async with harness.db.sessions() as session:
        unbalanced = await session.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(POSTINGS.c.entry_id)
                .group_by(POSTINGS.c.entry_id)
                .having(sa.func.sum(POSTINGS.c.amount) != 0)
                .subquery()
            )
        )
        assert unbalanced == 0
        total = await session.scalar(sa.select(sa.func.sum(ACCOUNTS.c.balance)).where(ACCOUNTS.c.currency == "RUB"))
        assert total == 0
        sums = await session.execute(
            sa.select(POSTINGS.c.account_id, sa.func.sum(POSTINGS.c.amount))
            .where(POSTINGS.c.sequence.is_not(None))
            .group_by(POSTINGS.c.account_id)
        )
        posted = {row[0]: row[1] for row in sums}
        pending_legs = await session.execute(
            sa.select(POSTINGS.c.account_id, POSTINGS.c.amount)
            .join(ENTRIES, ENTRIES.c.id == POSTINGS.c.entry_id)
            .where(ENTRIES.c.state == PENDING)
        )
        reserved: dict[str, list[int]] = {}
        for account_id, amount in pending_legs:
            debits_credits = reserved.setdefault(account_id, [0, 0])
            debits_credits[0 if amount < 0 else 1] += abs(amount)
        rows = (await session.execute(sa.select(ACCOUNTS))).all()
    by_id = {row.id: row for row in rows}
    for row in rows:
        assert row.balance == posted.get(row.id, 0)
        assert [row.debits_pending, row.credits_pending] == reserved.get(row.id, [0, 0])
        if row.floor is not None:
            assert row.balance - row.debits_pending >= row.floor
    for i, account in enumerate(accounts[2:], start=2):
        row = by_id[account.id]
        assert (row.balance, row.debits_pending, row.credits_pending) == (
            model.balance[i],
            model.debits_pending[i],
            model.credits_pending[i],
        )
        sequences = await _sequences(harness, account.id)
        assert sequences == list(range(1, row.postings_count + 1))


async def _sequences(harness: Harness, account_id: str) -> list[int]:
    async with harness.db.sessions() as session:
        return list(
            await session.scalars(
                sa.select(POSTINGS.c.sequence)
                .where(POSTINGS.c.account_id == account_id, POSTINGS.c.sequence.is_not(None))
                .order_by(POSTINGS.c.sequence)
            )
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
async def test_any_sequence_of_operations_keeps_the_ledger_whole(
    harness: Harness, operations: list[Post | Resolve | Replay]
) -> None:
    accounts = await _accounts(harness)
    model = Model(floors=[a.floor for a in accounts])
    ledger = harness.billing.ledger
    prefix = new_id()
    for n, operation in enumerate(operations):
        if operation[0] == "post":
            _, debit, credit, amount, pending = operation  # type: ignore[misc]
            entry_id = f"{prefix}-{n}"
            outcome = await attempt(ledger.post(entry(entry_id, accounts[debit], accounts[credit], amount, pending)))
            if debit == credit:
                assert outcome == "INVALID_ENTRY"
                continue
            if not model.takes(debit, amount):
                assert outcome == "INSUFFICIENT_FUNDS"
                continue
            assert isinstance(outcome, Recorded) and not outcome.replayed
            if pending:
                model.debits_pending[debit] += amount
                model.credits_pending[credit] += amount
            else:
                model.balance[debit] -= amount
                model.balance[credit] += amount
            model.entries.append((entry_id, debit, credit, amount, PENDING if pending else POSTED, pending))
        elif operation[0] == "resolve" and model.entries:
            _, which, post = operation  # type: ignore[misc]
            i = which % len(model.entries)
            entry_id, debit, credit, amount, state, two_phase = model.entries[i]
            outcome = await attempt(ledger.post_pending(entry_id) if post else ledger.void_pending(entry_id))
            if not two_phase:
                assert outcome == "ENTRY_NOT_PENDING"
            elif state == PENDING:
                assert isinstance(outcome, Recorded) and not outcome.replayed
                model.debits_pending[debit] -= amount
                model.credits_pending[credit] -= amount
                if post:
                    model.balance[debit] -= amount
                    model.balance[credit] += amount
                model.entries[i] = (entry_id, debit, credit, amount, POSTED if post else VOIDED, two_phase)
            elif (state == POSTED) == post:
                assert isinstance(outcome, Recorded) and outcome.replayed
            else:
                assert outcome == ("ENTRY_POSTED" if state == POSTED else "ENTRY_VOIDED")
        elif operation[0] == "replay" and model.entries:
            _, which = operation  # type: ignore[misc]
            entry_id, debit, credit, amount, state, two_phase = model.entries[which % len(model.entries)]
            again = await attempt(ledger.post(entry(entry_id, accounts[debit], accounts[credit], amount, two_phase)))
            assert isinstance(again, Recorded) and again.replayed and again.entry.state == state
            changed = await attempt(
                ledger.post(entry(entry_id, accounts[debit], accounts[credit], amount + 1, two_phase))
            )
            assert changed == "IDEMPOTENCY_KEY_REUSED"
        await _check_invariants(harness, accounts, model)
