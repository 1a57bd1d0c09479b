"""/v1/admin: the back-office routes, on a scripted accounts; what accounts is asked, answers, refusals.

Whether the caller is operator staff is accounts' decision (services/accounts/tests); the body's own rules
(text, lengths) are the schemas' (test_edge_text.py).
"""

from __future__ import annotations

import copy

import pytest

from simfleet.accounts.v1 import admin_pb2 as pb
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet_runtime.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied

from .conftest import _ts

BEARER = {"Authorization": "Bearer staff.token.1"}
CUSTOMER_ID = "01JA2C3D4E5F6G7H8J9K0M1N2P"
ROOT = "01JA2C3D4E5F6G7H8J9K0M1N2Q"
ONBOARDING = {
    "legal_entity": {
        "name": "Northwind Freight LLC",
        "tax_number": "7707083893",
        "registration_number": "1027700132195",
        "tax_registration_reason_code": "773601001",
    },
    "contracts": [{"number": "SF-2026/0042", "signed_on": "2026-02-01"}],
    "general_account": {"name": "General account", "account_number": "4300000001"},
    "business_accounts": [
        {
            "name": "Head office",
            "account_number": "4300000002",
            "personal_accounts": [{"name": "Management", "account_number": "4300000003"}],
        }
    ],
    "profile_manager": {"phone": "+79990001234", "email": "it@northwind.example", "name": "Anna Petrova"},
}


def customer(**changes: object) -> pb.Customer:
    fields: dict[str, object] = {
        "id": CUSTOMER_ID,
        "legal_entity": pb.LegalEntity(
            name="Northwind Freight LLC", tax_number="7707083893", registration_number="1027700132195"
        ),
        "contracts": [pb.Contract(number="SF-2026/0042", signed_on="2026-02-01")],
        "status": pb.CUSTOMER_STATUS_ACTIVE,
        "root_node_id": ROOT,
        "profile_manager_user_id": "01JA2C3D4E5F6G7H8J9K0M1N2R",
        "created_at": _ts(1_768_469_400),
    }
    fields.update(changes)
    return pb.Customer(**fields)  # type: ignore[arg-type]


def node(node_id: str, parent: str, kind: int, number: str = "") -> hierarchy_pb2.Node:
    return hierarchy_pb2.Node(
        id=node_id,
        customer_id=CUSTOMER_ID,
        parent_id=parent,
        kind=kind,  # type: ignore[arg-type]
        name=node_id,
        account_number=number,
        created_at=_ts(1_768_469_400),
        updated_at=_ts(1_768_469_400),
    )


async def test_onboarding_sends_the_whole_body_with_the_key_and_answers_the_customer(accounts_client, accounts):
    accounts.script(
        "OnboardCustomer",
        pb.OnboardCustomerResponse(
            customer=customer(),
            nodes=[
                node(ROOT, "", hierarchy_pb2.NODE_KIND_COMPANY),
                node("G", ROOT, hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT, "4300000001"),
            ],
        ),
    )

    response = await accounts_client.post(
        "/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "onboard-northwind"}, json=ONBOARDING
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/admin/customers/{CUSTOMER_ID}"
    body = response.json()
    assert (body["customer"]["id"], body["customer"]["status"]) == (CUSTOMER_ID, "active")
    assert [(n["id"], n["parent_id"], n["kind"], n["account_number"]) for n in body["nodes"]] == [
        (ROOT, None, "company", None),
        ("G", ROOT, "general_account", "4300000001"),
    ]
    call = accounts.last("OnboardCustomer")
    assert call.metadata["authorization"] == "Bearer staff.token.1"
    request = call.request
    assert request.request_id == "onboard-northwind"
    assert request.legal_entity.tax_registration_reason_code == "773601001"
    assert [(c.number, c.signed_on) for c in request.contracts] == [("SF-2026/0042", "2026-02-01")]
    assert request.general_account.account_number == "4300000001"
    (head_office,) = request.business_accounts
    assert (head_office.name, [p.account_number for p in head_office.children]) == ("Head office", ["4300000003"])
    assert (request.profile_manager.phone, request.profile_manager.display_name) == ("+79990001234", "Anna Petrova")


async def test_onboarding_needs_an_idempotency_key_before_accounts_is_asked(accounts_client, accounts, problem):
    response = await accounts_client.post("/v1/admin/customers", headers=BEARER, json=ONBOARDING)

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == ["idempotency-key"]
    assert accounts.calls == []


async def test_an_onboarding_without_contracts_is_refused_before_accounts_is_asked(accounts_client, accounts, problem):
    body = copy.deepcopy(ONBOARDING)
    body["contracts"] = []

    response = await accounts_client.post("/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "k"}, json=body)

    assert "contracts" in {e["field"] for e in problem(response, 422, "VALIDATION_FAILED")["errors"]}
    assert accounts.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (PermissionDenied("operator staff only", reason="OPERATOR_ONLY"), 403),
        (AlreadyExists("a customer has this tax number", reason="CUSTOMER_EXISTS"), 409),
        (
            InvalidArgument(
                "the key was used for another request",
                reason="IDEMPOTENCY_KEY_REUSED",
                field_violations={"request_id": "used for another request"},
            ),
            422,
        ),
    ],
)
async def test_accounts_refusal_of_an_onboarding_is_a_problem(accounts_client, accounts, problem, error, status):
    accounts.script("OnboardCustomer", error)

    response = await accounts_client.post(
        "/v1/admin/customers", headers={**BEARER, "Idempotency-Key": "k"}, json=ONBOARDING
    )

    assert problem(response, status, error.reason)["detail"] == error.message
    assert "location" not in response.headers


async def test_customers_are_listed_with_the_callers_filters_and_not_cached(accounts_client, accounts):
    accounts.script(
        "ListCustomers",
        pb.ListCustomersResponse(
            customers=[customer(status=pb.CUSTOMER_STATUS_SUSPENDED), customer(id="x", status=0)],  # type: ignore[arg-type]
            next_page_token="p2",
        ),
    )

    response = await accounts_client.get(
        "/v1/admin/customers", params={"q": "north", "sort": "name", "limit": 2, "cursor": "p1"}, headers=BEARER
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert [c["status"] for c in response.json()["items"]] == ["suspended", "unspecified"]
    assert response.json()["next_cursor"] == "p2"
    request = accounts.last("ListCustomers").request
    assert (request.query, request.order_by, request.page_size, request.page_token) == ("north", "name", 2, "p1")


async def test_the_customer_list_defaults_to_newest_first(accounts_client, accounts):
    response = await accounts_client.get("/v1/admin/customers", headers=BEARER)

    assert response.json() == {"items": [], "next_cursor": None}
    request = accounts.last("ListCustomers").request
    assert (request.query, request.order_by, request.page_size, request.page_token) == ("", "-created_at", 100, "")


async def test_one_customer_by_id_and_an_unknown_one_is_a_404(accounts_client, accounts, problem):
    accounts.script(
        "GetCustomer", pb.GetCustomerResponse(customer=customer()), NotFound("no", reason="CUSTOMER_NOT_FOUND")
    )

    found = await accounts_client.get(f"/v1/admin/customers/{CUSTOMER_ID}", headers=BEARER)
    missing = await accounts_client.get("/v1/admin/customers/01JA2C3D4E5F6G7H8J9K0MZZZZ", headers=BEARER)

    assert found.status_code == 200, found.text
    assert found.json()["legal_entity"]["tax_registration_reason_code"] == ""
    problem(missing, 404, "CUSTOMER_NOT_FOUND")
    assert [c.request.customer_id for c in accounts.calls] == [CUSTOMER_ID, "01JA2C3D4E5F6G7H8J9K0MZZZZ"]


@pytest.mark.parametrize(
    ("kind", "proto_kind"),
    [
        ("business_account", hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT),
        ("personal_account", hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT),
    ],
)
async def test_an_account_is_added_under_its_parent_with_the_nodes_location(
    accounts_client, accounts, kind, proto_kind
):
    accounts.script("CreateAccount", pb.CreateAccountResponse(node=node("NEW", ROOT, proto_kind, "4300000009")))

    response = await accounts_client.post(
        f"/v1/admin/customers/{CUSTOMER_ID}/accounts",
        headers=BEARER,
        json={"parent_id": ROOT, "kind": kind, "name": "Branch", "account_number": "4300000009"},
    )

    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/v1/nodes/NEW"
    assert response.json()["kind"] == kind
    request = accounts.last("CreateAccount").request
    assert (request.customer_id, request.parent_id, request.kind, request.name, request.account_number) == (
        CUSTOMER_ID,
        ROOT,
        proto_kind,
        "Branch",
        "4300000009",
    )


async def test_only_business_and_personal_accounts_can_be_added(accounts_client, accounts, problem):
    response = await accounts_client.post(
        f"/v1/admin/customers/{CUSTOMER_ID}/accounts",
        headers=BEARER,
        json={"parent_id": ROOT, "kind": "company", "name": "Another", "account_number": "4300000010"},
    )

    assert "kind" in {e["field"] for e in problem(response, 422, "VALIDATION_FAILED")["errors"]}
    assert accounts.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/admin/customers"),
        ("POST", "/v1/admin/customers"),
        ("GET", f"/v1/admin/customers/{CUSTOMER_ID}"),
        ("POST", f"/v1/admin/customers/{CUSTOMER_ID}/accounts"),
    ],
)
async def test_every_back_office_route_needs_a_bearer_before_accounts_is_asked(
    accounts_client, accounts, problem, method, path
):
    response = await accounts_client.request(method, path, headers={"Idempotency-Key": "k"})

    problem(response, 401, "UNAUTHENTICATED")
    assert accounts.calls == []
