"""Bodies of /v1/personal-accounts/{id}/payments and /auto-payment: top-ups and automatic payments (BI-14)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StringConstraints

from gateway.billing.money import MoneyResponse
from gateway.billing.schemas import _BALANCE_EXAMPLE, BalanceResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import payments_pb2 as pb

PaymentStateName = Literal["pending", "credited", "declined", "failed"]
PaymentKindName = Literal["card", "automatic"]
STATES: dict[PaymentStateName, int] = {
    "pending": pb.PAYMENT_STATE_PENDING,
    "credited": pb.PAYMENT_STATE_CREDITED,
    "declined": pb.PAYMENT_STATE_DECLINED,
    "failed": pb.PAYMENT_STATE_FAILED,
}
KINDS: dict[PaymentKindName, int] = {"card": pb.PAYMENT_KIND_CARD, "automatic": pb.PAYMENT_KIND_AUTOMATIC}
_STATE_NAMES = {v: k for k, v in STATES.items()}
_KIND_NAMES = {v: k for k, v in KINDS.items()}
CardToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

_MONEY: dict[str, JsonValue] = {"amount": 150000, "currency": "RUB", "exponent": 2, "formatted": "RUB1,500.00"}
_PAYMENT_EXAMPLE: dict[str, JsonValue] = {
    "id": "pay:5f1c0b7e9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d",
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "kind": "card",
    "state": "credited",
    "amount": _MONEY,
    "card_token": "tok_visa_4242",
    "reason": None,
    "requested_by": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
    "entry_id": "payment:5f1c0b7e9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d",
    "created_at": "2026-12-07T10:00:00Z",
    "credited_at": "2026-12-07T10:00:01Z",
}


class PaymentResponse(BaseModel):
    """A payment onto the account: pending (the provider has not settled it yet), credited, declined or failed."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PAYMENT_EXAMPLE]})

    id: str
    personal_account_id: str
    kind: PaymentKindName
    state: PaymentStateName
    amount: MoneyResponse
    card_token: str
    reason: str | None = Field(description="why it was declined or failed (e.g. insufficient_funds)")
    requested_by: str | None = Field(description="the user who asked for it; null for an automatic payment")
    entry_id: str | None = Field(description="its movement in the account's /postings, once credited")
    created_at: datetime | None
    credited_at: datetime | None

    @classmethod
    def from_proto(cls, value: pb.Payment, locale: str) -> PaymentResponse:
        return cls(
            id=value.id,
            personal_account_id=value.personal_account_id,
            kind=_KIND_NAMES.get(value.kind, "card"),
            state=_STATE_NAMES.get(value.state, "pending"),
            amount=MoneyResponse.from_proto(value.amount, locale),
            card_token=value.card_token,
            reason=value.reason or None,
            requested_by=value.requested_by or None,
            entry_id=value.entry_id or None,
            created_at=optional_timestamp(value, "created_at"),
            credited_at=optional_timestamp(value, "credited_at"),
        )


class PaymentRequest(BaseModel):
    """A top-up of the personal account by card (BI-14)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": 150000, "currency": "RUB", "card_token": "tok_visa_4242"}]},
    )

    amount: StrictInt = Field(gt=0, le=10**15, description="in minor units of the currency (a JSON integer)")
    currency: Currency = Field(description="ISO 4217: the account's currency", examples=["RUB"])
    card_token: CardToken = Field(description="the card as the frontend's card form tokenised it, never its number")

    def to_proto(self, account: str, key: str | None) -> pb.PayRequest:
        return pb.PayRequest(
            personal_account_id=account,
            amount=self.amount,
            currency=self.currency,
            card_token=self.card_token,
            idempotency_key=key or "",
        )


class PayResponse(BaseModel):
    """The payment, and the account as it left it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"payment": _PAYMENT_EXAMPLE, "account": _BALANCE_EXAMPLE}]}
    )

    payment: PaymentResponse
    account: BalanceResponse


class PaymentsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_PAYMENT_EXAMPLE], "next_cursor": "eyJrIjpbMV19"}]}
    )

    items: list[PaymentResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


_AUTO_EXAMPLE: dict[str, JsonValue] = {
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "threshold": {"amount": 50000, "currency": "RUB", "exponent": 2, "formatted": "RUB500.00"},
    "amount": _MONEY,
    "card_token": "tok_visa_4242",
    "daily_limit": 3,
    "set_by": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
    "updated_at": "2026-12-07T10:00:00Z",
    "last_paid_at": None,
}


class AutoPaymentResponse(BaseModel):
    """When the balance falls below ``threshold``, ``amount`` is paid by the card (at most ``daily_limit`` a day)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_AUTO_EXAMPLE]})

    personal_account_id: str
    threshold: MoneyResponse
    amount: MoneyResponse
    card_token: str
    daily_limit: int
    set_by: str
    updated_at: datetime | None
    last_paid_at: datetime | None

    @classmethod
    def from_proto(cls, value: pb.AutoPayment, locale: str) -> AutoPaymentResponse:
        return cls(
            personal_account_id=value.personal_account_id,
            threshold=MoneyResponse.from_proto(value.threshold, locale),
            amount=MoneyResponse.from_proto(value.amount, locale),
            card_token=value.card_token,
            daily_limit=value.daily_limit,
            set_by=value.set_by,
            updated_at=optional_timestamp(value, "updated_at"),
            last_paid_at=optional_timestamp(value, "last_paid_at"),
        )


class AutoPaymentState(BaseModel):
    """The account's automatic payment, or null when it has none."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"auto_payment": _AUTO_EXAMPLE}]})

    auto_payment: AutoPaymentResponse | None


class AutoPaymentRequest(BaseModel):
    """The account's automatic payment (replaces the one it has)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "threshold": 50000,
                    "amount": 150000,
                    "currency": "RUB",
                    "card_token": "tok_visa_4242",
                    "daily_limit": 3,
                }
            ]
        },
    )

    threshold: StrictInt = Field(ge=-(10**15), le=10**15, description="minor units: pay when the balance is below it")
    amount: StrictInt = Field(gt=0, le=10**15, description="minor units paid each time")
    currency: Currency = Field(description="ISO 4217: the account's currency")
    card_token: CardToken
    daily_limit: StrictInt = Field(3, ge=1, le=10, description="at most this many automatic payments a day")

    def to_proto(self, account: str) -> pb.SetAutoPaymentRequest:
        return pb.SetAutoPaymentRequest(
            personal_account_id=account,
            threshold=self.threshold,
            amount=self.amount,
            currency=self.currency,
            card_token=self.card_token,
            daily_limit=self.daily_limit,
        )
