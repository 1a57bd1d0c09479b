"""The OpenAPI document frontend teams generate clients from."""

from __future__ import annotations

import json
import re

import pytest

from simfleet_devstack.seed import DEMO_MANAGER, DEMO_OPERATOR, DEMO_SUPPORT

ENDPOINTS = {
    ("post", "/v1/auth/otp"),
    ("post", "/v1/auth/otp/verify"),
    ("post", "/v1/auth/password"),
    ("post", "/v1/auth/refresh"),
    ("post", "/v1/auth/logout"),
    ("post", "/v1/auth/password-reset"),
    ("post", "/v1/auth/password-reset/confirm"),
    ("get", "/v1/auth/jwks.json"),
    ("get", "/v1/me"),
    ("put", "/v1/me/password"),
    ("get", "/v1/me/sign-ins"),
    ("get", "/v1/nodes"),
    ("post", "/v1/nodes"),
    ("get", "/v1/nodes/{node_id}"),
    ("patch", "/v1/nodes/{node_id}"),
    ("delete", "/v1/nodes/{node_id}"),
    ("get", "/v1/nodes/{node_id}/children"),
    ("post", "/v1/nodes/{node_id}/move"),
    ("get", "/v1/nodes/{node_id}/summary"),
    ("get", "/v1/users"),
    ("post", "/v1/users"),
    ("get", "/v1/users/{user_id}"),
    ("post", "/v1/users/{user_id}/disable"),
    ("post", "/v1/users/{user_id}/enable"),
    ("get", "/v1/users/{user_id}/grants"),
    ("post", "/v1/users/{user_id}/grants"),
    ("delete", "/v1/users/{user_id}/grants/{grant_id}"),
    ("get", "/v1/roles"),
    ("post", "/v1/roles"),
    ("put", "/v1/roles/{role_id}"),
    ("delete", "/v1/roles/{role_id}"),
    ("get", "/v1/permissions"),
    ("get", "/v1/audit-events"),
    ("get", "/v1/admin/customers"),
    ("post", "/v1/admin/customers"),
    ("get", "/v1/admin/customers/{customer_id}"),
    ("post", "/v1/admin/customers/{customer_id}/accounts"),
    ("get", "/v1/lines"),
    ("get", "/v1/lines/{msisdn}"),
    ("get", "/v1/lines/{msisdn}/puk"),
    ("get", "/v1/lines/{msisdn}/location"),
    ("get", "/v1/lines/{msisdn}/apns"),
    ("get", "/v1/lines/saved-filters"),
    ("post", "/v1/lines/saved-filters"),
    ("delete", "/v1/lines/saved-filters/{filter_id}"),
    ("get", "/v1/lines/groups"),
    ("post", "/v1/lines/groups"),
    ("get", "/v1/lines/groups/{group_id}"),
    ("patch", "/v1/lines/groups/{group_id}"),
    ("delete", "/v1/lines/groups/{group_id}"),
    ("get", "/v1/numbers/free"),
    ("get", "/v1/sims/reserve"),
    ("post", "/v1/operations"),
    ("get", "/v1/operations"),
    ("get", "/v1/operations/{operation_id}"),
    ("get", "/v1/operations/{operation_id}/items"),
    ("post", "/v1/operations/{operation_id}/cancel"),
    ("get", "/v1/operations/{operation_id}/events"),
    ("post", "/v1/sim-orders"),
    ("get", "/v1/personal-accounts/{personal_account_id}/balance"),
    ("get", "/v1/personal-accounts/{personal_account_id}/postings"),
    ("put", "/v1/personal-accounts/{personal_account_id}/bill-delivery"),
    ("post", "/v1/personal-accounts/{personal_account_id}/transfers"),
    ("get", "/v1/lines/{msisdn}/usage"),
    ("post", "/v1/personal-accounts/{personal_account_id}/payments"),
    ("get", "/v1/personal-accounts/{personal_account_id}/payments"),
    ("get", "/v1/personal-accounts/{personal_account_id}/payments/{payment_id}"),
    ("get", "/v1/personal-accounts/{personal_account_id}/auto-payment"),
    ("put", "/v1/personal-accounts/{personal_account_id}/auto-payment"),
    ("delete", "/v1/personal-accounts/{personal_account_id}/auto-payment"),
    ("post", "/v1/personal-accounts/{personal_account_id}/promised-payments"),
    ("get", "/v1/personal-accounts/{personal_account_id}/promised-payments"),
    ("get", "/v1/personal-accounts/{personal_account_id}/promised-payments/{promised_payment_id}"),
    ("post", "/v1/personal-accounts/{personal_account_id}/promised-payments/{promised_payment_id}/repay"),
    ("post", "/v1/lines/{msisdn}/promised-payment"),
    ("post", "/v1/nodes/{node_id}/promised-payments"),
    ("get", "/v1/personal-accounts/{personal_account_id}/settlement-method"),
    ("put", "/v1/personal-accounts/{personal_account_id}/settlement-method"),
    ("get", "/v1/tariffs"),
    ("post", "/v1/spending-limits"),
    ("get", "/v1/spending-limits"),
    ("get", "/v1/spending-limits/{limit_id}"),
    ("put", "/v1/spending-limits/{limit_id}"),
    ("delete", "/v1/spending-limits/{limit_id}"),
    ("get", "/v1/options"),
    ("post", "/v1/lines/availability"),
    ("get", "/v1/personal-accounts/{personal_account_id}/statement"),
    ("get", "/v1/nodes/{node_id}/finances"),
    ("post", "/v1/tickets"),
    ("get", "/v1/tickets"),
    ("get", "/v1/tickets/{ticket_id}"),
    ("get", "/v1/tickets/{ticket_id}/history"),
    ("post", "/v1/tickets/{ticket_id}/notes"),
    ("post", "/v1/tickets/{ticket_id}/cancel"),
    ("post", "/v1/tickets/{ticket_id}/reopen"),
    ("post", "/v1/tickets/{ticket_id}/confirm-resolution"),
    ("get", "/v1/admin/tickets"),
    ("get", "/v1/admin/tickets/{ticket_id}"),
    ("post", "/v1/admin/tickets/{ticket_id}/assign"),
    ("post", "/v1/admin/tickets/{ticket_id}/transition"),
    ("post", "/v1/admin/tickets/{ticket_id}/answers"),
    ("post", "/v1/tickets/{ticket_id}/attachments"),
    ("get", "/v1/tickets/{ticket_id}/attachments/{attachment_id}"),
    ("post", "/v1/admin/tickets/{ticket_id}/attachments"),
    ("get", "/v1/admin/tickets/{ticket_id}/attachments/{attachment_id}"),
    ("get", "/v1/forms"),
    ("post", "/v1/forms/{code}/fill"),
    ("get", "/v1/me/notification-preferences"),
    ("put", "/v1/me/notification-preferences"),
    ("get", "/v1/me/notices"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/packages/offers"),
    ("post", "/v1/packages/purchases"),
    ("get", "/v1/packages/purchases"),
    ("get", "/v1/packages/purchases/{purchase_id}"),
    ("get", "/v1/packages/purchases/{purchase_id}/receipt"),
}


@pytest.fixture
async def document(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


async def test_it_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == "SIMfleet API"


async def test_it_lists_every_endpoint_and_nothing_else(document):
    assert {(m, p) for m, p, _ in _operations(document)} == ENDPOINTS


async def test_every_body_and_answer_has_an_example(document):
    missing = []
    for method, path, operation in _operations(document):
        bodies = operation.get("requestBody", {}).get("content", {})
        for media, content in bodies.items():
            if not (content.get("examples") or _resolve(document, content["schema"]).get("examples")):
                missing.append(f"{method} {path} request {media}")
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                if not _resolve(document, content["schema"]).get("examples"):
                    missing.append(f"{method} {path} {status} {media}")
    assert missing == []


async def test_errors_are_documented_as_problems(document):
    for method, path, operation in _operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert "503" in errors or path == "/healthz", f"{method} {path}"
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], f"{method} {path} {status}"
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}


async def test_success_statuses(document):
    statuses = {(m, p): set(op["responses"]) for m, p, op in _operations(document)}
    assert "202" in statuses[("post", "/v1/auth/otp")]
    assert "202" in statuses[("post", "/v1/auth/password-reset")]
    assert "204" in statuses[("post", "/v1/auth/logout")]
    assert "204" in statuses[("put", "/v1/me/password")]
    assert "200" in statuses[("post", "/v1/auth/otp/verify")]
    assert "201" in statuses[("post", "/v1/nodes")]
    assert "204" in statuses[("delete", "/v1/nodes/{node_id}")]
    assert {"202", "200"} <= statuses[("post", "/v1/operations")]
    assert {"202", "200"} <= statuses[("post", "/v1/sim-orders")]


async def test_the_event_stream_is_documented_as_such(document):
    answer = document["paths"]["/v1/operations/{operation_id}/events"]["get"]["responses"]["200"]
    assert list(answer["content"]) == ["text/event-stream"]


async def test_me_endpoints_declare_the_bearer_scheme(document):
    schemes = document["components"]["securitySchemes"]
    [(name, scheme)] = schemes.items()
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for method, path, operation in _operations(document):
        if path.startswith(
            (
                "/v1/me",
                "/v1/nodes",
                "/v1/users",
                "/v1/roles",
                "/v1/permissions",
                "/v1/audit-events",
                "/v1/admin",
                "/v1/lines",
                "/v1/numbers",
                "/v1/sims",
                "/v1/operations",
                "/v1/sim-orders",
                "/v1/packages",
                "/v1/tickets",
            )
        ):
            assert operation["security"] == [{name: []}], f"{method} {path}"
    logout = document["paths"]["/v1/auth/logout"]["post"]
    assert logout["security"] == [{name: []}, {}]  # optional there


async def test_enums_are_documented(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["StartOtpRequest"]["properties"]["channel"]["enum"]) == {"sms", "email"}
    assert set(schemas["UserResponse"]["properties"]["status"]["enum"]) == {"active", "disabled"}
    assert "otp_sms" in schemas["SignInItem"]["properties"]["method"]["enum"]
    assert set(schemas["LineResponse"]["properties"]["state"]["enum"]) == {"ready", "active", "blocked", "terminated"}
    assert "completed_with_errors" in schemas["OperationResponse"]["properties"]["state"]["enum"]
    body = document["paths"]["/v1/operations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "type"
    assert "block" in mapping and "send_sms" in mapping and "order_sims" not in mapping
    assert len(body["oneOf"]) == len(mapping)
    block = schemas[mapping["block"].rsplit("/", 1)[1]]
    params = schemas[block["properties"]["params"]["$ref"].rsplit("/", 1)[1]]
    assert set(params["properties"]["block_type"]["enum"]) == {"voluntary", "lost_or_stolen", "financial", "scheduled"}


async def test_every_operation_has_a_unique_human_operation_id(document):
    ids = [operation.get("operationId", "") for _, _, operation in _operations(document)]
    assert [i for i in ids if not re.fullmatch(r"[a-z][A-Za-z]+", i)] == []
    assert len(ids) == len(set(ids))
    by_route = {(m, p): op["operationId"] for m, p, op in _operations(document)}
    assert by_route[("get", "/v1/lines")] == "listLines"
    assert by_route[("get", "/v1/lines/{msisdn}")] == "getLine"
    assert by_route[("post", "/v1/operations")] == "createOperation"
    assert by_route[("get", "/v1/operations")] == "listOperations"
    assert by_route[("post", "/v1/operations/{operation_id}/cancel")] == "cancelOperation"
    assert by_route[("post", "/v1/auth/password")] == "signInWithPassword"
    assert by_route[("post", "/v1/auth/otp")] == "requestOneTimeCode"


async def test_every_tag_is_described(document):
    described = {tag["name"]: tag.get("description", "") for tag in document["tags"]}
    used = {tag for _, _, operation in _operations(document) for tag in operation.get("tags", [])}
    assert used <= set(described)
    assert all(described[tag].strip() for tag in used)
    assert all(operation.get("tags") for _, _, operation in _operations(document))


async def test_response_headers_are_documented_where_they_are_sent(document):
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, f"{method} {path} {status}"
            if status in ("429", "503"):
                assert headers["Retry-After"]["schema"]["type"] == "integer", f"{method} {path} {status}"
    located = {
        *((m, p, "201") for m, p, op in _operations(document) if "201" in op["responses"]),
        ("post", "/v1/operations", "202"),
        ("post", "/v1/operations", "200"),
        ("post", "/v1/sim-orders", "202"),
        ("post", "/v1/sim-orders", "200"),
    }
    documented = {
        (m, p, s)
        for m, p, op in _operations(document)
        for s, response in op["responses"].items()
        if "Location" in response.get("headers", {})
    }
    assert documented == located
    replayed = {
        (m, p, s)
        for m, p, op in _operations(document)
        for s, response in op["responses"].items()
        if "Idempotent-Replayed" in response.get("headers", {})
    }
    assert replayed == {
        ("post", "/v1/operations", "200"),
        ("post", "/v1/sim-orders", "200"),
        ("post", "/v1/personal-accounts/{personal_account_id}/transfers", "200"),
        ("post", "/v1/personal-accounts/{personal_account_id}/payments", "200"),
        ("post", "/v1/personal-accounts/{personal_account_id}/promised-payments", "200"),
        ("post", "/v1/lines/{msisdn}/promised-payment", "200"),
        ("post", "/v1/spending-limits", "200"),
        ("post", "/v1/packages/purchases", "200"),
        ("post", "/v1/tickets", "200"),
    }


async def test_no_example_carries_a_seeded_credential(document):
    """Fuzzers and tutorials send the examples: none may sign in as the demo manager or operator."""
    text = json.dumps(document)
    for user in (DEMO_MANAGER, DEMO_OPERATOR, DEMO_SUPPORT):
        assert user.phone not in text
        assert user.password not in text


async def test_a_body_too_large_is_documented_wherever_a_body_is_taken(document):
    for method, path, operation in _operations(document):
        if "requestBody" in operation:
            assert "413" in operation["responses"], f"{method} {path}"
