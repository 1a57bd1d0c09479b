"""Bodies of /v1/lines/availability and /v1/options: which lines may take a tariff or an option, and why not."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from gateway.billing.money import MoneyResponse
from gateway.lines.schemas import MSISDN_PATTERN
from simfleet.billing.v1 import catalogue_pb2 as pb

ServiceName = Literal["voice", "sms", "data", "roaming", "international"]
Msisdn = Annotated[str, StringConstraints(pattern=MSISDN_PATTERN, min_length=8, max_length=16)]
LineId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{26}$")]
TariffCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,63}$")]


class AvailabilityRequest(BaseModel):
    """The lines (by number and/or id, 1 to 1,000) and what they would take: a tariff and/or service changes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"msisdns": ["+79990000101"], "tariff_code": "IOT-S", "disconnect": ["voice"]}]
        },
    )

    msisdns: list[Msisdn] = Field(default_factory=list, max_length=1000, description="E.164 numbers")
    line_ids: list[LineId] = Field(default_factory=list, max_length=1000)
    tariff_code: TariffCode | None = Field(None, description="the tariff to move to (none: each line keeps its own)")
    connect: list[ServiceName] = Field(default_factory=list, max_length=5)
    disconnect: list[ServiceName] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _some_lines(self) -> AvailabilityRequest:
        if not 1 <= len(self.msisdns) + len(self.line_ids) <= 1000:
            raise ValueError("name 1 to 1,000 lines, by number or id")
        if set(self.connect) & set(self.disconnect):
            raise ValueError("a service is either connected or disconnected")
        return self

    def to_proto(self) -> pb.CheckAvailabilityRequest:
        return pb.CheckAvailabilityRequest(
            msisdns=self.msisdns,
            line_ids=self.line_ids,
            tariff_code=self.tariff_code or "",
            connect=self.connect,
            disconnect=self.disconnect,
        )


class LineAvailabilityResponse(BaseModel):
    line_id: str
    msisdn: str
    allowed: bool
    reason: str | None = Field(
        description="when not allowed: LINE_TERMINATED, UNKNOWN_TARIFF, SERVICE_NOT_ALLOWED_ON_TARIFF, "
        "SERVICE_REQUIRES_ANOTHER, FINANCIALLY_BLOCKED"
    )
    message: str | None
    available_tariffs: list[str] = Field(description="the tariffs the line may move to as it is")
    available_options: list[str] = Field(description="the options the line may connect as it is")


class AvailabilityResponse(BaseModel):
    """Per line found in the caller's scope, the answer; the rest as not found (numbers or ids as asked)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "line_id": "01JD8X3K5V6W7Y8Z9A0B1C2D3E",
                            "msisdn": "+79990000101",
                            "allowed": False,
                            "reason": "SERVICE_NOT_ALLOWED_ON_TARIFF",
                            "message": "IOT-S does not allow voice, which the line has: disconnect it in the same "
                            "request",
                            "available_tariffs": ["BIZ-L", "BIZ-S"],
                            "available_options": ["roaming", "international"],
                        }
                    ],
                    "not_found": ["+79990000999"],
                }
            ]
        }
    )

    items: list[LineAvailabilityResponse]
    not_found: list[str] = Field(description="the numbers and ids asked that name no line in your scope")

    @classmethod
    def from_proto(cls, value: pb.CheckAvailabilityResponse) -> AvailabilityResponse:
        items, missing = [], []
        for line in value.lines:
            if line.reason == "LINE_NOT_FOUND":
                missing.append(line.msisdn or line.line_id)
                continue
            items.append(
                LineAvailabilityResponse(
                    line_id=line.line_id,
                    msisdn=line.msisdn,
                    allowed=line.allowed,
                    reason=line.reason or None,
                    message=line.message or None,
                    available_tariffs=list(line.available_tariffs),
                    available_options=list(line.available_options),
                )
            )
        return cls(items=items, not_found=missing)


class OptionResponse(BaseModel):
    code: ServiceName
    name: str
    monthly_fee: MoneyResponse = Field(description="on a tariff that does not include it; charged a day at a time")
    requires_any: list[str] = Field(description="one of these must be connected with it")


class TariffOptionsResponse(BaseModel):
    tariff_code: str
    allowed: list[str]
    included: list[str] = Field(description="the options the tariff's fee includes")


class OptionsResponse(BaseModel):
    """The options with their fees in the caller's customer's currency, and per tariff those it allows and those
    its fee includes."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "options": [
                        {
                            "code": "roaming",
                            "name": "Roaming",
                            "monthly_fee": {"amount": 4900, "currency": "RUB", "exponent": 2, "formatted": "RUB49.00"},
                            "requires_any": ["voice", "sms", "data"],
                        }
                    ],
                    "tariffs": [
                        {"tariff_code": "IOT-S", "allowed": ["sms", "data", "roaming"], "included": ["sms", "data"]}
                    ],
                    "currency": "RUB",
                }
            ]
        }
    )

    options: list[OptionResponse]
    tariffs: list[TariffOptionsResponse]
    currency: str = Field(
        description="ISO 4217: the currency the fees are in, your customer's (that of its personal accounts)",
        examples=["RUB"],
    )

    @classmethod
    def from_proto(cls, value: pb.ListOptionsResponse, locale: str) -> OptionsResponse:
        return cls(
            options=[
                OptionResponse(
                    code=o.code,
                    name=o.name,
                    monthly_fee=MoneyResponse.from_proto(o.monthly_fee, locale),
                    requires_any=list(o.requires_any),
                )
                for o in value.options
            ],
            tariffs=[
                TariffOptionsResponse(tariff_code=t.tariff_code, allowed=list(t.allowed), included=list(t.included))
                for t in value.tariffs
            ],
            currency=value.currency,
        )
