"""Human-readable text with control or bidirectional characters is refused (422, the field named) before any service
is asked; so is an operation scheduled beyond the horizon."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from gateway.admin.schemas import CreateAccountRequest, OnboardCustomerRequest
from gateway.nodes.schemas import CreateNodeRequest, RenameNodeRequest
from gateway.operations.schemas import OPERATION_BODIES, SCHEDULE_HORIZON
from gateway.roles.schemas import RoleBody
from gateway.users.schemas import InviteUserRequest

BEARER = {"Authorization": "Bearer access.token.1"}
SPOOFS = ["Sales\u202e", "Sa\u0000les", "\u2066Sales\u2069", "\u200fSales", "Sa\u200eles", "Sa\x1bles", "Sa\x9bles"]
NODE = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"
ONBOARDING: dict[str, Any] = {
    "legal_entity": {
        "name": "Demo Logistics LLC",
        "tax_number": "7707083893",
        "registration_number": "1027700132195",
        "tax_registration_reason_code": "773601001",
    },
    "contracts": [{"number": "SF-1", "signed_on": "2026-01-15"}],
    "general_account": {"name": "General", "account_number": "4000000001"},
    "business_accounts": [
        {
            "name": "Business",
            "account_number": "4000000002",
            "personal_accounts": [{"name": "Personal", "account_number": "4000000003"}],
        }
    ],
    "profile_manager": {"phone": "+79990000001", "email": "pm@example.com", "name": "Profile Manager"},
}
BLOCK_BY_LABEL: dict[str, Any] = {"type": "block", "selection": {"label": "vip"}, "params": {"block_type": "voluntary"}}


def _with(body: dict[str, Any], path: str, value: str) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return changed


CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (CreateNodeRequest, {"parent_id": NODE, "kind": "department", "name": "Sales"}, "name"),
    (RenameNodeRequest, {"name": "Sales"}, "name"),
    (RoleBody, {"name": "Reader", "permissions": ["lines:read"]}, "name"),
    (RoleBody, {"name": "Reader", "description": "Reads", "permissions": ["lines:read"]}, "description"),
    (
        InviteUserRequest,
        {
            "phone": "+79990000002",
            "email": "a@example.com",
            "name": "Ann",
            "grants": [{"role": "viewer", "node_id": NODE}],
        },
        "name",
    ),
    (OnboardCustomerRequest, ONBOARDING, "legal_entity.name"),
    (OnboardCustomerRequest, ONBOARDING, "general_account.name"),
    (OnboardCustomerRequest, ONBOARDING, "business_accounts.0.personal_accounts.0.name"),
    (OnboardCustomerRequest, ONBOARDING, "profile_manager.name"),
    (
        CreateAccountRequest,
        {"parent_id": NODE, "kind": "personal_account", "name": "Couriers", "account_number": "4300000004"},
        "name",
    ),
    (OPERATION_BODIES["block"], BLOCK_BY_LABEL, "selection.label"),
    (OPERATION_BODIES["block"], {**BLOCK_BY_LABEL, "selection": {"group": "fleet"}}, "selection.group"),
    (OPERATION_BODIES["block"], {**BLOCK_BY_LABEL, "selection": {"tariff": "corp"}}, "selection.tariff"),
]


@pytest.mark.parametrize(("model", "body", "field"), CASES, ids=[f"{m.__name__}.{f}" for m, _, f in CASES])
@pytest.mark.parametrize("text", SPOOFS)
def test_every_human_readable_field_refuses_control_and_bidi_characters(model, body, field, text):
    model.model_validate(body)  # the plain body is valid

    with pytest.raises(ValidationError) as refused:
        model.model_validate(_with(body, field, text))

    (error,) = refused.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == field
    assert "control characters" in error["msg"]


@pytest.mark.parametrize("name", ["Отдел продаж", "営業部", "قسم المبيعات", "Zoë 👩\u200d👩\u200d👧"])
def test_text_of_any_script_is_taken(name):
    assert RoleBody.model_validate({"name": name, "permissions": ["lines:read"]}).name == name


async def test_a_spoofed_role_name_is_a_422_naming_the_field_and_identity_is_not_asked(client, identity, problem):
    response = await client.post(
        "/v1/roles", headers=BEARER, json={"name": "\u202enimda", "permissions": ["lines:read"]}
    )

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert identity.calls == []


async def test_a_spoofed_label_is_a_422_and_inventory_is_not_asked(api, inventory, problem):
    response = await api.post(
        "/v1/operations", headers=BEARER, json=_with(BLOCK_BY_LABEL, "selection.label", "v\u2067ip")
    )

    body = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in body["errors"]] == ["selection.label"]
    assert inventory.calls == []


async def test_an_operation_scheduled_beyond_the_horizon_is_a_422_naming_scheduled_at(api, inventory, problem):
    too_far = datetime.now(UTC) + SCHEDULE_HORIZON + timedelta(hours=1)
    body = {"type": "block", "lines": ["+79990000101"], "params": {"block_type": "voluntary"}}

    response = await api.post("/v1/operations", headers=BEARER, json={**body, "scheduled_at": too_far.isoformat()})

    found = problem(response, 422, "VALIDATION_FAILED")
    assert [e["field"] for e in found["errors"]] == ["scheduled_at"]
    assert f"{SCHEDULE_HORIZON.days} days" in found["errors"][0]["message"]
    assert inventory.calls == []
    within = datetime.now(UTC) + SCHEDULE_HORIZON - timedelta(hours=1)
    accepted = await api.post("/v1/operations", headers=BEARER, json={**body, "scheduled_at": within.isoformat()})
    assert accepted.status_code == 202, accepted.text


def test_the_horizon_is_documented(gateway):
    schemas = gateway.app.openapi()["components"]["schemas"]
    for name in OPERATION_BODIES:
        schema = schemas[OPERATION_BODIES[name].__name__]
        assert f"at most {SCHEDULE_HORIZON.days} days ahead" in schema["properties"]["scheduled_at"]["description"]
