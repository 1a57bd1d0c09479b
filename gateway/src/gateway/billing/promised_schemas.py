"""Bodies of the promised payments (BI-9) and settlement method (BI-13) routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StringConstraints, model_validator

from gateway.billing.money import MoneyResponse
from gateway.billing.schemas import _BALANCE_EXAMPLE, _METHODS, BalanceResponse, SettlementMethodName
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import ledger_pb2
from simfleet.billing.v1 import promised_pb2 as pb
from simfleet.billing.v1 import settlement_pb2 as spb

PromisedStatusName = Literal["open", "repaid"]
_STATUS_NAMES: dict[int, PromisedStatusName] = {
    pb.PROMISED_PAYMENT_STATUS_OPEN: "open",
    pb.PROMISED_PAYMENT_STATUS_REPAID: "repaid",
}
METHODS: dict[SettlementMethodName, int] = {
    "prepaid": ledger_pb2.SETTLEMENT_METHOD_PREPAID,
    "postpaid": ledger_pb2.SETTLEMENT_METHOD_POSTPAID,
    "credit": ledger_pb2.SETTLEMENT_METHOD_CREDIT,
}

_MONEY: dict[str, JsonValue] = {"amount": 50000, "currency": "RUB", "exponent": 2, "formatted": "RUB500.00"}
_PROMISED_EXAMPLE: dict[str, JsonValue] = {
    "id": "pp:5f1c0b7e9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d",
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "amount": _MONEY,
    "status": "open",
    "taken_by": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
    "taken_at": "2026-12-07T10:00:00Z",
    "due_at": "2026-12-14T10:00:00Z",
    "repaid_at": None,
    "repaid_by": None,
}


class PromisedPaymentRequest(BaseModel):
    """A promised payment: a temporary credit, taken back automatically when it falls due."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 50000}]})

    amount: StrictInt = Field(gt=0, le=10**15, description="in minor units of the account's currency")


Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MinorUnits = Annotated[StrictInt, Field(gt=0, le=10**15)]


class GroupPromisedPaymentRequest(BaseModel):
    """A promised payment for each personal account under a node: one amount, or one per currency they hold."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": 50000}, {"amounts": {"RUB": 50000, "IRR": 5000000}}]},
    )

    amount: StrictInt | None = Field(
        None,
        gt=0,
        le=10**15,
        description="for every account, in minor units of their currency: only when they all hold one currency",
    )
    amounts: dict[Currency, MinorUnits] | None = Field(
        None,
        min_length=1,
        max_length=32,
        description="ISO 4217 code → the amount in its minor units for each account holding it; needed when the "
        "accounts hold more than one currency (one for each, else 422 `AMOUNT_PER_CURRENCY`); a currency no "
        "account holds takes nothing",
    )

    @model_validator(mode="after")
    def _one_way(self) -> GroupPromisedPaymentRequest:
        if (self.amount is None) == (self.amounts is None):
            raise ValueError("give amount or amounts (one per currency), not both")
        return self


class PromisedPaymentResponse(BaseModel):
    """A promised payment: open (credited, taken back at due_at) or repaid."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PROMISED_EXAMPLE]})

    id: str
    personal_account_id: str
    amount: MoneyResponse
    status: PromisedStatusName
    taken_by: str | None = Field(description="the user who took it")
    taken_at: datetime | None
    due_at: datetime | None = Field(description="when it is taken back, unless repaid earlier")
    repaid_at: datetime | None
    repaid_by: Literal["due", "customer"] | None = Field(
        description="due: taken back at its date; customer: repaid earlier"
    )

    @classmethod
    def from_proto(cls, value: pb.PromisedPayment, locale: str) -> PromisedPaymentResponse:
        return cls(
            id=value.id,
            personal_account_id=value.personal_account_id,
            amount=MoneyResponse.from_proto(value.amount, locale),
            status=_STATUS_NAMES.get(value.status, "open"),
            taken_by=value.taken_by or None,
            taken_at=optional_timestamp(value, "taken_at"),
            due_at=optional_timestamp(value, "due_at"),
            repaid_at=optional_timestamp(value, "repaid_at"),
            repaid_by="due" if value.repaid_by == "due" else "customer" if value.repaid_by else None,
        )


class TakenPromisedPayment(BaseModel):
    """The promised payment, and the account as it left it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"promised_payment": _PROMISED_EXAMPLE, "account": _BALANCE_EXAMPLE}]}
    )

    promised_payment: PromisedPaymentResponse
    account: BalanceResponse


class GroupRefusal(BaseModel):
    personal_account_id: str
    reason: str = Field(description="PROMISED_PAYMENT_OPEN, PROMISED_PAYMENT_LIMIT, ...")
    message: str


class GroupPromisedPayments(BaseModel):
    """What a group's promised payments did: one per personal account, each decided on its own."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "taken": [_PROMISED_EXAMPLE],
                    "refused": [
                        {
                            "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7E",
                            "reason": "PROMISED_PAYMENT_OPEN",
                            "message": "the account has an open promised payment already: it is repaid first",
                        }
                    ],
                }
            ]
        }
    )

    taken: list[PromisedPaymentResponse]
    refused: list[GroupRefusal]


class PromisedPaymentsPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_PROMISED_EXAMPLE], "next_cursor": "eyJrIjpbMV19"}]}
    )

    items: list[PromisedPaymentResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


_CHANGE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA3D4E5F6G7H8J9K0M1N2P3Q",
    "settlement_method": "postpaid",
    "credit_limit": {"amount": 0, "currency": "RUB", "exponent": 2, "formatted": "RUB0.00"},
    "effective_at": "2027-01-01T00:00:00Z",
    "requested_at": "2026-12-07T10:00:00Z",
    "applied_at": None,
    "requested_by": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
}


class SettlementChangeResponse(BaseModel):
    """A change of settlement method, applied at its date."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CHANGE_EXAMPLE]})

    id: str
    settlement_method: SettlementMethodName
    credit_limit: MoneyResponse
    effective_at: datetime | None
    requested_at: datetime | None
    applied_at: datetime | None = Field(description="null while it waits for its date")
    requested_by: str = Field(description="a user id, or operator")

    @classmethod
    def from_proto(cls, value: ledger_pb2.SettlementChange, locale: str) -> SettlementChangeResponse:
        return cls(
            id=value.id,
            settlement_method=_METHODS.get(value.method, "prepaid"),
            credit_limit=MoneyResponse.from_proto(value.credit_limit, locale),
            effective_at=optional_timestamp(value, "effective_at"),
            requested_at=optional_timestamp(value, "requested_at"),
            applied_at=optional_timestamp(value, "applied_at"),
            requested_by=value.requested_by,
        )


class SettlementMethodResponse(BaseModel):
    """The account with its current method, credit limit and scheduled change; its history of changes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"account": _BALANCE_EXAMPLE, "history": [_CHANGE_EXAMPLE], "next_cursor": None}]
        }
    )

    account: BalanceResponse
    history: list[SettlementChangeResponse] = Field(description="newest request first")
    next_cursor: str | None = Field(description="the history's next page; null on the last")

    @classmethod
    def from_proto(cls, answer: spb.GetSettlementMethodResponse, locale: str) -> SettlementMethodResponse:
        return cls(
            account=BalanceResponse.from_proto(answer.account, locale),
            history=[SettlementChangeResponse.from_proto(c, locale) for c in answer.history],
            next_cursor=answer.next_page_token or None,
        )


class SettlementMethodRequest(BaseModel):
    """The settlement method the customer chooses; the credit limit stays the operator's to set."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"method": "postpaid", "effective_from": "2027-01-01"}]}
    )

    method: SettlementMethodName
    effective_from: date | None = Field(
        None, description="the day (UTC) it applies from; today or omitted: now; a past day is refused"
    )


class SettlementMethodChanged(BaseModel):
    """The change asked for (applied at once when it is due now) and the account as it stands."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"change": _CHANGE_EXAMPLE, "account": _BALANCE_EXAMPLE}]}
    )

    change: SettlementChangeResponse
    account: BalanceResponse
