"""/v1/operations and /v1/sim-orders against a scripted inventory: 202s, replays, validation, the event stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from simfleet.inventory.v1 import lines_pb2, operations_pb2
from simfleet_runtime.errors import FailedPrecondition, InvalidArgument, NotFound, Unauthenticated

from .scripted import OPERATION_ID, finished_operation, operation

BEARER = {"Authorization": "Bearer access.token.1"}
RUNNING = operations_pb2.OPERATION_STATE_RUNNING

OPERATION_JSON = {
    "id": OPERATION_ID,
    "type": "block",
    "state": "running",
    "params": {"block_type": "voluntary"},
    "selection": None,
    "requested_by": "01J9Z3K8Q4W7N2M5X6Y8B0USER",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "counts": {"total": 2, "pending": 2, "in_progress": 0, "succeeded": 0, "failed": 0, "skipped": 0},
    "cancel_requested": False,
    "error": None,
    "created_at": "2026-01-16T12:00:00Z",
    "scheduled_at": None,
    "started_at": "2026-01-16T12:00:01Z",
    "finished_at": None,
}
BLOCK = {"type": "block", "lines": ["+79990000101", "+79990000102"], "params": {"block_type": "voluntary"}}


# ------------------------------------------------------------------ create
async def test_an_operation_is_accepted_with_its_location(api, inventory):
    response = await api.post("/v1/operations", headers={**BEARER, "Idempotency-Key": "block-2026-01-16"}, json=BLOCK)

    assert response.status_code == 202, response.text
    assert response.json() == OPERATION_JSON
    assert response.headers["location"] == f"/v1/operations/{OPERATION_ID}"
    assert "idempotent-replayed" not in response.headers
    call = inventory.last("CreateOperation")
    request = call.request
    assert request.type == operations_pb2.OPERATION_TYPE_BLOCK
    assert list(request.msisdns) == ["+79990000101", "+79990000102"]  # numbers alone: one list, not messages
    assert list(request.targets) == []
    assert dict(request.params) == {"block_type": "voluntary"}
    assert request.idempotency_key == "block-2026-01-16"
    assert not request.HasField("selection")
    assert not request.HasField("scheduled_at")
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_a_replayed_key_answers_200_with_the_same_operation(api, inventory):
    inventory.script(
        "CreateOperation",
        operations_pb2.CreateOperationResponse(
            operation=operation(counts=operations_pb2.ItemCounts(total=2, pending=2)), replayed=True
        ),
    )

    response = await api.post("/v1/operations", headers={**BEARER, "Idempotency-Key": "block-2026-01-16"}, json=BLOCK)

    assert response.status_code == 200
    assert response.json() == OPERATION_JSON
    assert response.headers["idempotent-replayed"] == "true"
    assert response.headers["location"] == f"/v1/operations/{OPERATION_ID}"


async def test_without_a_key_none_is_sent(api, inventory):
    await api.post("/v1/operations", headers=BEARER, json=BLOCK)

    assert inventory.last("CreateOperation").request.idempotency_key == ""


async def test_items_carry_their_own_params(api, inventory):
    body = {
        "type": "replace_sim",
        "items": [
            {"msisdn": "+79990000101", "params": {"iccid": "8970199000000000205"}},
            {"msisdn": "+79990000102", "params": {"iccid": "89701990000000000405"}},
        ],
    }

    response = await api.post("/v1/operations", headers=BEARER, json=body)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_REPLACE_SIM
    assert [(t.msisdn, dict(t.params)) for t in request.targets] == [
        ("+79990000101", {"iccid": "8970199000000000205"}),
        ("+79990000102", {"iccid": "89701990000000000405"}),
    ]


async def test_change_number_may_leave_the_new_number_to_the_pool(api, inventory):
    body = {"type": "change_number", "items": [{"msisdn": "+79990000101", "params": {"msisdn": "+79990007770"}}]}
    assert (await api.post("/v1/operations", headers=BEARER, json=body)).status_code == 202
    body = {"type": "change_number", "lines": ["+79990000102"]}
    assert (await api.post("/v1/operations", headers=BEARER, json=body)).status_code == 202
    first, second = [c.request for c in inventory.calls if c.method == "CreateOperation"]
    assert dict(first.targets[0].params) == {"msisdn": "+79990007770"}
    assert list(second.msisdns) == ["+79990000102"]


@pytest.mark.parametrize(
    ("state", "states"),
    [
        ("active", [lines_pb2.LINE_STATE_ACTIVE]),
        (["active", "blocked"], [lines_pb2.LINE_STATE_ACTIVE, lines_pb2.LINE_STATE_BLOCKED]),
    ],
)
async def test_a_selection_and_a_schedule(api, inventory, state, states):
    body = {
        "type": "add_apn",
        "selection": {
            "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
            "state": state,
            "tariff": "corp-unlimited",
            "label": "drivers",
            "group": "fleet",
        },
        "params": {"apn": "corp.simfleet", "pdp_type": "ipv4", "static_ip": "10.20.0.15"},
        "scheduled_at": "2026-02-01T06:00:00+03:00",
    }

    response = await api.post("/v1/operations", headers=BEARER, json=body)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_ADD_APN
    assert list(request.targets) == []
    selection = request.selection
    assert selection.node_id == "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
    assert list(selection.states) == states
    assert (selection.tariff_code, selection.label, selection.group) == ("corp-unlimited", "drivers", "fleet")
    assert request.scheduled_at.seconds == 1_769_914_800  # 2026-02-01T03:00:00Z
    assert dict(request.params) == {"apn": "corp.simfleet", "pdp_type": "ipv4", "static_ip": "10.20.0.15"}


async def test_two_hundred_thousand_lines_fit(api, inventory):
    numbers = [f"+7999{n:07d}" for n in range(200_000)]

    response = await api.post("/v1/operations", headers=BEARER, json={"type": "activate", "lines": numbers}, timeout=60)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert len(request.msisdns) == 200_000
    assert request.msisdns[-1] == "+79990199999"


async def test_a_large_body_is_only_taken_by_the_operations_path(api, inventory, problem):
    body = {"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C", "quantity": 1, "tariff": "x" * 70_000}

    problem(await api.post("/v1/sim-orders", headers=BEARER, json=body), 413, "CONTENT_TOO_LARGE")
    assert inventory.calls == []


def _many(n: int) -> list[str]:
    return [f"+7999{i:07d}" for i in range(n)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "block", "params": {"block_type": "voluntary"}}, "lines"),
        ({**BLOCK, "selection": {"node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B"}}, "selection"),
        ({**BLOCK, "lines": []}, "lines"),
        ({**BLOCK, "lines": ["79990000101"]}, "lines.0"),
        ({**BLOCK, "lines": ["+79990000101", "+7999abc"]}, "lines.1"),
        ({**BLOCK, "lines": _many(200_001)}, "lines"),
        ({**BLOCK, "lines": ["+79990000101", "+79990000101"]}, "lines.1"),
        ({**BLOCK, "params": {}}, "params.block_type"),
        ({**BLOCK, "params": {"block_type": "angry"}}, "params.block_type"),
        ({**BLOCK, "params": {"block_type": "voluntary", "colour": "red"}}, "params.colour"),
        ({**BLOCK, "params": {"block_type": 1}}, "params.block_type"),
        ({**BLOCK, "scheduled_at": "2026-02-01T03:00:00"}, "scheduled_at"),
        ({**BLOCK, "scheduled_at": "tomorrow"}, "scheduled_at"),
        ({**BLOCK, "type": "order_sims"}, "type"),
        ({**BLOCK, "type": "explode"}, "type"),
        ({**BLOCK, "extra": True}, "extra"),
        ({"type": "replace_sim", "lines": ["+79990000101"]}, "lines"),
        ({"type": "replace_sim", "items": [{"msisdn": "+79990000101"}]}, "items.0.params"),
        ({"type": "replace_sim", "items": [{"msisdn": "+79990000101", "params": {}}]}, "items.0.params.iccid"),
        (
            {"type": "replace_sim", "items": [{"msisdn": "+79990000101", "params": {"iccid": "8970199000000000107"}}]},
            "items.0.params.iccid",
        ),
        (
            {"type": "replace_sim", "items": [{"msisdn": "+79990000101", "params": {"iccid": "897019900000000010"}}]},
            "items.0.params.iccid",
        ),
        (
            {
                "type": "replace_sim",
                "items": [
                    {"msisdn": "+79990000101", "params": {"iccid": "8970199000000000205"}},
                    {"msisdn": "+79990000102", "params": {"iccid": "8970199000000000205"}},
                ],
            },
            "items.1.params.iccid",
        ),
        (
            {"type": "change_number", "items": [{"msisdn": "+79990000101", "params": {"msisdn": "777"}}]},
            "items.0.params.msisdn",
        ),
        (
            {"type": "activate", "items": [{"msisdn": "+79990000101", "params": {"iccid": "8970199000000000205"}}]},
            "items.0.params",
        ),
        ({"type": "activate", "selection": {}}, "selection"),
        ({"type": "activate", "selection": {"state": []}}, "selection"),
        ({"type": "activate", "selection": {"state": "sleeping"}}, "selection.state.0"),
        ({"type": "activate", "selection": {"node_id": "n", "colour": "red"}}, "selection.colour"),
        (
            {"type": "set_forwarding", "lines": ["+79990000101"], "params": {"condition": "busy", "target": "8800"}},
            "params.target",
        ),
        (
            {
                "type": "set_forwarding",
                "lines": ["+79990000101"],
                "params": {"condition": "always", "target": "+79990000199"},
            },
            "params.condition",
        ),
        ({"type": "clear_forwarding", "lines": ["+79990000101"]}, "params"),
        ({"type": "clear_forwarding", "lines": ["+79990000101"], "params": {}}, "params.condition"),
        ({"type": "add_apn", "lines": ["+79990000101"], "params": {"apn": "bad apn"}}, "params.apn"),
        (
            {"type": "add_apn", "lines": ["+79990000101"], "params": {"apn": "corp", "static_ip": "10.0.0.999"}},
            "params.static_ip",
        ),
        (
            {"type": "add_apn", "lines": ["+79990000101"], "params": {"apn": "corp", "pdp_type": "ipx"}},
            "params.pdp_type",
        ),
        ({"type": "remove_apn", "lines": ["+79990000101"]}, "params"),
        ({"type": "remove_apn", "lines": ["+79990000101"], "params": {"apn": ""}}, "params.apn"),
        (
            {
                "type": "set_forwarding",
                "lines": ["+79990000101"],
                "params": {"condition": "busy", "target": "+4915112345678"},
            },
            "params.target",
        ),
        (
            {"type": "send_sms", "lines": ["+79990000101"], "params": {"text": "hi", "sender": "Too long a name"}},
            "params.sender",
        ),
        ({"type": "move", "lines": ["+79990000101"], "params": {}}, "params"),
        ({"type": "move", "lines": ["+79990000101"]}, "params"),
        ({"type": "change_tariff", "lines": ["+79990000101"]}, "params"),
        ({"type": "change_tariff", "lines": ["+79990000101"], "params": {}}, "params.tariff_code"),
        (
            {"type": "change_tariff", "lines": ["+79990000101"], "params": {"tariff_code": "BIZ M"}},
            "params.tariff_code",
        ),
        (
            {
                "type": "change_tariff",
                "lines": ["+79990000101"],
                "params": {"tariff_code": "BIZ-M", "notify_subscribers": "yes"},
            },
            "params.notify_subscribers",
        ),
        ({"type": "set_services", "lines": ["+79990000101"]}, "params"),
        ({"type": "set_services", "lines": ["+79990000101"], "params": {"connect": []}}, "params"),
        ({"type": "set_services", "lines": ["+79990000101"], "params": {"connect": ["teleport"]}}, "params.connect.0"),
        (
            {
                "type": "set_services",
                "lines": ["+79990000101"],
                "params": {"connect": ["roaming"], "disconnect": ["sms", "Data"]},
            },
            "params.disconnect.1",
        ),
        ({"type": "set_services", "lines": ["+79990000101"], "params": {"connect": "roaming"}}, "params.connect"),
        (
            {
                "type": "set_services",
                "lines": ["+79990000101"],
                "params": {"connect": ["roaming", "data"], "disconnect": ["data"]},
            },
            "params.disconnect.0",
        ),
        ({"type": "add_labels", "lines": ["+79990000101"], "params": {}}, "params.labels"),
        ({"type": "add_labels", "lines": ["+79990000101"], "params": {"labels": []}}, "params.labels"),
        ({"type": "add_labels", "lines": ["+79990000101"], "params": {"labels": ["north,south"]}}, "params.labels.0"),
        ({"type": "add_labels", "lines": ["+79990000101"], "params": {"labels": ["ok", "x" * 65]}}, "params.labels.1"),
        ({"type": "remove_labels", "lines": ["+79990000101"], "params": {"labels": ["v\u202eip"]}}, "params.labels.0"),
        ({"type": "set_group", "lines": ["+79990000101"], "params": {}}, "params"),
        ({"type": "set_group", "lines": ["+79990000101"], "params": {"group_id": "Couriers"}}, "params.group_id"),
        ({"type": "set_group", "lines": ["+79990000101"], "params": {"group": " Couriers"}}, "params.group"),
        ({"type": "set_group", "lines": ["+79990000101"], "params": {"group": "a\x1bb"}}, "params.group"),
        ({"type": "clear_group", "lines": ["+79990000101"], "params": {"group": "Couriers"}}, "params.group"),
    ],
)
async def test_invalid_operations_never_reach_inventory(api, inventory, problem, body, field):
    response = await api.post("/v1/operations", headers=BEARER, json=body)

    found = problem(response, 422, "VALIDATION_FAILED")
    assert field in [e["field"] for e in found["errors"]], found["errors"]
    assert inventory.calls == []


async def test_a_tariff_change_goes_to_inventory_typed_and_as_text(api, inventory):
    body = {
        "type": "change_tariff",
        "lines": ["+79990000101"],
        "params": {"tariff_code": "BIZ-L", "notify_subscribers": True},
        "scheduled_at": "2026-01-20T00:00:00Z",
    }

    response = await api.post("/v1/operations", headers=BEARER, json=body)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_CHANGE_TARIFF
    assert dict(request.params) == {"tariff_code": "BIZ-L", "notify_subscribers": "true"}
    typed = request.typed_params.change_tariff
    assert (typed.tariff_code, typed.notify_subscribers) == ("BIZ-L", True)
    assert request.HasField("scheduled_at")


async def test_services_go_to_inventory_as_lists(api, inventory):
    body = {
        "type": "set_services",
        "lines": ["+79990000101", "+79990000102"],
        "params": {"connect": ["roaming", "international"], "disconnect": ["data"]},
    }

    response = await api.post("/v1/operations", headers=BEARER, json=body)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_SET_SERVICES
    assert dict(request.params) == {"connect": "roaming,international", "disconnect": "data"}
    typed = request.typed_params.set_services
    assert (list(typed.connect), list(typed.disconnect), typed.notify_subscribers) == (
        ["roaming", "international"],
        ["data"],
        False,
    )


async def test_labels_and_groups_go_to_inventory_typed_and_as_text(api, inventory):
    body = {"type": "add_labels", "lines": ["+79990000101"], "params": {"labels": ["drivers", "Север 2"]}}

    response = await api.post("/v1/operations", headers=BEARER, json=body)

    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_ADD_LABELS
    assert dict(request.params) == {"labels": "drivers,Север 2"}
    assert list(request.typed_params.add_labels.labels) == ["drivers", "Север 2"]

    body = {"type": "set_group", "selection": {"label": "drivers"}, "params": {"group": "Couriers"}}
    response = await api.post("/v1/operations", headers=BEARER, json=body)
    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert request.type == operations_pb2.OPERATION_TYPE_SET_GROUP
    assert (dict(request.params), request.selection.label) == ({"group": "Couriers"}, "drivers")

    response = await api.post("/v1/operations", headers=BEARER, json={"type": "clear_group", "lines": ["+79990000101"]})
    assert response.status_code == 202, response.text
    request = inventory.last("CreateOperation").request
    assert (request.type, dict(request.params)) == (operations_pb2.OPERATION_TYPE_CLEAR_GROUP, {})


async def test_an_unknown_tariff_is_inventorys_422_naming_the_param(api, inventory, problem):
    message = "unknown tariff: one of BIZ-S, BIZ-M, BIZ-L, IOT-S"
    inventory.script(
        "CreateOperation",
        InvalidArgument(message, reason="UNKNOWN_TARIFF", field_violations={"params.tariff_code": message}),
    )
    body = {"type": "change_tariff", "lines": ["+79990000101"], "params": {"tariff_code": "GOLD"}}

    found = problem(await api.post("/v1/operations", headers=BEARER, json=body), 422, "UNKNOWN_TARIFF")
    assert [(e["field"], e.get("pointer")) for e in found["errors"]] == [("params.tariff_code", "/params/tariff_code")]


async def test_many_bad_lines_are_reported_a_few_at_a_time(api, inventory, problem):
    response = await api.post("/v1/operations", headers=BEARER, json={**BLOCK, "lines": ["bad"] * 1000})

    body = problem(response, 422, "VALIDATION_FAILED")
    assert len(body["errors"]) == 20
    assert "1000 problems" in body["detail"]
    assert inventory.calls == []


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_a_bad_idempotency_key_is_refused(api, inventory, problem, key):
    response = await api.post("/v1/operations", headers={**BEARER, "Idempotency-Key": key}, json=BLOCK)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"][0]["field"] == "idempotency-key"
    assert inventory.calls == []


async def test_a_body_that_is_not_json_is_refused(api, inventory, problem):
    response = await api.post(
        "/v1/operations", headers={**BEARER, "Content-Type": "application/json"}, content=b"{not json"
    )

    problem(response, 422, "VALIDATION_FAILED")
    assert inventory.calls == []


async def test_inventory_refusing_is_a_problem(api, inventory, problem):
    inventory.script("CreateOperation", FailedPrecondition("the SIM is not in stock", reason="SIM_NOT_IN_STOCK"))

    body = problem(await api.post("/v1/operations", headers=BEARER, json=BLOCK), 409, "SIM_NOT_IN_STOCK")
    assert body["detail"] == "the SIM is not in stock"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/operations"),
        ("GET", "/v1/operations"),
        ("GET", f"/v1/operations/{OPERATION_ID}"),
        ("GET", f"/v1/operations/{OPERATION_ID}/items"),
        ("POST", f"/v1/operations/{OPERATION_ID}/cancel"),
        ("GET", f"/v1/operations/{OPERATION_ID}/events"),
        ("POST", "/v1/sim-orders"),
    ],
)
async def test_every_endpoint_needs_a_bearer_token(api, inventory, problem, method, path):
    body = BLOCK if path == "/v1/operations" else {"node_id": "n", "quantity": 1, "tariff": "BIZ-S"}
    response = await api.request(method, path, json=body if method == "POST" else None)

    problem(response, 401, "UNAUTHENTICATED")
    assert inventory.calls == []


# -------------------------------------------------------------------- read
async def test_list_operations(api, inventory):
    response = await api.get(
        "/v1/operations",
        headers=BEARER,
        params=[("state", "running"), ("state", "completed_with_errors"), ("type", "replace_sim"), ("limit", "5")],
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] == "page-2"
    [item] = body["items"]
    assert item["state"] == "completed"
    assert item["finished_at"] == "2026-01-16T12:00:04Z"
    assert response.headers["cache-control"] == "no-store"
    request = inventory.last("ListOperations").request
    assert list(request.states) == [
        operations_pb2.OPERATION_STATE_RUNNING,
        operations_pb2.OPERATION_STATE_COMPLETED_WITH_ERRORS,
    ]
    assert request.type == operations_pb2.OPERATION_TYPE_REPLACE_SIM
    assert (request.page_size, request.page_token) == (5, "")


async def test_list_operations_without_filters(api, inventory):
    await api.get("/v1/operations", headers=BEARER, params={"cursor": "page-2"})

    request = inventory.last("ListOperations").request
    assert list(request.states) == []
    assert request.type == operations_pb2.OPERATION_TYPE_UNSPECIFIED
    assert (request.page_size, request.page_token) == (100, "page-2")


async def test_get_operation_with_a_selection(api, inventory):
    chosen = operations_pb2.Selection(
        node_id="01JA0Z6X3W8T9R2Q1P0N5M4K7B", states=[lines_pb2.LINE_STATE_ACTIVE], label="drivers"
    )
    inventory.script(
        "GetOperation",
        operations_pb2.GetOperationResponse(
            operation=finished_operation(
                state=operations_pb2.OPERATION_STATE_COMPLETED_WITH_ERRORS,
                type=operations_pb2.OPERATION_TYPE_SET_FORWARDING,
                selection=chosen,
                counts=operations_pb2.ItemCounts(total=5, succeeded=3, failed=1, skipped=1),
                scheduled_at={"seconds": 1_768_564_800},
                error="",
            )
        ),
    )

    response = await api.get(f"/v1/operations/{OPERATION_ID}", headers=BEARER)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "set_forwarding"
    assert body["state"] == "completed_with_errors"
    assert body["selection"] == {
        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
        "state": ["active"],
        "tariff": None,
        "label": "drivers",
        "group": None,
    }
    assert body["counts"] == {"total": 5, "pending": 0, "in_progress": 0, "succeeded": 3, "failed": 1, "skipped": 1}
    assert body["scheduled_at"] == "2026-01-16T12:00:00Z"
    assert inventory.last("GetOperation").request.operation_id == OPERATION_ID


async def test_items(api, inventory):
    response = await api.get(
        f"/v1/operations/{OPERATION_ID}/items",
        headers=BEARER,
        params=[("state", "failed"), ("state", "skipped"), ("cursor", "c2"), ("limit", "1000")],
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "id": "01JA3D4E5F6G7H8J9K0M1N2P3R",
                "position": 2,
                "msisdn": "+79990000102",
                "state": "failed",
                "params": {},
                "code": "ALREADY_BLOCKED",
                "reason": "the line is already blocked",
                "updated_at": "2026-01-16T12:00:03Z",
            }
        ],
        "next_cursor": None,
    }
    request = inventory.last("ListOperationItems").request
    assert request.operation_id == OPERATION_ID
    assert list(request.states) == [operations_pb2.ITEM_STATE_FAILED, operations_pb2.ITEM_STATE_SKIPPED]
    assert (request.page_size, request.page_token) == (1000, "c2")


async def test_cancel(api, inventory):
    response = await api.post(f"/v1/operations/{OPERATION_ID}/cancel", headers=BEARER)

    assert response.status_code == 200
    assert response.json()["cancel_requested"] is True
    assert inventory.last("CancelOperation").request.operation_id == OPERATION_ID


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/v1/operations", {"state": "sleeping"}),
        ("GET", "/v1/operations", {"type": "explode"}),
        ("GET", "/v1/operations", {"limit": "0"}),
        ("GET", f"/v1/operations/{OPERATION_ID}/items", {"state": "done"}),
        ("GET", "/v1/operations/bad id!", {}),
        ("POST", "/v1/operations/bad id!/cancel", {}),
        ("GET", "/v1/operations/bad id!/events", {}),
    ],
)
async def test_invalid_reads_never_reach_inventory(api, inventory, problem, method, path, params):
    problem(await api.request(method, path, headers=BEARER, params=params), 422, "VALIDATION_FAILED")
    assert inventory.calls == []


@pytest.mark.parametrize(
    ("method", "path", "rpc"),
    [
        ("GET", "/v1/operations/01JA3D4E5F6G7H8J9K0M1N2P3Z", "GetOperation"),
        ("GET", "/v1/operations/01JA3D4E5F6G7H8J9K0M1N2P3Z/items", "ListOperationItems"),
        ("POST", "/v1/operations/01JA3D4E5F6G7H8J9K0M1N2P3Z/cancel", "CancelOperation"),
        ("GET", "/v1/operations/01JA3D4E5F6G7H8J9K0M1N2P3Z/events", "GetOperation"),
    ],
)
async def test_an_operation_inventory_does_not_show_is_a_404(api, inventory, problem, method, path, rpc):
    inventory.script(rpc, NotFound("there is no such operation", reason="OPERATION_NOT_FOUND"))

    response = await api.request(method, path, headers=BEARER)

    problem(response, 404, "OPERATION_NOT_FOUND")


async def test_cancelling_a_finished_operation_is_a_409(api, inventory, problem):
    inventory.script("CancelOperation", FailedPrecondition("the operation has finished", reason="OPERATION_FINISHED"))

    problem(await api.post(f"/v1/operations/{OPERATION_ID}/cancel", headers=BEARER), 409, "OPERATION_FINISHED")


# --------------------------------------------------------------- sim orders
async def test_order_sims(api, inventory):
    body = {
        "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
        "personal_account_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
        "quantity": 10,
        "tariff": "corp-unlimited",
    }

    response = await api.post("/v1/sim-orders", headers={**BEARER, "Idempotency-Key": "order-1"}, json=body)

    assert response.status_code == 202, response.text
    assert response.json()["type"] == "order_sims"
    assert response.headers["location"] == f"/v1/operations/{OPERATION_ID}"
    call = inventory.last("OrderSims")
    request = call.request
    assert (request.node_id, request.personal_account_id, request.quantity, request.tariff_code) == (
        "01JA0Z6X3W8T9R2Q1P0N5M4K7C",
        "01JA0Z6X3W8T9R2Q1P0N5M4K7D",
        10,
        "corp-unlimited",
    )
    assert request.idempotency_key == "order-1"
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_a_replayed_order_answers_200(api, inventory):
    inventory.script(
        "OrderSims",
        operations_pb2.OrderSimsResponse(
            operation=operation(type=operations_pb2.OPERATION_TYPE_ORDER_SIMS), replayed=True
        ),
    )

    response = await api.post(
        "/v1/sim-orders",
        headers={**BEARER, "Idempotency-Key": "order-1"},
        json={"node_id": "n1", "quantity": 1, "tariff": "BIZ-S"},
    )

    assert response.status_code == 200
    assert response.headers["idempotent-replayed"] == "true"
    request = inventory.last("OrderSims").request
    assert (request.personal_account_id, request.tariff_code) == ("", "BIZ-S")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"node_id": "n1", "quantity": 0}, "quantity"),
        ({"node_id": "n1", "quantity": 1001}, "quantity"),
        ({"quantity": 5}, "node_id"),
        ({"node_id": "n1", "quantity": 5, "colour": "red"}, "colour"),
        ({"node_id": "n1", "quantity": 5, "tariff": ""}, "tariff"),
        ({"node_id": "n1", "quantity": 5}, "tariff"),  # required, as the service requires it
        ({"node_id": "n1", "quantity": "5", "tariff": "BIZ-S"}, "quantity"),  # strictly an integer
        ({"node_id": "n1", "quantity": 5.0, "tariff": "BIZ-S"}, "quantity"),
        ({"node_id": "n1", "quantity": True, "tariff": "BIZ-S"}, "quantity"),
    ],
)
async def test_invalid_orders_never_reach_inventory(api, inventory, problem, body, field):
    found = problem(await api.post("/v1/sim-orders", headers=BEARER, json=body), 422, "VALIDATION_FAILED")
    assert field in [e["field"] for e in found["errors"]]
    assert inventory.calls == []


@pytest.mark.parametrize(
    ("path", "rpc", "body", "field", "reason"),
    [
        (
            "/v1/sim-orders",
            "OrderSims",
            {"node_id": "n1", "quantity": 1, "tariff": "BIZ-S"},
            "personal_account_id",
            "PERSONAL_ACCOUNT_REQUIRED",
        ),
        (
            "/v1/operations",
            "CreateOperation",
            {"type": "move", "lines": ["+79990000101"], "params": {"personal_account_id": "n1"}},
            "params.personal_account_id",
            "NOT_A_PERSONAL_ACCOUNT",
        ),
    ],
)
async def test_billing_lines_to_what_is_not_a_personal_account_is_a_422(
    api, inventory, problem, path, rpc, body, field, reason
):
    message = "lines are billed to a personal account, and this node is a department"
    inventory.script(rpc, InvalidArgument(message, reason=reason, field_violations={field: message}))

    found = problem(await api.post(path, headers=BEARER, json=body), 422, reason)

    assert found["errors"] == [{"field": field, "pointer": "/" + field.replace(".", "/"), "message": message}]
    assert found["detail"] == message


# ------------------------------------------------------------ event stream
def parse_events(text: str, *, ids: list[str] | None = None) -> list[tuple[str, Any]]:
    """(event, data as JSON) per event, ("comment", text) per comment line; each event's id into ``ids``."""
    events: list[tuple[str, Any]] = []
    for block in text.split("\n\n"):
        if not block or block.startswith("retry: "):
            continue
        if block.startswith(":"):
            events.append(("comment", block[1:].strip()))
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], json.loads(fields["data"])))
        if ids is not None:
            ids.append(fields["id"])
    return events


def running(pending: int, succeeded: int = 0, failed: int = 0) -> operations_pb2.GetOperationResponse:
    counts = operations_pb2.ItemCounts(
        total=pending + succeeded + failed, pending=pending, succeeded=succeeded, failed=failed
    )
    return operations_pb2.GetOperationResponse(operation=operation(RUNNING, counts=counts))


async def follow(gateway: Any, **headers: str) -> httpx.Response:
    return await gateway.client.get(f"/v1/operations/{OPERATION_ID}/events", headers={**BEARER, **headers}, timeout=10)


async def test_a_browser_reconnecting_resumes_where_it_was(open_inventory_gateway, inventory):
    """Events carry ids and the stream says how soon to reconnect; Last-Event-ID spares an unchanged state."""
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01, operation_events_max_seconds=5)
    inventory.script("GetOperation", *[running(2)] * 5, running(2, 1))  # it changes, then ends
    first = await follow(gateway)
    assert first.text.startswith("retry: 3000\n\n")
    ids: list[str] = []
    assert [name for name, _ in parse_events(first.text, ids=ids)] == ["progress", "progress", "finished"]
    seen = ids[0]  # the client lost the connection after the first event

    inventory.reset()
    inventory.script("GetOperation", running(2), running(2), running(1, 1))
    resumed: list[str] = []
    events = parse_events((await follow(gateway, **{"Last-Event-ID": seen})).text, ids=resumed)
    # The state the client had is not sent again; what changed since is, then the end.
    assert [name for name, _ in events if name != "comment"] == ["progress", "finished"]
    assert events[0][1]["counts"]["succeeded"] == 1
    assert seen not in resumed and len(set(resumed)) == 2

    inventory.reset()
    inventory.script("GetOperation", running(1, 1))
    changed = parse_events((await follow(gateway, **{"Last-Event-ID": seen})).text)
    assert changed[0][0] == "progress" and changed[0][1]["counts"]["succeeded"] == 1  # not the state it had


async def test_the_stream_tells_each_change_then_the_end(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01)
    inventory.script("GetOperation", running(2), running(2), running(1, 1), running(1, 1))

    response = await follow(gateway)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    events = parse_events(response.text)
    assert [name for name, _ in events] == ["progress", "progress", "finished"]
    assert events[0][1]["counts"]["pending"] == 2
    assert events[1][1]["counts"]["succeeded"] == 1
    assert events[2][1]["state"] == "completed"
    assert events[2][1]["counts"]["succeeded"] == 2
    assert events[2][1]["finished_at"] == "2026-01-16T12:00:04Z"
    # Four scripted answers and the default (finished) one: no poll after the end.
    assert inventory.count("GetOperation") == 5
    assert all(c.metadata["authorization"] == "Bearer access.token.1" for c in inventory.calls)


async def test_a_finished_operation_streams_once_and_ends(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway()

    events = parse_events((await follow(gateway)).text)

    assert [name for name, _ in events] == ["progress", "finished"]
    assert events[0][1] == events[1][1]
    assert inventory.count("GetOperation") == 1


async def test_a_quiet_stream_is_kept_alive(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01, operation_events_keepalive_seconds=0.03)
    inventory.script("GetOperation", *[running(2)] * 12)

    events = parse_events((await follow(gateway)).text)

    assert events[0][0] == "progress"
    assert events[-1][0] == "finished"
    assert ("comment", "keep-alive") in events
    assert [name for name, _ in events if name != "comment"] == ["progress", "finished"]


async def test_a_stream_ends_when_its_time_is_up(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01, operation_events_max_seconds=0.1)
    inventory.script("GetOperation", *[running(2)] * 200)

    events = parse_events((await follow(gateway)).text)

    assert events[0][0] == "progress"
    assert events[-1][0] == "comment"
    assert "time is up" in events[-1][1]
    assert "finished" not in [name for name, _ in events]
    assert inventory.count("GetOperation") < 200


async def test_inventory_failing_mid_stream_ends_it_with_a_problem(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01)
    inventory.script("GetOperation", running(2), Unauthenticated("the session has ended", reason="SESSION_EXPIRED"))

    response = await follow(gateway)

    events = parse_events(response.text)
    assert [name for name, _ in events] == ["progress", "error"]
    problem = events[1][1]
    assert (problem["status"], problem["reason"]) == (401, "SESSION_EXPIRED")
    assert problem["instance"] == f"/v1/operations/{OPERATION_ID}/events"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert inventory.count("GetOperation") == 2


async def test_the_stream_stops_when_the_client_goes_away(open_inventory_gateway, inventory):
    gateway = await open_inventory_gateway(operation_events_poll_seconds=0.01)
    inventory.script("GetOperation", *[running(2)] * 1000)
    path = f"/v1/operations/{OPERATION_ID}/events"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway.test"), (b"authorization", b"Bearer access.token.1")],
        "client": ("203.0.113.10", 50000),
        "server": ("gateway.test", 80),
    }
    gone = asyncio.Event()
    requested = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            chunks.append(message["body"])
            gone.set()  # the client leaves after the first event

    await asyncio.wait_for(gateway.app(scope, receive, send), timeout=5)

    polls = inventory.count("GetOperation")
    await asyncio.sleep(0.1)
    assert inventory.count("GetOperation") == polls  # nothing polls for a client that left
    assert polls < 10
    assert b"".join(chunks).startswith(b"retry: 3000\n\nevent: progress\n")
