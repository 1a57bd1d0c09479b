"""Amounts of money as the API answers them: integer minor units, the currency, and the amount written for people.

An amount travels as an integer of the currency's minor units with the
currency's exponent (RUB 2: 12345 is 123.45 ₽; IRR 0), never as a float; the
``formatted`` text is Babel's (CLDR) for the caller's language, chosen from
``Accept-Language`` among the languages SIMfleet speaks.
"""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency
from pydantic import BaseModel, Field

from simfleet.billing.v1 import ledger_pb2 as pb

LANGUAGES = ("en", "ru", "fa")
"""What amounts are written in: the console's languages; the first is the default."""


def locale_of(accept_language: str | None) -> str:
    """The caller's language among :data:`LANGUAGES`, from an ``Accept-Language`` value (its q-values honoured)."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    for _quality, _position, tag in sorted(wanted):
        try:
            language = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LANGUAGES:
            return language
    return LANGUAGES[0]


class MoneyResponse(BaseModel):
    """An amount: ``amount`` minor units of ``currency`` (``exponent`` digits after the point)."""

    amount: int = Field(description="in minor units (kopecks for RUB), an integer", examples=[123450])
    currency: str = Field(description="ISO 4217", examples=["RUB"])
    exponent: int = Field(description="the currency's minor-unit digits: amount / 10^exponent units", examples=[2])
    formatted: str = Field(description="for people, in the caller's language (Accept-Language)", examples=["₽1,234.50"])

    @classmethod
    def from_proto(cls, money: pb.Money, locale: str) -> MoneyResponse:
        return cls(
            amount=money.amount,
            currency=money.currency,
            exponent=money.exponent,
            formatted=format_money(money.amount, money.currency, money.exponent, locale),
        )


def format_money(amount: int, currency: str, exponent: int, locale: str) -> str:
    """``amount`` minor units written for people in ``locale``, in its own digits (Persian ones for fa)."""
    return format_currency(Decimal(amount).scaleb(-exponent), currency, locale=locale, numbering_system="default")
