"""/v1/personal-accounts/{id}: balances, movements and bill delivery, from billing, in the caller's language."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.billing.money import locale_of
from gateway.main import create_app
from gateway.upstream.billing import open_billing_channel
from gateway.upstream.identity import open_identity_channel
from simfleet.billing.v1 import catalogue_pb2, payments_pb2, promised_pb2, settlement_pb2, usage_pb2
from simfleet.billing.v1 import ledger_pb2 as pb
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}
ACCOUNT = "01JA0Z6X3W8T9R2Q1P0N5M4K7C"


def rub(amount: int) -> pb.Money:
    return pb.Money(amount=amount, currency="RUB", exponent=2)


def ledger_account(**changes: object) -> pb.LedgerAccount:
    fields: dict[str, object] = {
        "id": "01JB0000000000000000000001",
        "kind": pb.ACCOUNT_KIND_PERSONAL,
        "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
        "personal_account_id": ACCOUNT,
        "currency": "RUB",
        "balance": rub(-123450),
        "debits_pending": rub(5000),
        "credits_pending": rub(0),
        "available": rub(371550),
        "floor": rub(-500000),
        "settlement_method": pb.SETTLEMENT_METHOD_POSTPAID,
        "credit_limit": rub(500000),
        "bill_email": "accounts@demo.example",
        "updated_at": Timestamp(seconds=1_768_469_400),
    }
    fields.update(changes)
    return pb.LedgerAccount(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def billing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices(
        "billing",
        pb.DESCRIPTOR.services_by_name["LedgerService"],
        usage_pb2.DESCRIPTOR.services_by_name["UsageService"],
        payments_pb2.DESCRIPTOR.services_by_name["PaymentService"],
        promised_pb2.DESCRIPTOR.services_by_name["PromisedPaymentService"],
        settlement_pb2.DESCRIPTOR.services_by_name["SettlementMethodService"],
        catalogue_pb2.DESCRIPTOR.services_by_name["CatalogueService"],
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


async def test_a_balance_is_billings_answer_in_minor_units_and_written_in_the_callers_language(client, billing):
    billing.script("GetBalance", *[pb.GetBalanceResponse(account=ledger_account())] * 2)

    english = await client.get(f"/v1/personal-accounts/{ACCOUNT}/balance", headers=BEARER)
    russian = await client.get(
        f"/v1/personal-accounts/{ACCOUNT}/balance", headers={**BEARER, "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    )

    assert english.status_code == 200, english.text
    body = english.json()
    assert body["balance"] == {"amount": -123450, "currency": "RUB", "exponent": 2, "formatted": "-RUB1,234.50"}
    assert (body["reserved"]["amount"], body["available"]["amount"], body["floor"]["amount"]) == (5000, 371550, -500000)
    assert (body["settlement_method"], body["credit_limit"]["amount"]) == ("postpaid", 500000)
    assert (body["personal_account_id"], body["bill_email"], body["scheduled_change"]) == (
        ACCOUNT,
        "accounts@demo.example",
        None,
    )
    assert body["updated_at"] == "2026-01-15T09:30:00Z"
    assert russian.json()["balance"]["formatted"] == "-1\u00a0234,50\u00a0₽"
    assert billing.last("GetBalance").request.personal_account_id == ACCOUNT
    assert billing.last("GetBalance").metadata["authorization"] == BEARER["Authorization"]
    assert english.headers["cache-control"] == "no-store"


async def test_an_account_without_a_floor_or_with_a_change_ahead_says_so(client, billing):
    change = pb.SettlementChange(
        method=pb.SETTLEMENT_METHOD_PREPAID, credit_limit=rub(0), effective_at=Timestamp(seconds=1_768_564_800)
    )
    account = ledger_account(scheduled_change=change)
    account.ClearField("floor")
    account.ClearField("available")
    billing.script("GetBalance", pb.GetBalanceResponse(account=account))

    body = (await client.get(f"/v1/personal-accounts/{ACCOUNT}/balance", headers=BEARER)).json()

    assert (body["floor"], body["available"]) == (None, None)
    assert body["scheduled_change"] == {
        "settlement_method": "prepaid",
        "credit_limit": {"amount": 0, "currency": "RUB", "exponent": 2, "formatted": "RUB0.00"},
        "effective_at": "2026-01-16T12:00:00Z",
    }


async def test_movements_come_a_page_at_a_time_in_the_asked_order(client, billing):
    posting = pb.Posting(
        entry_id="payment:1",
        kind="payment",
        description="top-up",
        amount=rub(100000),
        balance_after=rub(100000),
        sequence=1,
        posted_at=Timestamp(seconds=1_768_469_400),
    )
    billing.script("ListPostings", pb.ListPostingsResponse(postings=[posting], next_page_token="p2"))

    response = await client.get(
        f"/v1/personal-accounts/{ACCOUNT}/postings",
        params={"sort": "sequence", "limit": 10, "cursor": "p1"},
        headers={**BEARER, "Accept-Language": "fa"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] == "p2"
    (item,) = body["items"]
    assert (item["entry_id"], item["kind"], item["amount"]["amount"], item["sequence"]) == (
        "payment:1",
        "payment",
        100000,
        1,
    )
    assert item["amount"]["formatted"] != "RUB1,000.00"  # Persian
    request = billing.last("ListPostings").request
    assert (request.personal_account_id, request.order_by, request.page_size, request.page_token) == (
        ACCOUNT,
        "sequence",
        10,
        "p1",
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/postings", {"sort": "amount"}),
        ("/postings", {"limit": 0}),
        ("/postings", {"limit": 1001}),
        ("/postings", {"cursor": ""}),
    ],
)
async def test_a_bad_query_is_refused_before_billing_is_asked(client, billing, problem, path, params):
    response = await client.get(f"/v1/personal-accounts/{ACCOUNT}{path}", params=params, headers=BEARER)
    problem(response, 422, "VALIDATION_FAILED")
    assert billing.calls == []


async def test_without_a_token_nothing_is_asked(client, billing, problem):
    response = await client.get(f"/v1/personal-accounts/{ACCOUNT}/balance")
    problem(response, 401, "UNAUTHENTICATED")
    assert billing.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("no such personal account", reason="PERSONAL_ACCOUNT_NOT_FOUND"), 404),
        (PermissionDenied("needs billing:pay", reason="PERMISSION_MISSING"), 403),
        (InvalidArgument("bad email", reason="INVALID_EMAIL", field_violations={"email": "not an address"}), 422),
    ],
)
async def test_billings_refusals_are_problems(client, billing, problem, error, status):
    billing.script("SetBillDelivery", error)

    response = await client.put(
        f"/v1/personal-accounts/{ACCOUNT}/bill-delivery", json={"email": "x@y.example"}, headers=BEARER
    )

    problem(response, status, error.reason)


async def test_bill_delivery_is_set_or_stopped(client, billing):
    billing.script(
        "SetBillDelivery",
        pb.SetBillDeliveryResponse(account=ledger_account(bill_email="new@demo.example")),
        pb.SetBillDeliveryResponse(account=ledger_account(bill_email="")),
    )

    first = await client.put(
        f"/v1/personal-accounts/{ACCOUNT}/bill-delivery", json={"email": "new@demo.example"}, headers=BEARER
    )
    second = await client.put(f"/v1/personal-accounts/{ACCOUNT}/bill-delivery", json={"email": None}, headers=BEARER)
    unknown = await client.put(
        f"/v1/personal-accounts/{ACCOUNT}/bill-delivery", json={"email": "a@b.example", "cc": "x"}, headers=BEARER
    )

    assert (first.json()["bill_email"], second.json()["bill_email"]) == ("new@demo.example", None)
    assert [c.request.email for c in billing.calls] == ["new@demo.example", ""]
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "en"), ("ru", "ru"), ("fa-IR", "fa"), ("de-DE, ru;q=0.5", "ru"), ("ru;q=0, en", "en"), ("x;q=z", "en")],
)
def test_the_language_of_amounts_is_the_best_one_asked_for_that_simfleet_speaks(header, language):
    assert locale_of(header) == language


def transfer_answer(replayed: bool = False) -> pb.TransferResponse:
    return pb.TransferResponse(
        entry_id="transfer:abc",
        from_account=ledger_account(balance=rub(30_000)),
        to_account=ledger_account(personal_account_id="01JA0Z6X3W8T9R2Q1P0N5M4K7D", balance=rub(20_000)),
        amount=rub(20_000),
        description="to the branch",
        posted_at=Timestamp(seconds=1_768_469_400),
        replayed=replayed,
    )


TRANSFER = {"to_personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7D", "amount": 20000, "currency": "RUB"}


async def test_a_transfer_moves_money_once_per_key(client, billing):
    billing.script("Transfer", transfer_answer(), transfer_answer(replayed=True))
    headers = {**BEARER, "Idempotency-Key": "move-1"}

    first = await client.post(f"/v1/personal-accounts/{ACCOUNT}/transfers", json=TRANSFER, headers=headers)
    again = await client.post(f"/v1/personal-accounts/{ACCOUNT}/transfers", json=TRANSFER, headers=headers)

    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["id"], body["amount"]["amount"], body["description"]) == ("transfer:abc", 20000, "to the branch")
    assert (body["from"]["balance"]["amount"], body["to"]["balance"]["amount"]) == (30000, 20000)
    assert "idempotent-replayed" not in first.headers
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    request = billing.last("Transfer").request
    assert (request.from_personal_account_id, request.to_personal_account_id) == (
        ACCOUNT,
        TRANSFER["to_personal_account_id"],
    )
    assert (request.amount, request.currency, request.idempotency_key) == (20000, "RUB", "move-1")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1}, "amount"),
        ({"amount": "20000"}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"amount": 10**15 + 1}, "amount"),
        ({"currency": "rub"}, "currency"),
        ({"to_personal_account_id": ""}, "to_personal_account_id"),
        ({"description": "x" * 201}, "description"),
        ({"cc": "me"}, "cc"),
    ],
)
async def test_a_bad_transfer_is_refused_before_billing_is_asked(client, billing, problem, change, field):
    response = await client.post(
        f"/v1/personal-accounts/{ACCOUNT}/transfers", json={**TRANSFER, **change}, headers=BEARER
    )
    body = problem(response, 422, "VALIDATION_FAILED")
    assert field in {e["field"] for e in body["errors"]}
    assert billing.calls == []


@pytest.mark.parametrize(
    ("error", "status", "fields"),
    [
        (FailedPrecondition("not enough money", reason="INSUFFICIENT_FUNDS"), 409, set()),
        (NotFound("no such personal account", reason="PERSONAL_ACCOUNT_NOT_FOUND"), 404, set()),
        (
            InvalidArgument(
                "the key was used for another transfer",
                reason="IDEMPOTENCY_KEY_REUSED",
                field_violations={"idempotency_key": "used before with another body"},
            ),
            422,
            {"Idempotency-Key"},
        ),
        (
            InvalidArgument("same", reason="SAME_ACCOUNT", field_violations={"from_personal_account_id": "x"}),
            422,
            {"personal_account_id"},
        ),
    ],
)
async def test_billings_refusals_of_a_transfer_name_the_requests_fields(
    client, billing, problem, error, status, fields
):
    billing.script("Transfer", error)
    response = await client.post(
        f"/v1/personal-accounts/{ACCOUNT}/transfers", json=TRANSFER, headers={**BEARER, "Idempotency-Key": "k"}
    )
    body = problem(response, status, error.reason)
    assert {e["field"] for e in body.get("errors", [])} == fields


def line_usage() -> usage_pb2.GetLineUsageResponse:
    return usage_pb2.GetLineUsageResponse(
        line_id="01JA0Z6X3W8T9R2Q1P0N5M4K7E",
        msisdn="+79990000101",
        personal_account_id=ACCOUNT,
        tariff_code="BIZ-S",
        period="2026-12",
        period_start=Timestamp(seconds=1_796_083_200),
        period_end=Timestamp(seconds=1_798_761_600),
        account=ledger_account(),
        totals=[
            usage_pb2.UsageTotal(
                kind=usage_pb2.USAGE_KIND_VOICE, records=2, quantity=130, units=3, included_units=3, charged=rub(0)
            ),
            usage_pb2.UsageTotal(kind=usage_pb2.USAGE_KIND_SMS, records=1, quantity=1, units=1, charged=rub(900)),
        ],
        allowances=[
            usage_pb2.AllowanceLeft(kind=usage_pb2.USAGE_KIND_VOICE, unit="minute", included=300, used=3, remaining=297)
        ],
        last_records=[
            usage_pb2.RatedUsage(
                record_id="r-1",
                kind=usage_pb2.USAGE_KIND_SMS,
                zone="international",
                destination="+4930123456",
                started_at=Timestamp(seconds=1_796_100_000),
                quantity=1,
                units=1,
                charged=rub(900),
                outcome=usage_pb2.RATING_OUTCOME_RATED,
                tariff_code="BIZ-S",
            )
        ],
        charged=rub(900),
    )


async def test_a_lines_usage_is_asked_by_number_and_answered_in_the_callers_language(client, billing):
    billing.script("GetLineUsage", line_usage())
    answer = await client.get("/v1/lines/%2B79990000101/usage", headers={**BEARER, "Accept-Language": "ru"})
    assert answer.status_code == 200, answer.text
    assert billing.last("GetLineUsage").request == usage_pb2.GetLineUsageRequest(msisdn="+79990000101")
    body = answer.json()
    assert (body["msisdn"], body["tariff_code"], body["period"]) == ("+79990000101", "BIZ-S", "2026-12")
    assert body["account"]["balance"]["amount"] == -123450
    assert body["charged"]["amount"] == 900 and "9,00" in body["charged"]["formatted"]
    assert [u["kind"] for u in body["usage"]] == ["voice", "sms"]
    assert body["allowances"] == [{"kind": "voice", "unit": "minute", "included": 300, "used": 3, "remaining": 297}]
    (record,) = body["last_records"]
    assert (record["outcome"], record["reason"], record["roaming_country"]) == ("rated", None, None)

    billing.script("GetLineUsage", NotFound("no such line", reason="NOT_FOUND"))
    missing = await client.get("/v1/lines/%2B79990000102/usage", headers=BEARER)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    before = len(billing.calls)
    for forged in ("79990000101", "%2B7abc", "%2B" + "1" * 20):
        refused = await client.get(f"/v1/lines/{forged}/usage", headers=BEARER)
        assert refused.status_code in (404, 422), (forged, refused.status_code)
    assert len(billing.calls) == before  # forged numbers never reach billing
    assert (await client.get("/v1/lines/%2B79990000101/usage")).status_code == 401


async def test_the_tariff_catalogue(client, billing):
    billing.script(
        "GetPriceList",
        catalogue_pb2.GetPriceListResponse(
            currency="RUB",
            tariffs=[
                usage_pb2.Tariff(
                    code="BIZ-S",
                    name="Business S",
                    version=1,
                    monthly_fee=rub(45000),
                    allowances=[usage_pb2.AllowanceLeft(kind=usage_pb2.USAGE_KIND_DATA, unit="byte", included=5 << 30)],
                    home_prices=[usage_pb2.UnitPrice(kind=usage_pb2.USAGE_KIND_DATA, zone="", price=rub(50))],
                    roaming_prices=[
                        usage_pb2.UnitPrice(kind=usage_pb2.USAGE_KIND_DATA, zone="europe", price=rub(29900))
                    ],
                )
            ],
            roaming_groups=[usage_pb2.RoamingGroup(name="europe", countries=["FR"])],
        ),
    )
    answer = await client.get("/v1/tariffs", headers=BEARER)
    assert answer.status_code == 200, answer.text
    (tariff,) = answer.json()["tariffs"]
    assert tariff["included"] == [{"kind": "data", "unit": "byte", "included": 5 << 30}]
    assert tariff["roaming_prices"][0]["zone"] == "europe" and tariff["monthly_fee"]["amount"] == 45000
    assert answer.json()["roaming_groups"] == [{"name": "europe", "countries": ["FR"]}]
    assert answer.json()["currency"] == "RUB"
    # Asked of billing's catalogue with the caller's token: billing finds the customer and its currency.
    assert billing.last("GetPriceList").metadata["authorization"] == BEARER["Authorization"]


async def test_the_tariff_catalogue_in_a_customers_rials_is_written_in_the_callers_language(client, billing):
    """billing answers a rials customer in IRR (no minor unit); the gateway keeps the integers and writes them
    for the caller's language."""
    rials = pb.Money(amount=225_000, currency="IRR", exponent=0)
    billing.script(
        "GetPriceList",
        *[
            catalogue_pb2.GetPriceListResponse(
                currency="IRR",
                tariffs=[
                    usage_pb2.Tariff(
                        code="BIZ-S",
                        name="Business S",
                        version=1,
                        monthly_fee=rials,
                        home_prices=[
                            usage_pb2.UnitPrice(
                                kind=usage_pb2.USAGE_KIND_SMS,
                                zone="national",
                                price=pb.Money(amount=1_250, currency="IRR", exponent=0),
                            )
                        ],
                    )
                ],
            )
        ]
        * 2,
    )
    english = (await client.get("/v1/tariffs", headers={**BEARER, "Accept-Language": "en"})).json()
    (tariff,) = english["tariffs"]
    assert english["currency"] == "IRR"
    assert tariff["monthly_fee"] == {"amount": 225_000, "currency": "IRR", "exponent": 0, "formatted": "IRR225,000"}
    assert tariff["home_prices"][0]["price"]["formatted"] == "IRR1,250"
    persian = (await client.get("/v1/tariffs", headers={**BEARER, "Accept-Language": "fa"})).json()
    fee = persian["tariffs"][0]["monthly_fee"]
    in_persian = "\u200e\u0631\u06cc\u0627\u0644\xa0225\u066c000"  # the rial's Persian name, then 225,000
    assert (fee["amount"], fee["currency"], fee["formatted"]) == (225_000, "IRR", in_persian)


def payment(**changes: object) -> payments_pb2.Payment:
    fields: dict[str, object] = {
        "id": "pay:abc",
        "personal_account_id": ACCOUNT,
        "kind": payments_pb2.PAYMENT_KIND_CARD,
        "state": payments_pb2.PAYMENT_STATE_CREDITED,
        "amount": rub(150_000),
        "card_token": "tok_visa",
        "entry_id": "payment:abc",
        "created_at": Timestamp(seconds=1_796_100_000),
    }
    fields.update(changes)
    return payments_pb2.Payment(**fields)  # type: ignore[arg-type]


async def test_a_top_up_by_card_and_its_replay(client, billing):
    billing.script(
        "Pay",
        payments_pb2.PayResponse(payment=payment(), account=ledger_account()),
        payments_pb2.PayResponse(payment=payment(), account=ledger_account(), replayed=True),
    )
    body = {"amount": 150_000, "currency": "RUB", "card_token": "tok_visa"}
    headers = {**BEARER, "Idempotency-Key": "top-up-1"}
    first = await client.post(f"/v1/personal-accounts/{ACCOUNT}/payments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["payment"]["state"] == "credited" and first.json()["account"]["currency"] == "RUB"
    assert first.headers["location"] == f"/v1/personal-accounts/{ACCOUNT}/payments/pay:abc"
    sent = billing.last("Pay").request
    assert (sent.personal_account_id, sent.amount, sent.card_token, sent.idempotency_key) == (
        ACCOUNT,
        150_000,
        "tok_visa",
        "top-up-1",
    )
    again = await client.post(f"/v1/personal-accounts/{ACCOUNT}/payments", json=body, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"

    before = len(billing.calls)
    for bad in (
        {**body, "amount": 0},
        {**body, "amount": "100"},
        {**body, "amount": 1.5},
        {**body, "currency": "rub"},
        {**body, "card_token": "4111 1111 1111 1111"},
        {**body, "extra": 1},
    ):
        refused = await client.post(f"/v1/personal-accounts/{ACCOUNT}/payments", json=bad, headers=BEARER)
        assert refused.status_code == 422, (bad, refused.text)
    assert len(billing.calls) == before


async def test_payments_are_listed_with_filters_and_the_automatic_payment_is_set(client, billing):
    billing.script("ListPayments", payments_pb2.ListPaymentsResponse(payments=[payment()], next_page_token="next"))
    listed = await client.get(
        f"/v1/personal-accounts/{ACCOUNT}/payments",
        params={"state": ["credited", "declined"], "kind": "card", "amount_min": 100, "limit": 10},
        headers=BEARER,
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["next_cursor"] == "next" and listed.json()["items"][0]["id"] == "pay:abc"
    sent = billing.last("ListPayments").request
    assert list(sent.states) == [payments_pb2.PAYMENT_STATE_CREDITED, payments_pb2.PAYMENT_STATE_DECLINED]
    assert (list(sent.kinds), sent.amount_min, sent.page_size) == ([payments_pb2.PAYMENT_KIND_CARD], 100, 10)
    assert (await client.get(f"/v1/personal-accounts/{ACCOUNT}/payments?state=lost", headers=BEARER)).status_code == 422

    billing.script("GetAutoPayment", payments_pb2.GetAutoPaymentResponse())
    none = await client.get(f"/v1/personal-accounts/{ACCOUNT}/auto-payment", headers=BEARER)
    assert none.status_code == 200 and none.json() == {"auto_payment": None}
    rule = payments_pb2.AutoPayment(
        personal_account_id=ACCOUNT, threshold=rub(50_000), amount=rub(150_000), card_token="tok_visa", daily_limit=3
    )
    billing.script("SetAutoPayment", payments_pb2.SetAutoPaymentResponse(auto_payment=rule))
    body = {"threshold": 50_000, "amount": 150_000, "currency": "RUB", "card_token": "tok_visa"}
    put = await client.put(f"/v1/personal-accounts/{ACCOUNT}/auto-payment", json=body, headers=BEARER)
    assert put.status_code == 200 and put.json()["threshold"]["amount"] == 50_000
    assert billing.last("SetAutoPayment").request.daily_limit == 3
    assert (await client.delete(f"/v1/personal-accounts/{ACCOUNT}/auto-payment", headers=BEARER)).status_code == 204


def promised_payment(**changes: object) -> promised_pb2.PromisedPayment:
    fields: dict[str, object] = {
        "id": "pp:abc",
        "personal_account_id": ACCOUNT,
        "amount": rub(50_000),
        "status": promised_pb2.PROMISED_PAYMENT_STATUS_OPEN,
        "taken_by": "user-1",
        "taken_at": Timestamp(seconds=1_768_469_400),
        "due_at": Timestamp(seconds=1_768_469_400 + 7 * 86_400),
        "entry_id": "promised:pp:abc",
    }
    fields.update(changes)
    return promised_pb2.PromisedPayment(**fields)  # type: ignore[arg-type]


async def test_a_promised_payment_is_taken_once_per_key_and_refusals_are_problems(client, billing, problem):
    billing.script(
        "TakePromisedPayment",
        promised_pb2.TakePromisedPaymentResponse(promised_payment=promised_payment(), account=ledger_account()),
        promised_pb2.TakePromisedPaymentResponse(
            promised_payment=promised_payment(), account=ledger_account(), replayed=True
        ),
        FailedPrecondition("one open already", reason="PROMISED_PAYMENT_OPEN"),
    )
    path = f"/v1/personal-accounts/{ACCOUNT}/promised-payments"
    headers = {**BEARER, "Idempotency-Key": "promise-1"}
    first = await client.post(path, json={"amount": 50_000}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{path}/pp:abc"
    body = first.json()["promised_payment"]
    assert (body["status"], body["amount"]["formatted"], body["repaid_at"]) == ("open", "RUB500.00", None)
    assert body["due_at"] == "2026-01-22T09:30:00Z"
    sent = billing.last("TakePromisedPayment").request
    assert (sent.personal_account_id, sent.amount, sent.idempotency_key) == (ACCOUNT, 50_000, "promise-1")
    again = await client.post(path, json={"amount": 50_000}, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    problem(await client.post(path, json={"amount": 1}, headers=BEARER), 409, "PROMISED_PAYMENT_OPEN")
    before = len(billing.calls)
    for bad in ({"amount": 0}, {"amount": "100"}, {"amount": 1.5}, {}, {"amount": 1, "extra": 1}):
        assert (await client.post(path, json=bad, headers=BEARER)).status_code == 422, bad
    assert len(billing.calls) == before


async def test_promised_payments_for_a_line_and_a_group_are_asked_of_billing(client, billing, problem):
    billing.script(
        "TakeLinePromisedPayment",
        promised_pb2.TakeLinePromisedPaymentResponse(promised_payment=promised_payment(), account=ledger_account()),
    )
    line = await client.post("/v1/lines/%2B79990000101/promised-payment", json={"amount": 100}, headers=BEARER)
    assert line.status_code == 201, line.text
    assert billing.last("TakeLinePromisedPayment").request.msisdn == "+79990000101"
    billing.script(
        "TakeGroupPromisedPayments",
        promised_pb2.TakeGroupPromisedPaymentsResponse(
            taken=[promised_payment()],
            refused=[
                promised_pb2.GroupRefusal(personal_account_id="acc-2", reason="PROMISED_PAYMENT_LIMIT", message="m")
            ],
        ),
    )
    group = await client.post("/v1/nodes/node-1/promised-payments", json={"amount": 100}, headers=BEARER)
    assert group.status_code == 200, group.text
    assert [p["id"] for p in group.json()["taken"]] == ["pp:abc"]
    assert group.json()["refused"][0]["reason"] == "PROMISED_PAYMENT_LIMIT"
    sent = billing.last("TakeGroupPromisedPayments").request
    assert (sent.node_id, sent.amount, dict(sent.amounts)) == ("node-1", 100, {})
    # Accounts in several currencies: an amount for each, passed on as billing takes them.
    each = await client.post(
        "/v1/nodes/node-1/promised-payments", json={"amounts": {"RUB": 50_000, "IRR": 5_000_000}}, headers=BEARER
    )
    assert each.status_code == 200, each.text
    sent = billing.last("TakeGroupPromisedPayments").request
    assert (sent.amount, dict(sent.amounts)) == (0, {"RUB": 50_000, "IRR": 5_000_000})
    billing.script(
        "TakeGroupPromisedPayments",
        InvalidArgument(
            "the personal accounts under the node hold IRR, RUB: give an amount for each currency (amounts)",
            reason="AMOUNT_PER_CURRENCY",
            field_violations={"amounts": "an amount for each of IRR, RUB"},
            metadata={"currencies": "IRR,RUB"},
        ),
    )
    ambiguous = problem(
        await client.post("/v1/nodes/node-1/promised-payments", json={"amount": 100}, headers=BEARER),
        422,
        "AMOUNT_PER_CURRENCY",
    )
    assert "IRR, RUB" in ambiguous["detail"]
    assert [(e["field"], e["message"]) for e in ambiguous["errors"]] == [("amounts", "an amount for each of IRR, RUB")]
    before = len(billing.calls)
    for bad in (
        {},
        {"amount": 100, "amounts": {"RUB": 100}},
        {"amounts": {}},
        {"amounts": {"rub": 100}},
        {"amounts": {"RUB": 0}},
        {"amounts": {"RUB": "100"}},
        {"amounts": {"RUB": 10**16}},
        {"amounts": [100]},
    ):
        assert (await client.post("/v1/nodes/node-1/promised-payments", json=bad, headers=BEARER)).status_code == (
            422
        ), bad
    assert len(billing.calls) == before
    billing.script(
        "ListPromisedPayments",
        promised_pb2.ListPromisedPaymentsResponse(
            promised_payments=[
                promised_payment(
                    status=promised_pb2.PROMISED_PAYMENT_STATUS_REPAID,
                    repaid_at=Timestamp(seconds=1_768_469_500),
                    repaid_by="due",
                )
            ],
            next_page_token="next",
        ),
    )
    listed = await client.get(f"/v1/personal-accounts/{ACCOUNT}/promised-payments?limit=5", headers=BEARER)
    assert listed.status_code == 200 and listed.json()["next_cursor"] == "next"
    assert (listed.json()["items"][0]["status"], listed.json()["items"][0]["repaid_by"]) == ("repaid", "due")
    assert billing.last("ListPromisedPayments").request.page_size == 5


async def test_the_settlement_method_is_read_and_chosen_by_the_customer(client, billing, problem):
    change = pb.SettlementChange(
        id="ch-1",
        account_id="01JB0000000000000000000001",
        method=pb.SETTLEMENT_METHOD_POSTPAID,
        credit_limit=rub(500_000),
        effective_at=Timestamp(seconds=1_798_761_600),
        requested_at=Timestamp(seconds=1_768_469_400),
        requested_by="user-1",
    )
    billing.script(
        "GetSettlementMethod",
        settlement_pb2.GetSettlementMethodResponse(account=ledger_account(), history=[change]),
    )
    read = await client.get(f"/v1/personal-accounts/{ACCOUNT}/settlement-method", headers=BEARER)
    assert read.status_code == 200, read.text
    assert read.json()["history"][0]["settlement_method"] == "postpaid" and read.json()["next_cursor"] is None
    assert read.json()["account"]["credit_limit"]["amount"] == 500_000
    billing.script(
        "ChangeMySettlementMethod",
        settlement_pb2.ChangeMySettlementMethodResponse(change=change, account=ledger_account()),
    )
    path = f"/v1/personal-accounts/{ACCOUNT}/settlement-method"
    changed = await client.put(path, json={"method": "postpaid", "effective_from": "2027-01-01"}, headers=BEARER)
    assert changed.status_code == 200, changed.text
    sent = billing.last("ChangeMySettlementMethod").request
    assert (sent.method, sent.effective_from) == (pb.SETTLEMENT_METHOD_POSTPAID, "2027-01-01")
    before = len(billing.calls)
    for bad in (
        {"method": "barter"},
        {"method": "credit", "effective_from": "soon"},
        {"method": "credit", "credit_limit": 5},
    ):
        assert (await client.put(path, json=bad, headers=BEARER)).status_code == 422, bad
    assert len(billing.calls) == before
    billing.script(
        "ChangeMySettlementMethod",
        InvalidArgument("past", reason="INVALID_SETTLEMENT", field_violations={"effective_from": "today or later"}),
    )
    problem(
        await client.put(path, json={"method": "credit", "effective_from": "2020-01-01"}, headers=BEARER),
        422,
        "INVALID_SETTLEMENT",
    )
