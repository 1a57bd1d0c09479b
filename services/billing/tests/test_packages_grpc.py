"""PackageService over a real channel: the buyer's token, the idempotency key, scope, and the line's usage."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from billing.lines.consumer import lines_changed_handler
from billing.packages.models import RECEIPTS
from simfleet.billing.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    ledger_pb2,
    packages_pb2,
    packages_pb2_grpc,
    usage_pb2,
    usage_pb2_grpc,
)
from simfleet.events.v1 import inventory_pb2
from simfleet_runtime.authz import Grant, grants_claim
from simfleet_runtime.bus import Event
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp

from .test_grpc_api import OPERATOR, READER, Running, failure, running, transfer  # type: ignore[import-not-found]

__all__ = ["running"]
BUYER = frozenset({"packages:buy", "billing:read"})


async def test_buying_a_package_over_grpc(running: Running) -> None:
    await running.tree()
    billing = running.billing
    now = billing.runtime.clock.now()
    async with make_channel(running.target) as channel:
        admin = admin_pb2_grpc.BillingAdminServiceStub(channel)
        packages = packages_pb2_grpc.PackageServiceStub(channel)
        usage = usage_pb2_grpc.UsageServiceStub(channel)
        personal = await admin.OpenAccount(
            admin_pb2.OpenAccountRequest(
                kind=ledger_pb2.ACCOUNT_KIND_PERSONAL,
                customer_id=running.customer_id,
                personal_account_id=running.personal,
                currency="RUB",
            ),
            metadata=OPERATOR,
        )
        clearing = await admin.OpenAccount(
            admin_pb2.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_PAYMENTS_CLEARING, currency="RUB"),
            metadata=OPERATOR,
        )
        await admin.PostEntry(transfer("fund-1", clearing.account.id, personal.account.id, 20_000), metadata=OPERATOR)
        line_id = new_id()
        change = inventory_pb2.LineChanged(
            line_id=line_id,
            customer_id=running.customer_id,
            msisdn="+79990000042",
            node_id=running.personal,
            personal_account_id=running.personal,
            tariff_code="BIZ-S",
            state="active",
            occurred_at=timestamp(now - timedelta(hours=1)),
        )
        async with billing.runtime.db.transaction() as session:
            data = inventory_pb2.LinesChanged(lines=[change]).SerializeToString()
            await lines_changed_handler(billing.runtime.clock)(
                session, Event(new_id(), "simfleet.inventory.lines.changed", data, {}, "", 1)
            )

        token = running.ring.token(
            "k1",
            cid=running.customer_id,
            grants=grants_claim([Grant(running.branch, BUYER, "manager")]),
            email="Buyer@Example.com",
        )
        buyer = (("authorization", f"Bearer {token}"),)
        offers = await packages.ListOffers(packages_pb2.ListOffersRequest(), metadata=buyer)
        assert {o.code for o in offers.offers} >= {"DATA-1G", "GROUP-50G"}
        request = packages_pb2.PurchaseRequest(offer_code="DATA-1G", msisdns=["+79990000042"], idempotency_key="k")
        first = await packages.Purchase(request, metadata=buyer)
        again = await packages.Purchase(request, metadata=buyer)
        assert (first.replayed, again.replayed, again.purchase.id) == (False, True, first.purchase.id)
        assert first.purchase.receipt_email == "buyer@example.com"  # the token's address when none is given
        assert first.purchase.amount.amount == 15_000 and len(first.purchase.packages) == 1
        async with billing.runtime.db.sessions() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(RECEIPTS)) == 1

        # Not enough money left for a second one: 409-to-be, nothing bought.
        code, reason, _ = await failure(
            packages.Purchase(
                packages_pb2.PurchaseRequest(offer_code="DATA-1G", msisdns=["+79990000042"], idempotency_key="k2"),
                metadata=buyer,
            )
        )
        assert (code.name, reason) == ("FAILED_PRECONDITION", "INSUFFICIENT_FUNDS")
        # A reader may not buy; outside the scope the line is not there.
        reader = running.bearer(Grant(running.branch, READER, "viewer"))
        code, reason, _ = await failure(packages.Purchase(request, metadata=reader))
        assert (code.name, reason) == ("PERMISSION_DENIED", "PERMISSION_MISSING")
        elsewhere = running.bearer(Grant(running.elsewhere, BUYER, "manager"))
        code, reason, _ = await failure(packages.Purchase(request, metadata=elsewhere))
        assert (code.name, reason) == ("NOT_FOUND", "LINE_NOT_FOUND")
        code, reason, _ = await failure(
            packages.GetPurchase(packages_pb2.GetPurchaseRequest(purchase_id=first.purchase.id), metadata=elsewhere)
        )
        assert (code.name, reason) == ("NOT_FOUND", "PURCHASE_NOT_FOUND")

        got = await packages.GetPurchase(
            packages_pb2.GetPurchaseRequest(purchase_id=first.purchase.id), metadata=reader
        )
        assert got.purchase.packages[0].msisdn == "+79990000042"
        listed = await packages.ListPurchases(packages_pb2.ListPurchasesRequest(msisdn="+79990000042"), metadata=reader)
        assert [p.id for p in listed.purchases] == [first.purchase.id]
        receipt = await packages.GetReceipt(
            packages_pb2.GetReceiptRequest(purchase_id=first.purchase.id), metadata=reader
        )
        assert "Amount: 150.00 RUB" in receipt.text and "+79990000042" in receipt.text

        line = await usage.GetLineUsage(usage_pb2.GetLineUsageRequest(line_id=line_id), metadata=reader)
        (left,) = line.packages
        assert (left.offer_code, left.scope, left.remaining) == ("DATA-1G", "line", 1 << 30)
