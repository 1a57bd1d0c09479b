"""Bodies of a personal account's statement and a node's finances (AC-2, BI-1): money per period."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.billing.money import MoneyResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import ledger_pb2 as pb


def _rub(amount: int, formatted: str) -> dict[str, JsonValue]:
    return {"amount": amount, "currency": "RUB", "exponent": 2, "formatted": formatted}


_FIGURES_EXAMPLE: dict[str, JsonValue] = {
    "currency": "RUB",
    "opening_balance": _rub(700000, "RUB7,000.00"),
    "charges": _rub(120000, "RUB1,200.00"),
    "payments": _rub(500000, "RUB5,000.00"),
    "transfers_in": _rub(0, "RUB0.00"),
    "other_credits": _rub(0, "RUB0.00"),
    "transfers_out": _rub(200000, "RUB2,000.00"),
    "other_debits": _rub(0, "RUB0.00"),
    "closing_balance": _rub(880000, "RUB8,800.00"),
    "postings_count": 14,
    "personal_accounts": 1,
}
_PERIOD_EXAMPLE: dict[str, JsonValue] = {
    "period": "2026-12",
    "period_start": "2026-12-01T00:00:00Z",
    "period_end": "2027-01-01T00:00:00Z",
    "open": True,
}


class PeriodFigures(BaseModel):
    """Money over a period in one currency: what moved the balance from its opening to its closing.

    closing_balance = opening_balance + payments + transfers_in + other_credits - charges - transfers_out
    - other_debits.
    """

    currency: str = Field(description="ISO 4217")
    opening_balance: MoneyResponse = Field(description="when the period began: the previous period's closing")
    charges: MoneyResponse = Field(description="usage, monthly fees and packages charged")
    payments: MoneyResponse = Field(description="payments received")
    transfers_in: MoneyResponse = Field(description="from the customer's other personal accounts")
    other_credits: MoneyResponse = Field(description="promised payments and other credits")
    transfers_out: MoneyResponse = Field(description="to the customer's other personal accounts")
    other_debits: MoneyResponse = Field(description="promised payments repaid and other debits")
    closing_balance: MoneyResponse = Field(description="when the period ended; the balance now for this month")
    postings_count: int = Field(description="the movements of the period")
    personal_accounts: int = Field(description="how many personal accounts are summed")

    @classmethod
    def from_proto(cls, figures: pb.PeriodFigures, locale: str) -> PeriodFigures:
        def money(value: pb.Money) -> MoneyResponse:
            return MoneyResponse.from_proto(value, locale)

        return cls(
            currency=figures.currency,
            opening_balance=money(figures.opening_balance),
            charges=money(figures.charges),
            payments=money(figures.payments),
            transfers_in=money(figures.transfers_in),
            other_credits=money(figures.other_credits),
            transfers_out=money(figures.transfers_out),
            other_debits=money(figures.other_debits),
            closing_balance=money(figures.closing_balance),
            postings_count=figures.postings_count,
            personal_accounts=figures.personal_accounts,
        )


class StatementResponse(BaseModel):
    """A personal account's money over one month (UTC)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C", **_PERIOD_EXAMPLE, "figures": _FIGURES_EXAMPLE}
            ]
        }
    )

    personal_account_id: str
    period: str = Field(description="YYYY-MM", examples=["2026-12"])
    period_start: datetime | None
    period_end: datetime | None = Field(description="exclusive: the next period's start")
    open: bool = Field(description="the current month: its closing balance still moves")
    figures: PeriodFigures

    @classmethod
    def from_proto(cls, answer: pb.GetStatementResponse, locale: str) -> StatementResponse:
        return cls(
            personal_account_id=answer.personal_account_id,
            period=answer.period,
            period_start=optional_timestamp(answer, "period_start"),
            period_end=optional_timestamp(answer, "period_end"),
            open=answer.open,
            figures=PeriodFigures.from_proto(answer.figures, locale),
        )


class NodeFinancesResponse(BaseModel):
    """The money of every personal account at or under a node over one month, summed per currency."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B", **_PERIOD_EXAMPLE, "totals": [_FIGURES_EXAMPLE]}]
        }
    )

    node_id: str
    period: str = Field(description="YYYY-MM", examples=["2026-12"])
    period_start: datetime | None
    period_end: datetime | None = Field(description="exclusive: the next period's start")
    open: bool = Field(description="the current month: its closing balances still move")
    totals: list[PeriodFigures] = Field(description="one per currency, by currency code; empty without accounts")

    @classmethod
    def from_proto(cls, answer: pb.GetNodeFinancesResponse, locale: str) -> NodeFinancesResponse:
        return cls(
            node_id=answer.node_id,
            period=answer.period,
            period_start=optional_timestamp(answer, "period_start"),
            period_end=optional_timestamp(answer, "period_end"),
            open=answer.open,
            totals=[PeriodFigures.from_proto(total, locale) for total in answer.totals],
        )
