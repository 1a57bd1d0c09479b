"""What a tariff is, and the catalogue SIMfleet ships with.

Prices are integers in the tariff currency's minor units: per started minute
of a call, per SMS, per mebibyte (2^20 bytes) of data. A tariff's allowances
are included each period at home (national and on-net calls and SMS, data);
abroad, usage is priced by the visited country's roaming group. A change of
price is a new version of the tariff from a date: records are rated by the
version in force when they started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

VOICE: Final = "voice"
SMS: Final = "sms"
DATA: Final = "data"
KINDS: Final = (VOICE, SMS, DATA)

ON_NET: Final = "on_net"
NATIONAL: Final = "national"
INTERNATIONAL: Final = "international"
ZONES: Final = (ON_NET, NATIONAL, INTERNATIONAL)

UNITS: Final = {VOICE: "minute", SMS: "message", DATA: "byte"}
"""What each kind's allowance and units count."""

MEBIBYTE: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Tariff:
    code: str
    name: str
    currency: str
    monthly_fee: int
    # kind → minutes / messages / bytes included each period at home.
    allowances: dict[str, int]
    # kind → zone → price per unit at home (data: one zone, "").
    home: dict[str, dict[str, int]]
    # roaming group → kind → price per unit abroad.
    roaming: dict[str, dict[str, int]]
    version: int = 1
    effective_from: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def definition(self) -> dict[str, Any]:
        """What is stored of it besides its key columns."""
        return {"allowances": self.allowances, "home": self.home, "roaming": self.roaming}

    @classmethod
    def from_row(
        cls,
        *,
        code: str,
        name: str,
        currency: str,
        monthly_fee: int,
        version: int,
        effective_from: datetime,
        definition: dict[str, Any],
    ) -> Tariff:
        return cls(
            code=code,
            name=name,
            currency=currency,
            monthly_fee=monthly_fee,
            allowances={k: int(v) for k, v in definition["allowances"].items()},
            home={k: {z: int(p) for z, p in zones.items()} for k, zones in definition["home"].items()},
            roaming={g: {k: int(p) for k, p in prices.items()} for g, prices in definition["roaming"].items()},
            version=version,
            effective_from=effective_from,
        )


ROAMING_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "neighbours": ("AM", "BY", "GE", "KZ", "KG", "UZ"),
    "europe": ("DE", "ES", "FI", "FR", "GB", "IT", "NL", "TR"),
    "world": (),
}
"""Roaming groups and their countries; a country in none of them is in "world"."""


def roaming_group(country: str) -> str:
    for name, countries in ROAMING_GROUPS.items():
        if country in countries:
            return name
    return "world"


_ROAMING_RUB: Final = {
    "neighbours": {VOICE: 2900, SMS: 1500, DATA: 9900},
    "europe": {VOICE: 9900, SMS: 2500, DATA: 29900},
    "world": {VOICE: 19900, SMS: 3900, DATA: 59900},
}

BUILTIN: Final[tuple[Tariff, ...]] = (
    Tariff(
        code="BIZ-S",
        name="Business S",
        currency="RUB",
        monthly_fee=45000,
        allowances={VOICE: 300, SMS: 100, DATA: 5 * 1024 * MEBIBYTE},
        home={
            VOICE: {ON_NET: 150, NATIONAL: 250, INTERNATIONAL: 4900},
            SMS: {ON_NET: 200, NATIONAL: 300, INTERNATIONAL: 900},
            DATA: {"": 50},
        },
        roaming=_ROAMING_RUB,
    ),
    Tariff(
        code="BIZ-M",
        name="Business M",
        currency="RUB",
        monthly_fee=85000,
        allowances={VOICE: 1000, SMS: 300, DATA: 20 * 1024 * MEBIBYTE},
        home={
            VOICE: {ON_NET: 0, NATIONAL: 200, INTERNATIONAL: 3900},
            SMS: {ON_NET: 150, NATIONAL: 250, INTERNATIONAL: 900},
            DATA: {"": 30},
        },
        roaming=_ROAMING_RUB,
    ),
    Tariff(
        code="BIZ-L",
        name="Business L",
        currency="RUB",
        monthly_fee=150000,
        allowances={VOICE: 3000, SMS: 1000, DATA: 50 * 1024 * MEBIBYTE},
        home={
            VOICE: {ON_NET: 0, NATIONAL: 150, INTERNATIONAL: 2900},
            SMS: {ON_NET: 100, NATIONAL: 200, INTERNATIONAL: 700},
            DATA: {"": 20},
        },
        roaming=_ROAMING_RUB,
    ),
    Tariff(
        code="IOT-S",
        name="IoT S",
        currency="RUB",
        monthly_fee=9000,
        allowances={VOICE: 0, SMS: 50, DATA: 500 * MEBIBYTE},
        home={
            VOICE: {ON_NET: 300, NATIONAL: 300, INTERNATIONAL: 4900},
            SMS: {ON_NET: 200, NATIONAL: 300, INTERNATIONAL: 900},
            DATA: {"": 100},
        },
        roaming=_ROAMING_RUB,
    ),
)
"""The tariffs new lines are ordered on (inventory's orderable tariffs)."""
