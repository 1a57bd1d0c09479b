"""The price of one usage record under one tariff: pure arithmetic, no database.

- Units: a call is charged by started minutes, an SMS by messages, data by bytes.
- At home, the tariff's allowances cover units first (calls and SMS to on-net
  and national numbers, and data); what remains is priced by zone.
  International calls and SMS never come out of the allowances.
- At home, data the allowance leaves is taken from the line's bought data
  packages and the group packages of its nodes (:func:`draw`), the one that
  expires first first, before it is priced.
- Abroad, nothing is included: every unit is priced by the visited country's
  roaming group.
- Data is priced per mebibyte: a record costs its bytes times the price,
  divided by 2^20, rounded up to the next minor unit. Every record is rounded
  on its own, so the sum of a period is the sum of its records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from billing.catalogue.plans import DATA, INTERNATIONAL, MEBIBYTE, VOICE, Tariff, roaming_group


@dataclass(frozen=True, slots=True)
class Usage:
    kind: str
    zone: str
    roaming_country: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Price:
    units: int
    included: int
    charged: int
    # Where the chargeable units were priced: a home zone, or the roaming group abroad.
    priced_as: str
    # What data packages covered, after the allowance: in all, and by package id.
    packaged: int = 0
    drawn: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Package:
    """A bought data package as rating sees it (what is left of it is kept by the caller)."""

    id: str
    starts_at: datetime
    expires_at: datetime


def draw(units: int, packages: Sequence[Package], left: Mapping[str, int], at: datetime) -> dict[str, int]:
    """What each package covers of ``units`` used at ``at``: package id → units.

    Only packages active then (``starts_at <= at < expires_at``) with something
    ``left``, the one that expires first first (then by id).
    """
    taken: dict[str, int] = {}
    active = sorted(
        (p for p in packages if p.starts_at <= at < p.expires_at and left.get(p.id, 0) > 0),
        key=lambda p: (p.expires_at, p.id),
    )
    for package in active:
        if units <= 0:
            break
        share = min(units, left[package.id])
        taken[package.id] = share
        units -= share
    return taken


def units_of(kind: str, quantity: int) -> int:
    if kind == VOICE:
        return -(-quantity // 60)
    return quantity


def covered_by_allowance(usage: Usage) -> bool:
    """Whether the tariff's allowances may cover this record."""
    return not usage.roaming_country and (usage.kind == DATA or usage.zone != INTERNATIONAL)


def price(
    usage: Usage,
    tariff: Tariff,
    allowance_left: int,
    packages: Sequence[Package] = (),
    packages_left: Mapping[str, int] | None = None,
    at: datetime | None = None,
) -> Price:
    """What ``usage`` costs under ``tariff`` with ``allowance_left`` units of its kind's allowance left.

    Home data the allowance leaves is drawn from ``packages`` (``packages_left``:
    what each has left; ``at``: when the record started), see :func:`draw`.

    Raises KeyError when the tariff has no price for it (the caller rejects the record).
    """
    units = units_of(usage.kind, usage.quantity)
    included = min(units, max(allowance_left, 0)) if covered_by_allowance(usage) else 0
    drawn: dict[str, int] = {}
    if packages and at is not None and usage.kind == DATA and not usage.roaming_country:
        drawn = draw(units - included, packages, packages_left or {}, at)
    packaged = sum(drawn.values())
    chargeable = units - included - packaged
    if usage.roaming_country:
        group = roaming_group(usage.roaming_country)
        unit_price = tariff.roaming[group][usage.kind]
        priced_as = group
    else:
        zone = "" if usage.kind == DATA else usage.zone
        unit_price = tariff.home[usage.kind][zone]
        priced_as = zone
    charged = -(-chargeable * unit_price // MEBIBYTE) if usage.kind == DATA else chargeable * unit_price
    return Price(
        units=units,
        included=included,
        charged=charged,
        priced_as=priced_as,
        packaged=packaged,
        drawn=tuple(sorted(drawn.items())),
    )
