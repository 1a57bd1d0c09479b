"""Between domain objects and their protobuf form."""

from __future__ import annotations

from typing import Any

from billing import money
from billing.catalogue import options, plans
from billing.ledger import models as m
from billing.ledger.models import JournalEntry, LedgerAccount, Posting, available_of
from billing.ledger.service import CREDIT, DEBIT, PostingLine
from billing.payments import models as pay_models
from billing.rating.models import RATED
from billing.rating.service import LineUsage
from billing.settlement.models import SettlementChange
from simfleet.billing.v1 import admin_pb2 as admin
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet.billing.v1 import payments_pb2 as payments_pb
from simfleet.billing.v1 import usage_pb2 as usage
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


def account(value: LedgerAccount | Any, scheduled: SettlementChange | None = None) -> pb.LedgerAccount:
    """A ledger account, stored or read as a row (``LedgerService.personal_account_row``)."""
    c = value.currency
    available = available_of(value)
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


USAGE_KINDS: dict[str, int] = {
    plans.VOICE: usage.USAGE_KIND_VOICE,
    plans.SMS: usage.USAGE_KIND_SMS,
    plans.DATA: usage.USAGE_KIND_DATA,
}


def _money_or_none(value: int, currency: str) -> pb.Money | None:
    """An amount in a known currency; none for a record rejected before its currency was known."""
    return amount(value, currency) if currency in money.EXPONENTS else None


def rated_usage(row: Any) -> usage.RatedUsage:
    """A row of ``usage_records`` as the API shows it."""
    return usage.RatedUsage(
        record_id=row.record_id,
        kind=USAGE_KINDS.get(row.kind, usage.USAGE_KIND_UNSPECIFIED),  # type: ignore[arg-type]
        zone=row.zone,
        roaming_country=row.roaming_country,
        destination=row.destination,
        started_at=timestamp(row.started_at),
        quantity=row.quantity,
        units=row.units,
        included_units=row.included_units,
        package_units=getattr(row, "package_units", 0) or 0,
        charged=_money_or_none(row.charged, row.currency),
        outcome=usage.RATING_OUTCOME_RATED if row.outcome == RATED else usage.RATING_OUTCOME_REJECTED,
        reason=row.reason,
        tariff_code=row.tariff_code,
        rated_at=timestamp(row.rated_at),
    )


def line_usage(value: LineUsage, account_pb: pb.LedgerAccount | None) -> usage.GetLineUsageResponse:
    currency = value.currency
    return usage.GetLineUsageResponse(
        line_id=value.line.line_id,
        msisdn=value.line.msisdn,
        personal_account_id=value.line.personal_account_id,
        tariff_code=value.line.tariff_code,
        period=value.period,
        period_start=timestamp(value.period_start),
        period_end=timestamp(value.period_end),
        account=account_pb,
        totals=[
            usage.UsageTotal(
                kind=USAGE_KINDS[t.kind],  # type: ignore[arg-type]
                records=t.records,
                quantity=t.quantity,
                units=t.units,
                included_units=t.included_units,
                charged=amount(t.charged, currency),
            )
            for t in value.totals
        ],
        allowances=[
            usage.AllowanceLeft(
                kind=USAGE_KINDS[a.kind],  # type: ignore[arg-type]
                unit=a.unit,
                included=a.included,
                used=a.used,
                remaining=a.remaining,
            )
            for a in value.allowances
        ],
        last_records=[rated_usage(row) for row in value.last_records],
        charged=amount(sum(t.charged for t in value.totals), currency),
    )


def tariff(value: plans.Tariff) -> usage.Tariff:
    currency = value.currency
    rules = options.options_of(value.code)
    home = [
        usage.UnitPrice(kind=USAGE_KINDS[kind], zone=zone, price=amount(p, currency))  # type: ignore[arg-type]
        for kind, zones in value.home.items()
        for zone, p in zones.items()
    ]
    roaming = [
        usage.UnitPrice(kind=USAGE_KINDS[kind], zone=group, price=amount(p, currency))  # type: ignore[arg-type]
        for group, prices in value.roaming.items()
        for kind, p in prices.items()
    ]
    return usage.Tariff(
        code=value.code,
        name=value.name,
        version=value.version,
        effective_from=timestamp(value.effective_from),
        monthly_fee=amount(value.monthly_fee, currency),
        allowances=[
            usage.AllowanceLeft(
                kind=USAGE_KINDS[kind],  # type: ignore[arg-type]
                unit=plans.UNITS[kind],
                included=value.allowances.get(kind, 0),
                remaining=value.allowances.get(kind, 0),
            )
            for kind in plans.KINDS
        ],
        home_prices=home,
        roaming_prices=roaming,
        allowed_options=[code for code in options.OPTION_CODES if code in rules.allowed],
        included_options=[code for code in options.OPTION_CODES if code in rules.included],
    )


PAYMENT_STATES: dict[str, int] = {
    pay_models.PENDING: payments_pb.PAYMENT_STATE_PENDING,
    pay_models.CREDITED: payments_pb.PAYMENT_STATE_CREDITED,
    pay_models.DECLINED: payments_pb.PAYMENT_STATE_DECLINED,
    pay_models.FAILED: payments_pb.PAYMENT_STATE_FAILED,
}
PAYMENT_STATE_NAMES = {value: name for name, value in PAYMENT_STATES.items()}
PAYMENT_KINDS: dict[str, int] = {
    pay_models.CARD: payments_pb.PAYMENT_KIND_CARD,
    pay_models.AUTOMATIC: payments_pb.PAYMENT_KIND_AUTOMATIC,
}
PAYMENT_KIND_NAMES = {value: name for name, value in PAYMENT_KINDS.items()}


def payment(value: pay_models.Payment) -> payments_pb.Payment:
    return payments_pb.Payment(
        id=value.id,
        personal_account_id=value.personal_account_id,
        kind=PAYMENT_KINDS[value.kind],  # type: ignore[arg-type]
        state=PAYMENT_STATES[value.state],  # type: ignore[arg-type]
        amount=amount(value.amount, value.currency),
        card_token=value.card_token,
        reason=value.reason,
        requested_by=value.requested_by,
        entry_id=value.entry_id or "",
        created_at=timestamp(value.created_at),
        updated_at=timestamp(value.updated_at),
        credited_at=optional_timestamp(value.credited_at),
    )


def auto_payment(value: pay_models.AutoPayment) -> payments_pb.AutoPayment:
    return payments_pb.AutoPayment(
        personal_account_id=value.personal_account_id,
        threshold=amount(value.threshold, value.currency),
        amount=amount(value.amount, value.currency),
        card_token=value.card_token,
        daily_limit=value.daily_limit,
        set_by=value.set_by,
        updated_at=timestamp(value.updated_at),
        last_paid_at=optional_timestamp(value.last_paid_at),
    )
