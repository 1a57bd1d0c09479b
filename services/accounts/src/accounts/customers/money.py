"""A customer's currency and settlement method, as onboarding accepts them.

A currency is an ISO 4217 code in capitals that is legal tender somewhere
today by CLDR's data (Babel): RUB, IRR, USD... but not a withdrawn one (DEM) nor
a fund or metal code (XAU). Billing keeps each in its minor units (IRR has
none).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from babel.core import get_global
from babel.numbers import get_territory_currencies

DEFAULT_CURRENCY = "RUB"
DEFAULT_SETTLEMENT_METHOD = "prepaid"
SETTLEMENT_METHODS = ("prepaid", "postpaid", "credit")
_CODE = re.compile(r"^[A-Z]{3}$")


@cache
def _tender(today: date) -> frozenset[str]:
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True, non_tender=False))
    return frozenset(codes)


def currency_problem(code: str, today: date) -> str | None:
    """Why ``code`` is not a currency a customer may hold; None when it is."""
    if not _CODE.match(code) or code not in _tender(today):
        return "an ISO 4217 currency code in use, in capitals, such as RUB or IRR"
    return None


def method_problem(method: str) -> str | None:
    if method not in SETTLEMENT_METHODS:
        return "prepaid, postpaid or credit"
    return None
