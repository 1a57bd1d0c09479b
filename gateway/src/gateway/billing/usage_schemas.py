"""Bodies of /v1/lines/{msisdn}/usage and /v1/tariffs: usage as billing rated it, and the catalogue (SIM-1, SIM-6).

The catalogue is billing's price list in the caller's customer's currency (CatalogueService.GetPriceList).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.billing.money import MoneyResponse
from gateway.billing.schemas import BalanceResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import catalogue_pb2 as catalogue_pb
from simfleet.billing.v1 import usage_pb2 as pb

UsageKindName = Literal["voice", "sms", "data"]
_KINDS: dict[int, UsageKindName] = {
    pb.USAGE_KIND_VOICE: "voice",
    pb.USAGE_KIND_SMS: "sms",
    pb.USAGE_KIND_DATA: "data",
}


def _kind(value: int) -> UsageKindName:
    return _KINDS.get(value, "voice")


class UsageRecordResponse(BaseModel):
    """One usage record of the network and what rating made of it."""

    record_id: str
    kind: UsageKindName
    zone: str = Field(description="on_net, national or international; empty for data")
    roaming_country: str | None = Field(description="ISO 3166-1 alpha-2 of the visited country; null at home")
    destination: str | None = Field(description="the number called or messaged")
    started_at: datetime | None
    quantity: int = Field(description="as the network measured it: seconds, messages or bytes")
    units: int = Field(description="what is charged by: started minutes, messages or bytes")
    included_units: int = Field(description="of the units, those the tariff's allowances covered")
    package_units: int = Field(0, description="of the units, those bought data packages covered (after the allowances)")
    charged: MoneyResponse | None = Field(description="null for a rejected record")
    outcome: Literal["rated", "rejected"]
    reason: str | None = Field(description="why a rejected record was not rated (e.g. UNKNOWN_LINE)")
    tariff_code: str | None

    @classmethod
    def from_proto(cls, value: pb.RatedUsage, locale: str) -> UsageRecordResponse:
        return cls(
            record_id=value.record_id,
            kind=_kind(value.kind),
            zone=value.zone,
            roaming_country=value.roaming_country or None,
            destination=value.destination or None,
            started_at=optional_timestamp(value, "started_at"),
            quantity=value.quantity,
            units=value.units,
            included_units=value.included_units,
            package_units=value.package_units,
            charged=MoneyResponse.from_proto(value.charged, locale) if value.HasField("charged") else None,
            outcome="rated" if value.outcome == pb.RATING_OUTCOME_RATED else "rejected",
            reason=value.reason or None,
            tariff_code=value.tariff_code or None,
        )


class UsageTotalResponse(BaseModel):
    kind: UsageKindName
    records: int
    quantity: int = Field(description="seconds, messages or bytes")
    units: int = Field(description="started minutes, messages or bytes")
    included_units: int
    charged: MoneyResponse


class AllowanceResponse(BaseModel):
    kind: UsageKindName
    unit: Literal["minute", "message", "byte"]
    included: int = Field(description="in the tariff each period")
    used: int
    remaining: int


def _allowance(value: pb.AllowanceLeft) -> AllowanceResponse:
    unit: Literal["minute", "message", "byte"] = (
        "minute" if value.unit == "minute" else "message" if value.unit == "message" else "byte"
    )
    return AllowanceResponse(
        kind=_kind(value.kind), unit=unit, included=value.included, used=value.used, remaining=value.remaining
    )


class PackageLeftResponse(BaseModel):
    """A bought data package the line may draw on now, and what is left of it."""

    package_id: str
    offer_code: str
    scope: Literal["line", "group"] = Field(description="the line's own, or a group's shared by the lines under a node")
    bytes: int
    used: int = Field(description="by all the lines drawing on it")
    remaining: int
    expires_at: datetime | None


def _package(value: pb.PackageLeft) -> PackageLeftResponse:
    return PackageLeftResponse(
        package_id=value.package_id,
        offer_code=value.offer_code,
        scope="group" if value.scope == "group" else "line",
        bytes=value.bytes,
        used=value.used,
        remaining=value.remaining,
        expires_at=optional_timestamp(value, "expires_at"),
    )


_MONEY: dict[str, JsonValue] = {"amount": 4900, "currency": "RUB", "exponent": 2, "formatted": "RUB49.00"}


class LineUsageResponse(BaseModel):
    """A line's money and usage this period (SIM-1)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "msisdn": "+79990000101",
                    "line_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
                    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
                    "tariff_code": "BIZ-S",
                    "period": "2026-12",
                    "period_start": "2026-12-01T00:00:00Z",
                    "period_end": "2027-01-01T00:00:00Z",
                    "charged": _MONEY,
                    "usage": [
                        {
                            "kind": "voice",
                            "records": 12,
                            "quantity": 3610,
                            "units": 64,
                            "included_units": 63,
                            "charged": _MONEY,
                        }
                    ],
                    "allowances": [{"kind": "voice", "unit": "minute", "included": 300, "used": 63, "remaining": 237}],
                }
            ]
        }
    )

    msisdn: str
    line_id: str
    personal_account_id: str
    tariff_code: str
    period: str = Field(description="the billing period, a calendar month (UTC)", examples=["2026-12"])
    period_start: datetime | None
    period_end: datetime | None
    account: BalanceResponse | None = Field(
        description="the line's personal account: balance, credit limit, available; null when billing keeps no "
        "money for it"
    )
    charged: MoneyResponse = Field(description="what the period's usage cost so far")
    usage: list[UsageTotalResponse] = Field(description="voice, SMS and data this period")
    allowances: list[AllowanceResponse] = Field(description="what remains of the tariff's allowances")
    last_records: list[UsageRecordResponse] = Field(description="the line's last 15 usage records, newest first")
    packages: list[PackageLeftResponse] = Field(
        default_factory=list,
        description="the data packages the line may draw on now (its own and its groups'), the first to expire first",
    )

    @classmethod
    def from_proto(cls, value: pb.GetLineUsageResponse, locale: str) -> LineUsageResponse:
        return cls(
            msisdn=value.msisdn,
            line_id=value.line_id,
            personal_account_id=value.personal_account_id,
            tariff_code=value.tariff_code,
            period=value.period,
            period_start=optional_timestamp(value, "period_start"),
            period_end=optional_timestamp(value, "period_end"),
            account=BalanceResponse.from_proto(value.account, locale) if value.HasField("account") else None,
            charged=MoneyResponse.from_proto(value.charged, locale),
            usage=[
                UsageTotalResponse(
                    kind=_kind(t.kind),
                    records=t.records,
                    quantity=t.quantity,
                    units=t.units,
                    included_units=t.included_units,
                    charged=MoneyResponse.from_proto(t.charged, locale),
                )
                for t in value.totals
            ],
            allowances=[_allowance(a) for a in value.allowances],
            last_records=[UsageRecordResponse.from_proto(r, locale) for r in value.last_records],
            packages=[_package(p) for p in value.packages],
        )


class UnitPriceResponse(BaseModel):
    kind: UsageKindName
    zone: str = Field(description="at home: on_net, national, international (empty for data); abroad: the group")
    price: MoneyResponse = Field(description="per started minute, per message, per mebibyte")


class IncludedResponse(BaseModel):
    kind: UsageKindName
    unit: Literal["minute", "message", "byte"]
    included: int


class TariffResponse(BaseModel):
    code: str
    name: str
    version: int
    effective_from: datetime | None
    monthly_fee: MoneyResponse
    included: list[IncludedResponse] = Field(description="each period, at home")
    home_prices: list[UnitPriceResponse]
    roaming_prices: list[UnitPriceResponse]


class RoamingGroupResponse(BaseModel):
    name: str
    countries: list[str] = Field(description="ISO 3166-1 alpha-2; empty: every country in no other group")


class TariffsResponse(BaseModel):
    """The tariffs in force and the roaming groups they price by (SIM-6), in the caller's customer's currency."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tariffs": [
                        {
                            "code": "BIZ-S",
                            "name": "Business S",
                            "version": 1,
                            "effective_from": "2026-01-01T00:00:00Z",
                            "monthly_fee": {
                                "amount": 45000,
                                "currency": "RUB",
                                "exponent": 2,
                                "formatted": "RUB450.00",
                            },
                            "included": [{"kind": "voice", "unit": "minute", "included": 300}],
                            "home_prices": [{"kind": "voice", "zone": "national", "price": _MONEY}],
                            "roaming_prices": [{"kind": "voice", "zone": "europe", "price": _MONEY}],
                        }
                    ],
                    "roaming_groups": [{"name": "europe", "countries": ["DE", "FR"]}],
                    "currency": "RUB",
                }
            ]
        }
    )

    tariffs: list[TariffResponse]
    roaming_groups: list[RoamingGroupResponse]
    currency: str = Field(
        description="ISO 4217: the currency every amount is in, your customer's (that of its personal accounts)",
        examples=["RUB"],
    )

    @classmethod
    def from_proto(cls, value: catalogue_pb.GetPriceListResponse, locale: str) -> TariffsResponse:
        def prices(items: list[pb.UnitPrice]) -> list[UnitPriceResponse]:
            return [
                UnitPriceResponse(kind=_kind(p.kind), zone=p.zone, price=MoneyResponse.from_proto(p.price, locale))
                for p in items
            ]

        return cls(
            tariffs=[
                TariffResponse(
                    code=t.code,
                    name=t.name,
                    version=t.version,
                    effective_from=optional_timestamp(t, "effective_from"),
                    monthly_fee=MoneyResponse.from_proto(t.monthly_fee, locale),
                    included=[
                        IncludedResponse(kind=a.kind, unit=a.unit, included=a.included)
                        for a in map(_allowance, t.allowances)
                    ],
                    home_prices=prices(list(t.home_prices)),
                    roaming_prices=prices(list(t.roaming_prices)),
                )
                for t in value.tariffs
            ],
            roaming_groups=[
                RoamingGroupResponse(name=g.name, countries=list(g.countries)) for g in value.roaming_groups
            ],
            currency=value.currency,
        )
