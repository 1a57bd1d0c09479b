"""/v1/spending-limits: billing's spending limits (BI-10), their bodies checked before billing is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.main import create_app
from gateway.upstream.billing import open_billing_channel
from gateway.upstream.identity import open_identity_channel
from simfleet.billing.v1 import ledger_pb2, limits_pb2
from simfleet_runtime.errors import InvalidArgument, NotFound, PermissionDenied

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7C"
LIMIT = "01JA0Z6X3W8T9R2Q1P0N5M4K7E"


def rub(amount: int) -> ledger_pb2.Money:
    return ledger_pb2.Money(amount=amount, currency="RUB", exponent=2)


def limit(**changes: object) -> limits_pb2.SpendingLimit:
    fields: dict[str, object] = {
        "id": LIMIT,
        "scope": limits_pb2.SPENDING_LIMIT_SCOPE_NODE,
        "node_id": NODE,
        "period": limits_pb2.SPENDING_LIMIT_PERIOD_MONTH,
        "amount": rub(5_000_000),
        "action": limits_pb2.SPENDING_LIMIT_ACTION_WARN,
        "notify": ["+79991234567"],
        "current_period": "2026-12",
        "spent": rub(1_234_500),
        "set_by": "u-1",
    }
    fields.update(changes)
    return limits_pb2.SpendingLimit(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def billing_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices("billing", limits_pb2.DESCRIPTOR.services_by_name["SpendingLimitService"])
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


async def test_a_limit_is_set_once_per_key_and_answered_with_its_spend(client, billing):
    billing.script(
        "CreateSpendingLimit",
        limits_pb2.CreateSpendingLimitResponse(limit=limit()),
        limits_pb2.CreateSpendingLimitResponse(limit=limit(), replayed=True),
    )
    body = {"scope": "node", "node_id": NODE, "amount": 5_000_000, "currency": "RUB", "action": "warn"}
    body["notify"] = ["+79991234567"]
    headers = {**BEARER, "Idempotency-Key": "limit-1", "Accept-Language": "ru"}
    first = await client.post("/v1/spending-limits", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"/v1/spending-limits/{LIMIT}"
    answered = first.json()
    assert (answered["scope"], answered["action"], answered["period"], answered["reached"]) == (
        "node",
        "warn",
        "month",
        False,
    )
    assert answered["spent"]["amount"] == 1_234_500 and "12" in answered["spent"]["formatted"]
    sent = billing.last("CreateSpendingLimit").request
    assert (sent.scope, sent.node_id, sent.amount, sent.action, list(sent.notify), sent.idempotency_key) == (
        limits_pb2.SPENDING_LIMIT_SCOPE_NODE,
        NODE,
        5_000_000,
        limits_pb2.SPENDING_LIMIT_ACTION_WARN,
        ["+79991234567"],
        "limit-1",
    )
    again = await client.post("/v1/spending-limits", json=body, headers=headers)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"

    before = len(billing.calls)
    for bad in (
        {**body, "amount": 0},
        {**body, "amount": 1.5},
        {**body, "scope": "planet"},
        {**body, "action": "shout"},
        {**body, "period": "year"},
        {**body, "msisdn": "79991234567"},
        {**body, "notify": ["+79991234567"] * 11},
        {**body, "extra": 1},
    ):
        refused = await client.post("/v1/spending-limits", json=bad, headers=BEARER)
        assert refused.status_code == 422, (bad, refused.text)
    assert len(billing.calls) == before


async def test_limits_are_listed_read_changed_and_deleted(client, billing):
    billing.script("ListSpendingLimits", limits_pb2.ListSpendingLimitsResponse(limits=[limit()]))
    listed = await client.get("/v1/spending-limits", params={"node_id": NODE}, headers=BEARER)
    assert listed.status_code == 200 and [item["id"] for item in listed.json()["items"]] == [LIMIT]
    assert billing.last("ListSpendingLimits").request.node_id == NODE

    billing.script("GetSpendingLimit", limits_pb2.GetSpendingLimitResponse(limit=limit(reached=True)))
    read = await client.get(f"/v1/spending-limits/{LIMIT}", headers=BEARER)
    assert read.status_code == 200 and read.json()["reached"] is True

    changed = limit(amount=rub(9_000_000), action=limits_pb2.SPENDING_LIMIT_ACTION_BLOCK, notify=[])
    billing.script("UpdateSpendingLimit", limits_pb2.UpdateSpendingLimitResponse(limit=changed))
    body = {"amount": 9_000_000, "currency": "RUB", "action": "block", "notify": []}
    put = await client.put(f"/v1/spending-limits/{LIMIT}", json=body, headers=BEARER)
    assert put.status_code == 200 and put.json()["action"] == "block" and put.json()["notify"] == []
    sent = billing.last("UpdateSpendingLimit").request
    assert (sent.limit_id, sent.amount, sent.action) == (LIMIT, 9_000_000, limits_pb2.SPENDING_LIMIT_ACTION_BLOCK)

    assert (await client.delete(f"/v1/spending-limits/{LIMIT}", headers=BEARER)).status_code == 204
    assert billing.last("DeleteSpendingLimit").request.limit_id == LIMIT


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("the spending limit does not exist", reason="SPENDING_LIMIT_NOT_FOUND"), 404),
        (PermissionDenied("it needs billing:pay", reason="PERMISSION_MISSING"), 403),
        (
            InvalidArgument(
                "a recipient is not valid", reason="INVALID_RECIPIENT", field_violations={"notify[0]": "E.164"}
            ),
            422,
        ),
    ],
)
async def test_billings_refusals_are_problems(client, billing, problem, error, status):
    billing.script("UpdateSpendingLimit", error)
    body = {"amount": 100, "currency": "RUB", "action": "warn", "notify": ["x@y.example"]}
    answer = await client.put(f"/v1/spending-limits/{LIMIT}", json=body, headers=BEARER)
    problem(answer, status, error.reason)
