"""Between domain objects and their protobuf form."""

from __future__ import annotations

from billing import money
from billing.ledger import models as m
from billing.ledger.models import JournalEntry, LedgerAccount, Posting
from billing.ledger.service import CREDIT, DEBIT, PostingLine
from billing.settlement.models import SettlementChange
from simfleet.billing.v1 import admin_pb2 as admin
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet_runtime.timestamps import optional_timestamp, timestamp

KINDS: dict[str, int] = {
    m.PERSONAL: pb.ACCOUNT_KIND_PERSONAL,
    m.REVENUE: pb.ACCOUNT_KIND_REVENUE,
    m.PAYMENTS_CLEARING: pb.ACCOUNT_KIND_PAYMENTS_CLEARING,
    m.PROMISED_CREDIT: pb.ACCOUNT_KIND_PROMISED_CREDIT,
}
KIND_NAMES = {value: name for name, value in KINDS.items()}
METHODS: dict[str, int] = {
    m.PREPAID: pb.SETTLEMENT_METHOD_PREPAID,
    m.POSTPAID: pb.SETTLEMENT_METHOD_POSTPAID,
    m.CREDIT: pb.SETTLEMENT_METHOD_CREDIT,
}
METHOD_NAMES = {value: name for name, value in METHODS.items()}
SIDES: dict[str, int] = {DEBIT: admin.SIDE_DEBIT, CREDIT: admin.SIDE_CREDIT}
SIDE_NAMES = {value: name for name, value in SIDES.items()}
STATES: dict[str, int] = {
    m.POSTED: admin.ENTRY_STATE_POSTED,
    m.PENDING: admin.ENTRY_STATE_PENDING,
    m.VOIDED: admin.ENTRY_STATE_VOIDED,
}


def kind(value: int) -> str:
    """The domain's kind; unset or unknown becomes "" (refused by the use case)."""
    return KIND_NAMES.get(value, "")


def method(value: int) -> str:
    """The domain's method; unset becomes "" (the use case's default or refusal)."""
    return METHOD_NAMES.get(value, "")


def side(value: int) -> str:
    return SIDE_NAMES.get(value, "")


def amount(value: int, currency: str) -> pb.Money:
    return pb.Money(amount=value, currency=currency, exponent=money.exponent(currency))


def change(value: SettlementChange, currency: str) -> pb.SettlementChange:
    return pb.SettlementChange(
        id=value.id,
        account_id=value.account_id,
        method=METHODS[value.method],  # type: ignore[arg-type]
        credit_limit=amount(value.credit_limit, currency),
        effective_at=timestamp(value.effective_at),
        requested_at=timestamp(value.requested_at),
        applied_at=optional_timestamp(value.applied_at),
        requested_by=value.requested_by,
        note=value.note,
    )


def account(value: LedgerAccount, scheduled: SettlementChange | None = None) -> pb.LedgerAccount:
    c = value.currency
    available = value.available
    return pb.LedgerAccount(
        id=value.id,
        kind=KINDS[value.kind],  # type: ignore[arg-type]
        customer_id=value.customer_id,
        personal_account_id=value.personal_account_id,
        currency=c,
        balance=amount(value.balance, c),
        debits_pending=amount(value.debits_pending, c),
        credits_pending=amount(value.credits_pending, c),
        available=None if available is None else amount(available, c),
        floor=None if value.floor is None else amount(value.floor, c),
        settlement_method=METHODS.get(value.settlement_method or "", pb.SETTLEMENT_METHOD_UNSPECIFIED),  # type: ignore[arg-type]
        credit_limit=amount(value.credit_limit, c),
        bill_email=value.bill_email,
        created_at=timestamp(value.created_at),
        updated_at=timestamp(value.updated_at),
        scheduled_change=None if scheduled is None else change(scheduled, c),
    )


def entry(value: JournalEntry, legs: list[Posting]) -> admin.JournalEntry:
    return admin.JournalEntry(
        id=value.id,
        kind=value.kind,
        description=value.description,
        customer_id=value.customer_id,
        currency=value.currency,
        legs=[
            admin.EntryLeg(
                account_id=p.account_id,
                side=admin.SIDE_CREDIT if p.amount > 0 else admin.SIDE_DEBIT,
                amount=abs(p.amount),
            )
            for p in legs
        ],
        state=STATES[value.state],  # type: ignore[arg-type]
        two_phase=value.two_phase,
        created_at=timestamp(value.created_at),
        resolved_at=optional_timestamp(value.resolved_at),
        expires_at=optional_timestamp(value.expires_at),
    )


def posting(value: PostingLine) -> pb.Posting:
    p, c = value.posting, value.currency
    assert p.sequence is not None and p.balance_after is not None and p.posted_at is not None
    return pb.Posting(
        entry_id=p.entry_id,
        kind=value.kind,
        description=value.description,
        amount=amount(p.amount, c),
        balance_after=amount(p.balance_after, c),
        sequence=p.sequence,
        posted_at=timestamp(p.posted_at),
    )
