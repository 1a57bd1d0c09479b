"""Bodies of /v1/packages: the data package offers, purchases and their history (BI-7, BI-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from gateway.billing.money import MoneyResponse
from gateway.lines.schemas import optional_timestamp
from simfleet.billing.v1 import packages_pb2 as pb

ScopeName = Literal["line", "group"]
_SCOPES: dict[int, ScopeName] = {pb.PACKAGE_SCOPE_LINE: "line", pb.PACKAGE_SCOPE_GROUP: "group"}
OfferCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,32}$")]
NodeId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
Msisdn = Annotated[str, StringConstraints(min_length=1, max_length=32)]

_MONEY: dict[str, JsonValue] = {"amount": 15000, "currency": "RUB", "exponent": 2, "formatted": "RUB150.00"}
_OFFER_EXAMPLE: dict[str, JsonValue] = {
    "code": "DATA-1G",
    "name": "Data 1 GiB, 30 days",
    "price": _MONEY,
    "bytes": 1073741824,
    "validity_days": 30,
    "scope": "line",
}
_PACKAGE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA0Z6X3W8T9R2Q1P0N5M4K7E",
    "offer_code": "DATA-1G",
    "line_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7F",
    "msisdn": "+79990000101",
    "node_id": None,
    "bytes": 1073741824,
    "used": 0,
    "starts_at": "2026-12-07T10:00:00Z",
    "expires_at": "2027-01-06T10:00:00Z",
}
_PURCHASE_EXAMPLE: dict[str, JsonValue] = {
    "id": "pkg:5f1c0b7e9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d",
    "offer_code": "DATA-1G",
    "offer_name": "Data 1 GiB, 30 days",
    "scope": "line",
    "node_id": None,
    "personal_account_id": None,
    "unit_price": _MONEY,
    "quantity": 1,
    "amount": _MONEY,
    "buyer_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
    "receipt_email": "manager@example.com",
    "entry_ids": ["package:9d3a4c2b8e6f1a0d9c8b7a6e5f4d3c2b1a0f9e8d5f1c0b7e"],
    "created_at": "2026-12-07T10:00:00Z",
    "packages": [_PACKAGE_EXAMPLE],
}


class OfferResponse(BaseModel):
    """A data package on sale: per line, or a pool for all the lines under a node (group)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_OFFER_EXAMPLE]})

    code: str
    name: str
    price: MoneyResponse = Field(description="per line for a line package; per group for a group package")
    bytes: int = Field(description="home data included")
    validity_days: int = Field(description="from the purchase")
    scope: ScopeName

    @classmethod
    def from_proto(cls, value: pb.PackageOffer, locale: str) -> OfferResponse:
        return cls(
            code=value.code,
            name=value.name,
            price=MoneyResponse.from_proto(value.price, locale),
            bytes=value.bytes,
            validity_days=value.validity_days,
            scope=_SCOPES.get(value.scope, "line"),
        )


class OffersResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_OFFER_EXAMPLE]}]})

    items: list[OfferResponse]


class PackageResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PACKAGE_EXAMPLE]})

    id: str
    offer_code: str
    line_id: str | None = Field(description="a line package's line; null for a group package")
    msisdn: str | None
    node_id: str | None = Field(description="a group package's node; null for a line package")
    bytes: int
    used: int
    starts_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def from_proto(cls, value: pb.DataPackage) -> PackageResponse:
        return cls(
            id=value.id,
            offer_code=value.offer_code,
            line_id=value.line_id or None,
            msisdn=value.msisdn or None,
            node_id=value.node_id or None,
            bytes=value.bytes,
            used=value.used,
            starts_at=optional_timestamp(value, "starts_at"),
            expires_at=optional_timestamp(value, "expires_at"),
        )


class PurchaseResponse(BaseModel):
    """A purchase of data packages: what was bought, for which lines or node, and what it cost."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PURCHASE_EXAMPLE]})

    id: str = Field(description="also the receipt's number")
    offer_code: str
    offer_name: str
    scope: ScopeName
    node_id: str | None = Field(description="a group package's node")
    personal_account_id: str | None = Field(description="the personal account that paid a group package")
    unit_price: MoneyResponse
    quantity: int = Field(description="packages bought: the lines, or 1 for a group")
    amount: MoneyResponse
    buyer_id: str
    receipt_email: str | None = Field(description="where the receipt is emailed; null when no address was known")
    entry_ids: list[str] = Field(description="the journal entries that charged it")
    created_at: datetime | None
    packages: list[PackageResponse] = Field(description="empty in lists: read the purchase for its packages")

    @classmethod
    def from_proto(cls, value: pb.PackagePurchase, locale: str) -> PurchaseResponse:
        return cls(
            id=value.id,
            offer_code=value.offer_code,
            offer_name=value.offer_name,
            scope=_SCOPES.get(value.scope, "line"),
            node_id=value.node_id or None,
            personal_account_id=value.personal_account_id or None,
            unit_price=MoneyResponse.from_proto(value.unit_price, locale),
            quantity=value.quantity,
            amount=MoneyResponse.from_proto(value.amount, locale),
            buyer_id=value.buyer_id,
            receipt_email=value.receipt_email or None,
            entry_ids=list(value.entry_ids),
            created_at=optional_timestamp(value, "created_at"),
            packages=[PackageResponse.from_proto(p) for p in value.packages],
        )


class GroupPurchase(BaseModel):
    """A group package: the node whose lines share it (sub-nodes included) and the personal account that pays."""

    model_config = ConfigDict(extra="forbid")

    node_id: NodeId = Field(description="the node whose lines share the package")
    personal_account_id: NodeId = Field(description="the personal account that pays")


class PurchaseRequest(BaseModel):
    """Buy an offer for 1 to 1,000 lines (``msisdns``: a line package each), or for a group (``group``: one
    package its lines share); exactly one of the two."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"offer_code": "DATA-1G", "msisdns": ["+79990000101", "+79990000102"]},
                {
                    "offer_code": "GROUP-50G",
                    "group": {
                        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
                        "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
                    },
                    "receipt_email": "finance@example.com",
                },
            ],
            # Said as an extension, as for operations' lines: client generators drop a model with an object-level
            # oneOf of required members.
            "x-exactly-one-of": ["msisdns", "group"],
        },
    )

    offer_code: OfferCode
    msisdns: list[Msisdn] | None = Field(
        None, min_length=1, max_length=1000, description="a line package: the lines' numbers (E.164), each once"
    )
    group: GroupPurchase | None = Field(None, description="a group package: its node and who pays")
    receipt_email: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        None,
        description="where the receipt goes; when omitted, the buyer's own address if their token names one, "
        "otherwise no email is sent (the receipt can always be read)",
    )

    def to_proto(self, key: str | None) -> pb.PurchaseRequest:
        return pb.PurchaseRequest(
            offer_code=self.offer_code,
            msisdns=self.msisdns or [],
            node_id=self.group.node_id if self.group else "",
            personal_account_id=self.group.personal_account_id if self.group else "",
            receipt_email=self.receipt_email or "",
            idempotency_key=key or "",
        )


class PurchasesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [{**_PURCHASE_EXAMPLE, "packages": []}], "next_cursor": "eyJrIjpbMV19"}]
        }
    )

    items: list[PurchaseResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")
