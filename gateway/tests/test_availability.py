"""/v1/lines/availability and /v1/options: what lines may take, answered by billing's CatalogueService."""

from __future__ import annotations

from simfleet.billing.v1 import catalogue_pb2 as pb
from simfleet.billing.v1 import ledger_pb2 as ledger_pb

from .test_billing import BEARER, billing, billing_server, client, rub  # noqa: F401

LINE = "01JD8X3K5V6W7Y8Z9A0B1C2D3E"


async def test_availability_is_a_read_of_billings_answer_per_line(client, billing):  # noqa: F811
    billing.script(
        "CheckAvailability",
        pb.CheckAvailabilityResponse(
            lines=[
                pb.LineAvailability(
                    line_id=LINE,
                    msisdn="+79990000101",
                    allowed=False,
                    reason="SERVICE_NOT_ALLOWED_ON_TARIFF",
                    message="IOT-S does not allow voice",
                    available_tariffs=["BIZ-L"],
                    available_options=["roaming"],
                ),
                pb.LineAvailability(msisdn="+79990000999", allowed=False, reason="LINE_NOT_FOUND"),
            ]
        ),
    )
    body = {"msisdns": ["+79990000101", "+79990000999"], "tariff_code": "IOT-S", "disconnect": ["data"]}
    answer = await client.post("/v1/lines/availability", json=body, headers=BEARER)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "items": [
            {
                "line_id": LINE,
                "msisdn": "+79990000101",
                "allowed": False,
                "reason": "SERVICE_NOT_ALLOWED_ON_TARIFF",
                "message": "IOT-S does not allow voice",
                "available_tariffs": ["BIZ-L"],
                "available_options": ["roaming"],
            }
        ],
        "not_found": ["+79990000999"],
    }
    call = billing.last("CheckAvailability")
    assert list(call.request.msisdns) == body["msisdns"]
    assert (call.request.tariff_code, list(call.request.disconnect)) == ("IOT-S", ["data"])
    assert call.metadata["authorization"] == BEARER["Authorization"]


async def test_bad_availability_questions_never_reach_billing(client, billing):  # noqa: F811
    for body in (
        {"msisdns": [], "tariff_code": "IOT-S"},
        {"msisdns": ["+79990000101"], "connect": ["teleport"]},
        {"msisdns": ["+79990000101"], "connect": ["roaming"], "disconnect": ["roaming"]},
        {"msisdns": ["12345"]},
        {"msisdns": ["+79990000101"] * 1001},
        {"msisdns": ["+79990000101"], "colour": "red"},
    ):
        answer = await client.post("/v1/lines/availability", json=body, headers=BEARER)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert billing.count("CheckAvailability") == 0


async def test_the_options_and_their_fees(client, billing):  # noqa: F811
    billing.script(
        "ListOptions",
        pb.ListOptionsResponse(
            options=[pb.Option(code="roaming", name="Roaming", monthly_fee=rub(4900), requires_any=["voice", "data"])],
            tariffs=[pb.TariffOptions(tariff_code="IOT-S", allowed=["sms", "data", "roaming"], included=["sms"])],
            currency="RUB",
        ),
    )
    answer = await client.get("/v1/options", headers=BEARER)
    assert answer.status_code == 200, answer.text
    [option] = answer.json()["options"]
    assert (option["code"], option["monthly_fee"]["amount"], option["requires_any"]) == (
        "roaming",
        4900,
        ["voice", "data"],
    )
    assert answer.json()["tariffs"] == [
        {"tariff_code": "IOT-S", "allowed": ["sms", "data", "roaming"], "included": ["sms"]}
    ]

    assert answer.json()["currency"] == "RUB"


async def test_the_options_in_a_customers_rials(client, billing):  # noqa: F811
    """A rials customer's options: the fee in whole rials as billing priced it, written for the caller's language."""
    billing.script(
        "ListOptions",
        pb.ListOptionsResponse(
            options=[
                pb.Option(
                    code="roaming",
                    name="Roaming",
                    monthly_fee=ledger_pb.Money(amount=24_500, currency="IRR", exponent=0),
                    requires_any=["voice", "sms", "data"],
                )
            ],
            currency="IRR",
        ),
    )
    answer = await client.get("/v1/options", headers={**BEARER, "Accept-Language": "en"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["currency"] == "IRR"
    assert answer.json()["options"][0]["monthly_fee"] == {
        "amount": 24_500,
        "currency": "IRR",
        "exponent": 0,
        "formatted": "IRR24,500",
    }
