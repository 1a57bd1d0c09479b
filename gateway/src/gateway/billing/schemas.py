"""Bodies of /v1/personal-accounts/{id}/...: a personal account's money as frontends see it (BI-1, BI-13, SIM-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StringConstraints

from gateway.billing.money import MoneyResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import ledger_pb2 as pb

SettlementMethodName = Literal["prepaid", "postpaid", "credit"]
_METHODS: dict[int, SettlementMethodName] = {
    pb.SETTLEMENT_METHOD_PREPAID: "prepaid",
    pb.SETTLEMENT_METHOD_POSTPAID: "postpaid",
    pb.SETTLEMENT_METHOD_CREDIT: "credit",
}

_MONEY: dict[str, JsonValue] = {"amount": 123450, "currency": "RUB", "exponent": 2, "formatted": "RUB1,234.50"}
_BALANCE_EXAMPLE: dict[str, JsonValue] = {
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "currency": "RUB",
    "balance": _MONEY,
    "reserved": {"amount": 0, "currency": "RUB", "exponent": 2, "formatted": "RUB0.00"},
    "available": _MONEY,
    "floor": {"amount": 0, "currency": "RUB", "exponent": 2, "formatted": "RUB0.00"},
    "settlement_method": "prepaid",
    "credit_limit": {"amount": 0, "currency": "RUB", "exponent": 2, "formatted": "RUB0.00"},
    "bill_email": "accounts@demo.example",
    "scheduled_change": None,
    "updated_at": "2026-12-06T10:00:00Z",
}


def _money(message: pb.Money, locale: str) -> MoneyResponse:
    return MoneyResponse.from_proto(message, locale)


class ScheduledChange(BaseModel):
    """A change of settlement method waiting for its date."""

    settlement_method: SettlementMethodName
    credit_limit: MoneyResponse
    effective_at: datetime | None


class BalanceResponse(BaseModel):
    """A personal account's money: its balance, what pending payments hold, and how far it may go."""

    model_config = ConfigDict(json_schema_extra={"examples": [_BALANCE_EXAMPLE]})

    personal_account_id: str
    currency: str = Field(description="ISO 4217")
    balance: MoneyResponse = Field(description="the sum of everything posted; negative is a debt")
    reserved: MoneyResponse = Field(description="held by payments and charges not yet posted")
    available: MoneyResponse | None = Field(description="what charges may still take: balance - reserved - floor")
    floor: MoneyResponse | None = Field(description="the lowest the balance may go: 0 prepaid, -credit limit otherwise")
    settlement_method: SettlementMethodName
    credit_limit: MoneyResponse
    bill_email: str | None = Field(description="where bills are emailed")
    scheduled_change: ScheduledChange | None = Field(description="a settlement change waiting for its date")
    updated_at: datetime | None

    @classmethod
    def from_proto(cls, account: pb.LedgerAccount, locale: str) -> BalanceResponse:
        change = account.scheduled_change if account.HasField("scheduled_change") else None
        return cls(
            personal_account_id=account.personal_account_id,
            currency=account.currency,
            balance=_money(account.balance, locale),
            reserved=_money(account.debits_pending, locale),
            available=_money(account.available, locale) if account.HasField("available") else None,
            floor=_money(account.floor, locale) if account.HasField("floor") else None,
            settlement_method=_METHODS.get(account.settlement_method, "prepaid"),
            credit_limit=_money(account.credit_limit, locale),
            bill_email=account.bill_email or None,
            scheduled_change=ScheduledChange(
                settlement_method=_METHODS.get(change.method, "prepaid"),
                credit_limit=_money(change.credit_limit, locale),
                effective_at=optional_timestamp(change, "effective_at"),
            )
            if change is not None
            else None,
            updated_at=optional_timestamp(account, "updated_at"),
        )


class PostingResponse(BaseModel):
    """One movement of the account's money, as its statement lists it."""

    entry_id: str = Field(description="the movement's cause: a usage record, a payment, a transfer...")
    kind: str = Field(description="usage, payment, transfer, fee...", examples=["payment"])
    description: str
    amount: MoneyResponse = Field(description="positive: money in; negative: money out")
    balance_after: MoneyResponse
    sequence: int = Field(description="the account's own count: 1 for its first movement")
    posted_at: datetime | None

    @classmethod
    def from_proto(cls, posting: pb.Posting, locale: str) -> PostingResponse:
        return cls(
            entry_id=posting.entry_id,
            kind=posting.kind,
            description=posting.description,
            amount=_money(posting.amount, locale),
            balance_after=_money(posting.balance_after, locale),
            sequence=posting.sequence,
            posted_at=optional_timestamp(posting, "posted_at"),
        )


_POSTING_EXAMPLE: dict[str, JsonValue] = {
    "entry_id": "payment:01JA2C3D4E5F6G7H8J9K0M1N2P",
    "kind": "payment",
    "description": "top-up by card",
    "amount": _MONEY,
    "balance_after": _MONEY,
    "sequence": 1,
    "posted_at": "2026-12-06T10:00:00Z",
}


class PostingsPage(BaseModel):
    """A page of an account's movements."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_POSTING_EXAMPLE], "next_cursor": "eyJrIjpbMV19"}]}
    )

    items: list[PostingResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class BillDeliveryRequest(BaseModel):
    """Where the personal account's bills are emailed; null stops emailing them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"email": "accounts@demo.example"}]})

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] | None


class TransferRequest(BaseModel):
    """Money to move from this personal account to another of the customer's (BI-11)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "to_personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
                    "amount": 150000,
                    "currency": "RUB",
                    "description": "to the Kazan branch",
                }
            ]
        },
    )

    to_personal_account_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="the personal account that receives the money (in the caller's scope, billing:pay there too)"
    )
    amount: StrictInt = Field(gt=0, le=10**15, description="in minor units of the currency (a JSON integer)")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = Field(
        description="ISO 4217: the currency both accounts hold", examples=["RUB"]
    )
    description: Annotated[str, StringConstraints(max_length=200)] = Field(
        "", description="for both accounts' statements"
    )

    def to_proto(self, from_account: str, idempotency_key: str | None) -> pb.TransferRequest:
        return pb.TransferRequest(
            from_personal_account_id=from_account,
            to_personal_account_id=self.to_personal_account_id,
            amount=self.amount,
            currency=self.currency,
            description=self.description,
            idempotency_key=idempotency_key or "",
        )


_TRANSFER_EXAMPLE: dict[str, JsonValue] = {
    "id": "transfer:5f1c0b7e9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d",
    "from": _BALANCE_EXAMPLE,
    "to": _BALANCE_EXAMPLE,
    "amount": _MONEY,
    "description": "to the Kazan branch",
    "posted_at": "2026-12-06T10:00:00Z",
}


class TransferResponse(BaseModel):
    """A transfer made: both accounts as it left them."""

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [_TRANSFER_EXAMPLE]})

    id: str = Field(description="the transfer's id (its entry in both accounts' movements)")
    from_: BalanceResponse = Field(alias="from", serialization_alias="from")
    to: BalanceResponse
    amount: MoneyResponse
    description: str
    posted_at: datetime | None

    @classmethod
    def from_proto(cls, answer: pb.TransferResponse, locale: str) -> TransferResponse:
        return cls(
            id=answer.entry_id,
            from_=BalanceResponse.from_proto(answer.from_account, locale),
            to=BalanceResponse.from_proto(answer.to_account, locale),
            amount=_money(answer.amount, locale),
            description=answer.description,
            posted_at=optional_timestamp(answer, "posted_at"),
        )
