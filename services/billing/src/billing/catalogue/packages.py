"""The data packages SIMfleet sells (BI-7, BI-8), in code beside the tariffs.

A package adds bytes of home data for a number of days from its purchase:
``line`` packages to each line they are bought for, ``group`` packages to a
pool that every line under one node of the hierarchy (its sub-nodes included)
draws from. Prices are integers in the currency's minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LINE: Final = "line"
GROUP: Final = "group"
SCOPES: Final = (LINE, GROUP)
GIBIBYTE: Final = 1 << 30


@dataclass(frozen=True, slots=True)
class PackageOffer:
    code: str
    name: str
    currency: str
    price: int
    bytes: int
    validity_days: int
    scope: str


OFFERS: Final = (
    PackageOffer("DATA-1G", "Data 1 GiB, 30 days", "RUB", 15_000, 1 * GIBIBYTE, 30, LINE),
    PackageOffer("DATA-5G", "Data 5 GiB, 30 days", "RUB", 50_000, 5 * GIBIBYTE, 30, LINE),
    PackageOffer("DATA-20G", "Data 20 GiB, 30 days", "RUB", 150_000, 20 * GIBIBYTE, 30, LINE),
    PackageOffer("GROUP-50G", "Group data 50 GiB, 30 days", "RUB", 300_000, 50 * GIBIBYTE, 30, GROUP),
    PackageOffer("GROUP-200G", "Group data 200 GiB, 30 days", "RUB", 1_000_000, 200 * GIBIBYTE, 30, GROUP),
)
OFFERS_BY_CODE: Final = {offer.code: offer for offer in OFFERS}


def offer(code: str) -> PackageOffer | None:
    return OFFERS_BY_CODE.get(code)
