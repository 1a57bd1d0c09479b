"""simfleet.billing.v1.PackageService: data packages for the customer's lines and groups (BI-7, BI-8).

Buying needs ``packages:buy`` over every line's node (a group package: over
its node and the paying personal account), reading ``billing:read``; anything
outside the caller's scope is NOT_FOUND (see :mod:`billing.packages.service`).
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.catalogue.packages import GROUP, OFFERS, PackageOffer
from billing.catalogue.price_lists import BASE_CURRENCY, offer_in
from billing.ledger.service import LedgerService
from billing.packages.models import DataPackage, PackagePurchase
from billing.packages.service import ActivePackage, PackageService, PurchaseFilter, PurchaseRequest, receipt_text
from simfleet.billing.v1 import packages_pb2 as pb
from simfleet.billing.v1 import packages_pb2_grpc, usage_pb2
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.timestamps import timestamp, to_datetime
from simfleet_runtime.validation import is_e164

SERVICE_NAME = "simfleet.billing.v1.PackageService"
IDEMPOTENCY_KEY_MAX = 128
SCOPES = {"line": pb.PACKAGE_SCOPE_LINE, GROUP: pb.PACKAGE_SCOPE_GROUP}


def offer_pb(value: PackageOffer) -> pb.PackageOffer:
    return pb.PackageOffer(
        code=value.code,
        name=value.name,
        price=convert.amount(value.price, value.currency),
        bytes=value.bytes,
        validity_days=value.validity_days,
        scope=SCOPES[value.scope],
    )


def package_pb(value: DataPackage) -> pb.DataPackage:
    return pb.DataPackage(
        id=value.id,
        offer_code=value.offer_code,
        line_id=value.line_id,
        msisdn=value.msisdn,
        node_id=value.node_id,
        bytes=value.bytes,
        used=value.used,
        starts_at=timestamp(value.starts_at),
        expires_at=timestamp(value.expires_at),
    )


def purchase_pb(value: PackagePurchase, packages: list[DataPackage] | None = None) -> pb.PackagePurchase:
    return pb.PackagePurchase(
        id=value.id,
        offer_code=value.offer_code,
        offer_name=value.offer_name,
        scope=SCOPES.get(value.scope, pb.PACKAGE_SCOPE_UNSPECIFIED),
        node_id=value.node_id,
        personal_account_id=value.personal_account_id,
        unit_price=convert.amount(value.unit_price, value.currency),
        quantity=value.quantity,
        amount=convert.amount(value.amount, value.currency),
        buyer_id=value.buyer_id,
        receipt_email=value.receipt_email,
        entry_ids=list(value.entry_ids),
        created_at=timestamp(value.created_at),
        packages=[package_pb(p) for p in packages or []],
    )


def package_left_pb(value: ActivePackage) -> usage_pb2.PackageLeft:
    return usage_pb2.PackageLeft(
        package_id=value.id,
        offer_code=value.offer_code,
        scope=value.scope,
        bytes=value.bytes,
        used=value.used,
        remaining=value.left,
        expires_at=timestamp(value.expires_at),
    )


class PackageApi(packages_pb2_grpc.PackageServiceServicer):
    def __init__(
        self,
        *,
        packages: PackageService,
        authorizer: Authorizer,
        ledger: LedgerService | None = None,
        default_currency: str = BASE_CURRENCY,
    ) -> None:
        self._packages = packages
        self._authz = authorizer
        self._ledger = ledger
        self._default_currency = default_currency

    async def ListOffers(self, request: pb.ListOffersRequest, context: Any) -> pb.ListOffersResponse:
        """The offers priced in the caller's customer's currency (as a purchase charges them); as stored in roubles
        for a currency without a price list, which cannot buy them."""
        access = await self._authz.access()
        found = await self._ledger.customer_currency(access.customer_id) if self._ledger is not None else None
        currency = found or self._default_currency
        return pb.ListOffersResponse(offers=[offer_pb(offer_in(o, currency) or o) for o in OFFERS])

    async def Purchase(self, request: pb.PurchaseRequest, context: Any) -> pb.PurchaseResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        access = await self._authz.access()
        email = access.principal.claims.get("email")
        bought = await self._packages.purchase(
            access,
            PurchaseRequest(
                offer_code=request.offer_code,
                msisdns=list(request.msisdns),
                node_id=request.node_id,
                personal_account_id=request.personal_account_id,
                receipt_email=request.receipt_email,
            ),
            key=key,
            default_email=email if isinstance(email, str) else "",
        )
        return pb.PurchaseResponse(purchase=purchase_pb(bought.purchase, bought.packages), replayed=bought.replayed)

    async def GetPurchase(self, request: pb.GetPurchaseRequest, context: Any) -> pb.GetPurchaseResponse:
        access = await self._authz.access()
        found = await self._packages.get(access, request.purchase_id)
        return pb.GetPurchaseResponse(purchase=purchase_pb(found.purchase, found.packages))

    async def ListPurchases(self, request: pb.ListPurchasesRequest, context: Any) -> pb.ListPurchasesResponse:
        access = await self._authz.access()
        if request.msisdn and not is_e164(request.msisdn):
            raise InvalidArgument(
                "the filter is not valid",
                reason="INVALID_FILTER",
                field_violations={"msisdn": "an E.164 number"},
            )
        flt = PurchaseFilter(
            created_from=to_datetime(request.created_from) if request.HasField("created_from") else None,
            created_before=to_datetime(request.created_before) if request.HasField("created_before") else None,
            msisdn=request.msisdn,
        )
        found, token = await self._packages.history(
            access, flt, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListPurchasesResponse(purchases=[purchase_pb(p) for p in found], next_page_token=token)

    async def GetReceipt(self, request: pb.GetReceiptRequest, context: Any) -> pb.GetReceiptResponse:
        access = await self._authz.access()
        found = await self._packages.get(access, request.purchase_id)
        return pb.GetReceiptResponse(text=receipt_text(found.purchase, found.packages))
