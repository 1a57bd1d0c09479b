"""/v1/lines, /v1/numbers/free, /v1/sims/reserve against a scripted inventory.

What inventory answers inside and outside a scope is inventory's own business
(its tests); here: the request the gateway sends, the JSON it answers, and
that nothing invalid reaches inventory.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.answers import JsonAnswer
from gateway.lines.schemas import LineResponse, line_json
from gateway.main import create_app
from simfleet.inventory.v1 import lines_pb2
from simfleet_runtime.errors import NotFound, PermissionDenied
from simfleet_runtime.testing import free_port
from simfleet_runtime.validation import luhn_ok as luhn_valid

from .conftest import CLIENT_ADDRESS, make_settings
from .scripted import line

BEARER = {"Authorization": "Bearer access.token.1"}

LINE_JSON = {
    "id": "01JA2C3D4E5F6G7H8J9K0M1N2P",
    "msisdn": "+79990000101",
    "state": "active",
    "sim": {"iccid": "8970199000000000106", "imsi": "250990000000101", "state": "installed"},
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
    "tariff": "corp-unlimited",
    "services": ["roaming", "voicemail"],
    "apns": [
        {"name": "internet", "pdp_type": "ipv4v6", "static_ip": None, "added_at": "2026-01-15T09:30:00Z"},
        {"name": "corp.simfleet", "pdp_type": "ipv4", "static_ip": "10.20.0.15", "added_at": "2026-01-16T12:00:00Z"},
    ],
    "forwarding": [{"condition": "busy", "target": "+79990000199"}],
    "blocks": [],
    "labels": ["drivers"],
    "group": "fleet",
    "group_id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    "pending_operation_id": None,
    "created_at": "2026-01-15T09:30:00Z",
    "updated_at": "2026-01-16T12:00:00Z",
}


async def test_list_lines_sends_every_filter(api, inventory):
    response = await api.get(
        "/v1/lines",
        headers=BEARER,
        params=[
            ("node_id", "01JA0Z6X3W8T9R2Q1P0N5M4K7B"),
            ("state", "active"),
            ("state", "blocked"),
            ("tariff", "corp-unlimited"),
            ("label", "drivers"),
            ("group", "fleet"),
            ("group_id", "01JA5F6G7H8J9K0M1N2P3Q4R5S"),
            ("q", "+7999000"),
            ("sort", "-updated_at"),
            ("limit", "50"),
            ("cursor", "page-2"),
        ],
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [LINE_JSON], "next_cursor": "page-2"}
    assert response.headers["cache-control"] == "no-store"
    call = inventory.last("ListLines")
    request = call.request
    assert request.node_id == "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
    assert list(request.states) == [lines_pb2.LINE_STATE_ACTIVE, lines_pb2.LINE_STATE_BLOCKED]
    assert (request.tariff_code, request.label, request.group, request.query) == (
        "corp-unlimited",
        "drivers",
        "fleet",
        "+7999000",
    )
    assert request.group_id == "01JA5F6G7H8J9K0M1N2P3Q4R5S"
    assert (request.order_by, request.page_size, request.page_token) == ("-updated_at", 50, "page-2")
    assert call.metadata["authorization"] == "Bearer access.token.1"
    assert call.metadata["x-request-id"] == response.headers["x-request-id"]


async def test_list_lines_defaults(api, inventory):
    inventory.script("ListLines", lines_pb2.ListLinesResponse())

    response = await api.get("/v1/lines", headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = inventory.last("ListLines").request
    assert (request.page_size, request.order_by, request.page_token, request.query) == (100, "msisdn", "", "")
    assert list(request.states) == []


async def test_get_line(api, inventory):
    response = await api.get("/v1/lines/+79990000101", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == LINE_JSON
    assert inventory.last("GetLine").request.msisdn == "+79990000101"


async def test_a_blocked_line_without_sim_or_group(api, inventory):
    blocked = line(
        state=lines_pb2.LINE_STATE_BLOCKED,
        blocks=[lines_pb2.Block(type="lost_or_stolen", since={"seconds": 1_768_564_800})],
        group="",
        group_id="",
        pending_operation_id="01JA3D4E5F6G7H8J9K0M1N2P3Q",
    )
    blocked.ClearField("sim")
    inventory.script("GetLine", lines_pb2.GetLineResponse(line=blocked))

    body = (await api.get("/v1/lines/%2B79990000101", headers=BEARER)).json()

    assert body["state"] == "blocked"
    assert body["blocks"] == [{"type": "lost_or_stolen", "since": "2026-01-16T12:00:00Z"}]
    assert body["sim"] is None
    assert body["group"] is None
    assert body["group_id"] is None
    assert body["pending_operation_id"] == "01JA3D4E5F6G7H8J9K0M1N2P3Q"
    assert inventory.last("GetLine").request.msisdn == "+79990000101"


async def test_get_puk_is_never_cached(api, inventory):
    response = await api.get("/v1/lines/+79990000101/puk", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == {
        "msisdn": "+79990000101",
        "iccid": "8970199000000000106",
        "puk1": "12345678",
        "puk2": "87654321",
    }
    assert response.headers["cache-control"] == "no-store"
    call = inventory.last("GetPuk")
    assert call.request.msisdn == "+79990000101"
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_get_puk_without_the_permission_is_a_403(api, inventory, problem):
    inventory.script("GetPuk", PermissionDenied("reading PUK codes needs lines:read-puk", reason="FORBIDDEN"))

    problem(await api.get("/v1/lines/+79990000101/puk", headers=BEARER), 403, "FORBIDDEN")


async def test_get_location(api, inventory):
    response = await api.get("/v1/lines/+79990000101/location", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == {
        "msisdn": "+79990000101",
        "cell_id": "250-99-1234-5678",
        "latitude": 55.7558,
        "longitude": 37.6173,
        "accuracy_m": 350,
        "observed_at": "2026-01-16T12:00:00Z",
    }
    assert inventory.last("GetLocation").request.msisdn == "+79990000101"


async def test_get_apns_reads_the_line(api, inventory):
    response = await api.get("/v1/lines/+79990000101/apns", headers=BEARER)

    assert response.status_code == 200
    assert response.json() == {"msisdn": "+79990000101", "items": LINE_JSON["apns"]}
    assert inventory.last("GetLine").request.msisdn == "+79990000101"


async def test_free_numbers(api, inventory):
    response = await api.get("/v1/numbers/free", headers=BEARER, params={"contains": "777", "limit": "5"})

    assert response.status_code == 200
    assert response.json() == {"items": ["+79990007770", "+79990007771"]}
    request = inventory.last("ListFreeNumbers").request
    assert (request.contains, request.page_size) == ("777", 5)


async def test_free_numbers_default_to_twenty(api, inventory):
    await api.get("/v1/numbers/free", headers=BEARER)

    request = inventory.last("ListFreeNumbers").request
    assert (request.contains, request.page_size) == ("", 20)


async def test_reserve_sims(api, inventory):
    response = await api.get("/v1/sims/reserve", headers=BEARER, params={"limit": "10", "cursor": "page-3"})

    assert response.status_code == 200
    assert response.json() == {
        "items": [{"iccid": "8970199000000000205", "imsi": "250990000000102", "state": "in_stock"}],
        "next_cursor": None,
    }
    request = inventory.last("ListReserveSims").request
    assert (request.page_size, request.page_token) == (10, "page-3")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/lines/79990000101", {}, "msisdn"),
        ("/v1/lines/+7999abc0101", {}, "msisdn"),
        ("/v1/lines/+0123456789", {}, "msisdn"),
        ("/v1/lines/+7999000010100000/puk", {}, "msisdn"),
        ("/v1/lines/12/location", {}, "msisdn"),
        ("/v1/lines/+7/apns", {}, "msisdn"),
        ("/v1/lines", {"state": "sleeping"}, "state.0"),
        ("/v1/lines", {"q": "abc"}, "q"),
        ("/v1/lines", {"q": "++7999"}, "q"),
        ("/v1/lines", {"limit": "0"}, "limit"),
        ("/v1/lines", {"limit": "1001"}, "limit"),
        ("/v1/lines", {"sort": "tariff"}, "sort"),
        ("/v1/lines", {"cursor": ""}, "cursor"),
        ("/v1/numbers/free", {"contains": "7a"}, "contains"),
        ("/v1/numbers/free", {"limit": "101"}, "limit"),
        ("/v1/sims/reserve", {"limit": "0"}, "limit"),
    ],
)
async def test_invalid_requests_never_reach_inventory(api, inventory, problem, path, params, field):
    response = await api.get(path, headers=BEARER, params=params)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert field in [e["field"] for e in body["errors"]]
    assert inventory.calls == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/lines",
        "/v1/lines/+79990000101",
        "/v1/lines/+79990000101/puk",
        "/v1/lines/+79990000101/location",
        "/v1/lines/+79990000101/apns",
        "/v1/numbers/free",
        "/v1/sims/reserve",
    ],
)
async def test_every_endpoint_needs_a_bearer_token(api, inventory, problem, path):
    response = await api.get(path)

    problem(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert inventory.calls == []


@pytest.mark.parametrize("suffix", ["", "/puk", "/location", "/apns"])
async def test_a_line_inventory_does_not_show_is_a_404(api, inventory, problem, suffix):
    missing = NotFound("there is no such line", reason="LINE_NOT_FOUND")
    inventory.script("GetLine", missing)
    inventory.script("GetPuk", missing)
    inventory.script("GetLocation", missing)

    body = problem(await api.get(f"/v1/lines/+79990000999{suffix}", headers=BEARER), 404, "LINE_NOT_FOUND")
    assert body["detail"] == "there is no such line"


async def test_an_unknown_state_from_inventory_is_a_502(api, inventory, problem):
    inventory.script("GetLine", lines_pb2.GetLineResponse(line=line(state=lines_pb2.LINE_STATE_UNSPECIFIED)))

    problem(await api.get("/v1/lines/+79990000101", headers=BEARER), 502, "BAD_GATEWAY")


async def test_inventory_unreachable_is_a_503_to_retry(open_inventory_gateway, problem):
    gateway = await open_inventory_gateway(inventory_target=f"127.0.0.1:{free_port()}", grpc_timeout_seconds=1.0)

    response = await gateway.client.get("/v1/lines", headers=BEARER)

    problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"]


def test_luhn() -> None:
    assert luhn_valid("8970199000000000106")
    assert luhn_valid("89701990000000000405")
    assert not luhn_valid("8970199000000000107")


async def test_the_app_opens_and_closes_its_own_inventory_channel(identity, inventory):
    app = create_app(make_settings(identity.target, inventory_target=inventory.target))
    assert app.state.inventory is None  # nothing is made before the app starts

    async with app.router.lifespan_context(app):
        channel = app.state.inventory.channel
        transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            assert (await client.get("/v1/lines", headers=BEARER)).status_code == 200

    assert app.state.inventory is None
    assert channel.get_state().name == "SHUTDOWN"
    assert inventory.last("ListLines").metadata["authorization"] == "Bearer access.token.1"


async def test_requests_before_start_get_503(identity, inventory, problem):
    app = create_app(make_settings(identity.target, inventory_target=inventory.target))
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        problem(await client.get("/v1/lines", headers=BEARER), 503, "SERVICE_UNAVAILABLE")
    assert inventory.calls == []


@pytest.mark.parametrize(
    "message",
    [
        line(),
        line(
            state=lines_pb2.LINE_STATE_BLOCKED,
            blocks=[
                lines_pb2.Block(type="voluntary", since=Timestamp(seconds=1_769_000_000, nanos=123_456_000)),
                lines_pb2.Block(type="x"),
            ],
            pending_operation_id="01JA2C3D4E5F6G7H8J9K0MOPER",
        ),
        lines_pb2.Line(id="01JA2C3D4E5F6G7H8J9K0M1N2P", msisdn="+79990000101", state=lines_pb2.LINE_STATE_READY),
    ],
)
def test_a_page_builds_each_line_as_its_model_would(message):
    """The page's JSON is built without the models (they cost most of a page's CPU); it is what they would write."""
    built = orjson.loads(JsonAnswer(line_json(message)).body)

    assert built == LineResponse.from_proto(message).model_dump(mode="json")
    assert LineResponse.model_validate(built).model_dump(mode="json") == built
