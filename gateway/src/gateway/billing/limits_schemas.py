"""Bodies of /v1/spending-limits: what a line, a group or the company may spend in a month (BI-10)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictInt, StringConstraints

from gateway.billing.money import MoneyResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import limits_pb2 as pb

ScopeName = Literal["line", "node", "company"]
ActionName = Literal["warn", "block"]
PeriodName = Literal["month"]
SCOPES: dict[ScopeName, int] = {
    "line": pb.SPENDING_LIMIT_SCOPE_LINE,
    "node": pb.SPENDING_LIMIT_SCOPE_NODE,
    "company": pb.SPENDING_LIMIT_SCOPE_COMPANY,
}
ACTIONS: dict[ActionName, int] = {"warn": pb.SPENDING_LIMIT_ACTION_WARN, "block": pb.SPENDING_LIMIT_ACTION_BLOCK}
PERIODS: dict[PeriodName, int] = {"month": pb.SPENDING_LIMIT_PERIOD_MONTH}
_SCOPE_NAMES = {v: k for k, v in SCOPES.items()}
_ACTION_NAMES = {v: k for k, v in ACTIONS.items()}
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Recipient = Annotated[str, StringConstraints(min_length=3, max_length=254)]

_LIMIT_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA0Z6X3W8T9R2Q1P0N5M4K7E",
    "scope": "node",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "line_id": None,
    "msisdn": None,
    "period": "month",
    "amount": {"amount": 5000000, "currency": "RUB", "exponent": 2, "formatted": "RUB50,000.00"},
    "action": "warn",
    "notify": ["+79991234567", "finance@example.com"],
    "current_period": "2026-12",
    "spent": {"amount": 1234500, "currency": "RUB", "exponent": 2, "formatted": "RUB12,345.00"},
    "reached": False,
    "set_by": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
    "created_at": "2026-12-07T10:00:00Z",
    "updated_at": "2026-12-07T10:00:00Z",
}


class SpendingLimitResponse(BaseModel):
    """A spending limit and what its lines spent in the current period."""

    model_config = ConfigDict(json_schema_extra={"examples": [_LIMIT_EXAMPLE]})

    id: str
    scope: ScopeName
    node_id: str = Field(description="the node whose lines it counts; for a line's limit, the line's node")
    line_id: str | None
    msisdn: str | None
    period: PeriodName
    amount: MoneyResponse
    action: ActionName
    notify: list[str] = Field(description="phone numbers (SMS) and email addresses told when a warning is reached")
    current_period: str = Field(description="the period now (YYYY-MM, UTC)", examples=["2026-12"])
    spent: MoneyResponse = Field(description="what its lines were charged in the current period")
    reached: bool
    set_by: str
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_proto(cls, value: pb.SpendingLimit, locale: str) -> SpendingLimitResponse:
        return cls(
            id=value.id,
            scope=_SCOPE_NAMES.get(value.scope, "node"),
            node_id=value.node_id,
            line_id=value.line_id or None,
            msisdn=value.msisdn or None,
            period="month",
            amount=MoneyResponse.from_proto(value.amount, locale),
            action=_ACTION_NAMES.get(value.action, "warn"),
            notify=list(value.notify),
            current_period=value.current_period,
            spent=MoneyResponse.from_proto(value.spent, locale),
            reached=value.reached,
            set_by=value.set_by,
            created_at=optional_timestamp(value, "created_at"),
            updated_at=optional_timestamp(value, "updated_at"),
        )


class SpendingLimitsPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_LIMIT_EXAMPLE]}]})

    items: list[SpendingLimitResponse]


class SpendingLimitSettings(BaseModel):
    """What a limit allows and does: the amount a month, warn or block, who is warned."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amount": 5000000, "currency": "RUB", "action": "warn", "notify": ["+79991234567"]}]
        },
    )

    period: PeriodName = Field("month", description="a calendar month (UTC)")
    amount: StrictInt = Field(gt=0, le=10**15, description="in minor units of the currency (a JSON integer)")
    currency: Currency = Field(description="ISO 4217: the currency of the customer's personal accounts")
    action: ActionName = Field(
        description="warn: an SMS to each phone number and an email to each address in notify, once a period; "
        "block: the lines are blocked financially until the limit is raised or deleted or a new period starts"
    )
    notify: list[Recipient] = Field(
        max_length=10,
        description="E.164 phone numbers (told by SMS) and email addresses (told by email), always given: at least one "
        "for a limit that warns, an empty list for one that blocks and tells no one",
    )

    def to_update(self, limit_id: str) -> pb.UpdateSpendingLimitRequest:
        return pb.UpdateSpendingLimitRequest(
            limit_id=limit_id,
            amount=self.amount,
            currency=self.currency,
            action=ACTIONS[self.action],  # type: ignore[arg-type]
            notify=self.notify,
            period=PERIODS[self.period],  # type: ignore[arg-type]
        )


class _NewLimit(SpendingLimitSettings):
    model_config = ConfigDict(extra="forbid")
    scope: ScopeName

    def to_create(self, key: str | None) -> pb.CreateSpendingLimitRequest:
        return pb.CreateSpendingLimitRequest(
            scope=SCOPES[self.scope],  # type: ignore[arg-type]
            node_id=getattr(self, "node_id", ""),
            msisdn=getattr(self, "msisdn", ""),
            period=PERIODS[self.period],  # type: ignore[arg-type]
            amount=self.amount,
            currency=self.currency,
            action=ACTIONS[self.action],  # type: ignore[arg-type]
            notify=self.notify,
            idempotency_key=key or "",
        )


class LineLimitRequest(_NewLimit):
    """A limit for one line, by its number."""

    scope: Literal["line"]
    msisdn: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="the line's number (E.164)")


class NodeLimitRequest(_NewLimit):
    """A limit for a group: the lines of a node and of every node below it."""

    scope: Literal["node"]
    node_id: str = Field(min_length=1, max_length=64, description="the group's node")


class CompanyLimitRequest(_NewLimit):
    """A limit for the whole company: every line of the customer."""

    scope: Literal["company"]


SpendingLimitRequest = Annotated[
    LineLimitRequest | NodeLimitRequest | CompanyLimitRequest,
    Field(discriminator="scope", description="a new limit: its `scope` says what it counts"),
]
"""A new limit for a line (``msisdn``), a group (``node_id``: its lines and those below) or the company."""

SPENDING_LIMIT_EXAMPLES: dict[str, Any] = {
    "group": {
        "summary": "a group's limit that blocks",
        "value": {
            "scope": "node",
            "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
            "amount": 5000000,
            "currency": "RUB",
            "action": "block",
            "notify": [],
        },
    },
    "line": {
        "summary": "a line's limit that warns by SMS",
        "value": {
            "scope": "line",
            "msisdn": "+79991234567",
            "amount": 100000,
            "currency": "RUB",
            "action": "warn",
            "notify": ["+79997654321"],
        },
    },
}
