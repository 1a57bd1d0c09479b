"""/v1/packages: data package offers, purchases (once per key), history and receipts, from billing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.main import create_app
from gateway.upstream.billing import open_billing_channel
from gateway.upstream.identity import open_identity_channel
from simfleet.billing.v1 import ledger_pb2, packages_pb2, usage_pb2
from simfleet_runtime.errors import FailedPrecondition, NotFound

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}


def rub(amount: int) -> ledger_pb2.Money:
    return ledger_pb2.Money(amount=amount, currency="RUB", exponent=2)


def purchase(**changes: object) -> packages_pb2.PackagePurchase:
    fields: dict[str, object] = {
        "id": "pkg:abc",
        "offer_code": "DATA-1G",
        "offer_name": "Data 1 GiB, 30 days",
        "scope": packages_pb2.PACKAGE_SCOPE_LINE,
        "unit_price": rub(15_000),
        "quantity": 2,
        "amount": rub(30_000),
        "buyer_id": "u-1",
        "entry_ids": ["package:abc"],
        "created_at": Timestamp(seconds=1_796_100_000),
        "packages": [
            packages_pb2.DataPackage(id="p1", offer_code="DATA-1G", line_id="l1", msisdn="+79990000101", bytes=1 << 30)
        ],
    }
    fields.update(changes)
    return packages_pb2.PackagePurchase(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def billing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices(
        "billing",
        packages_pb2.DESCRIPTOR.services_by_name["PackageService"],
        usage_pb2.DESCRIPTOR.services_by_name["UsageService"],
    )
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def billing(billing_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    billing_server.reset()
    yield billing_server
    billing_server.reset()


@pytest.fixture
async def client(identity: ScriptedIdentity, billing: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(identity.target, billing_target=billing.target)
    identity_channel, billing_channel = open_identity_channel(settings), open_billing_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, billing_channel=billing_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await billing_channel.close()


async def test_offers_are_listed_with_formatted_prices(client, billing):
    billing.script(
        "ListOffers",
        packages_pb2.ListOffersResponse(
            offers=[
                packages_pb2.PackageOffer(
                    code="DATA-1G",
                    name="Data 1 GiB",
                    price=rub(15_000),
                    bytes=1 << 30,
                    validity_days=30,
                    scope=packages_pb2.PACKAGE_SCOPE_LINE,
                )
            ]
        ),
    )
    answer = await client.get("/v1/packages/offers", headers={**BEARER, "Accept-Language": "ru"})
    assert answer.status_code == 200, answer.text
    (offer,) = answer.json()["items"]
    assert (offer["code"], offer["scope"], offer["price"]["amount"]) == ("DATA-1G", "line", 15_000)
    assert "150,00" in offer["price"]["formatted"]
    assert (await client.get("/v1/packages/offers")).status_code == 401


async def test_a_purchase_and_its_replay(client, billing):
    billing.script(
        "Purchase",
        packages_pb2.PurchaseResponse(purchase=purchase()),
        packages_pb2.PurchaseResponse(purchase=purchase(), replayed=True),
    )
    body = {"offer_code": "DATA-1G", "msisdns": ["+79990000101", "+79990000102"], "receipt_email": "a@example.com"}
    headers = {**BEARER, "Idempotency-Key": "buy-1"}
    first = await client.post("/v1/packages/purchases", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == "/v1/packages/purchases/pkg:abc"
    assert first.json()["amount"]["amount"] == 30_000 and first.json()["packages"][0]["msisdn"] == "+79990000101"
    sent = billing.last("Purchase").request
    assert (list(sent.msisdns), sent.idempotency_key, sent.receipt_email, sent.node_id) == (
        ["+79990000101", "+79990000102"],
        "buy-1",
        "a@example.com",
        "",
    )
    again = await client.post("/v1/packages/purchases", json=body, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"

    before = len(billing.calls)
    for bad in ({**body, "offer_code": "data 1g"}, {**body, "extra": 1}, {**body, "msisdns": ["+7"] * 1001}, {}):
        refused = await client.post("/v1/packages/purchases", json=bad, headers=BEARER)
        assert refused.status_code == 422, (bad, refused.text)
    assert len(billing.calls) == before


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (FailedPrecondition("not enough money", reason="INSUFFICIENT_FUNDS"), 409),
        (NotFound("the line does not exist", reason="LINE_NOT_FOUND"), 404),
    ],
)
async def test_billings_refusals_of_a_purchase_are_problems(client, billing, problem, error, status):
    billing.script("Purchase", error)
    answer = await client.post(
        "/v1/packages/purchases", json={"offer_code": "DATA-1G", "msisdns": ["+79990000101"]}, headers=BEARER
    )
    problem(answer, status, error.reason)


async def test_history_one_purchase_and_its_receipt(client, billing):
    billing.script(
        "ListPurchases", packages_pb2.ListPurchasesResponse(purchases=[purchase(packages=[])], next_page_token="n")
    )
    listed = await client.get(
        "/v1/packages/purchases",
        params={"msisdn": "+79990000101", "created_from": "2026-12-01T00:00:00Z", "limit": 10},
        headers=BEARER,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["next_cursor"] == "n" and listed.json()["items"][0]["id"] == "pkg:abc"
    asked = billing.last("ListPurchases").request
    assert (asked.msisdn, asked.page_size, asked.created_from.seconds) == ("+79990000101", 10, 1_796_083_200)

    billing.script("GetPurchase", packages_pb2.GetPurchaseResponse(purchase=purchase()))
    one = await client.get("/v1/packages/purchases/pkg:abc", headers=BEARER)
    assert one.status_code == 200 and one.json()["packages"][0]["bytes"] == 1 << 30

    billing.script("GetReceipt", packages_pb2.GetReceiptResponse(text="SIMfleet - receipt\nAmount: 300.00 RUB\n"))
    receipt = await client.get("/v1/packages/purchases/pkg:abc/receipt", headers=BEARER)
    assert receipt.status_code == 200
    assert receipt.headers["content-type"].startswith("text/plain")
    assert "Amount: 300.00 RUB" in receipt.text

    billing.script("GetReceipt", NotFound("no such purchase", reason="PURCHASE_NOT_FOUND"))
    missing = await client.get("/v1/packages/purchases/pkg:other/receipt", headers=BEARER)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
