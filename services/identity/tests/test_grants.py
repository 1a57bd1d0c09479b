"""Users created with grants (ID-9, ID-11): what the token carries, idempotent creation, the invitation."""

from __future__ import annotations

import pytest

from identity.grants.roles import OPERATOR_ROLES, PREDEFINED
from simfleet_runtime.authz import OPERATOR_PERMISSIONS, PERMISSIONS, TICKETS_SUPPORT, grants_from_claims
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import AlreadyExists, InvalidArgument, NotFound
from simfleet_runtime.ids import new_id

from .conftest import CALL, CUSTOMER, Harness

PHONE = "+79990000042"
PASSWORD = "Another-Passw0rd-2026"


async def create(h: Harness, **overrides: object) -> object:
    values: dict[str, object] = {
        "customer_id": CUSTOMER,
        "phone": PHONE,
        "email": "head.of.sales@demo.example",
        "display_name": "Head of Sales",
        "password": PASSWORD,
    }
    values.update(overrides)
    return await h.identity.users.create(**values)  # type: ignore[arg-type]


def test_the_predefined_roles_draw_from_the_catalogue() -> None:
    assert set(PREDEFINED) == {
        "profile_manager",
        "account_manager",
        "number_manager",
        "viewer",
        "coordinator_assistant",
    }
    assert PREDEFINED["profile_manager"].permissions == frozenset(PERMISSIONS)
    assert all(role.permissions <= PERMISSIONS.keys() for role in PREDEFINED.values())
    assert all(p.endswith(":read") for p in PREDEFINED["viewer"].permissions)
    assert "users:manage" not in PREDEFINED["account_manager"].permissions


async def test_the_access_token_carries_the_grants(harness: Harness) -> None:
    sales, north = new_id(), new_id()
    await create(harness, grant_specs=[("viewer", sales), ("number_manager", north)])
    tokens = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    grants = grants_from_claims(principal.claims)
    assert [(g.node_id, g.role) for g in grants] == [(sales, "viewer"), (north, "number_manager")]
    assert grants[1].permissions == PREDEFINED["number_manager"].permissions
    refreshed = await harness.identity.sessions.refresh(tokens.refresh_token)
    again, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=refreshed.access_token))
    assert grants_from_claims(again.claims) == grants


async def test_the_same_request_returns_the_same_user(harness: Harness) -> None:
    node = new_id()
    first = await create(harness, request_id="onboard:r1", grant_specs=[("profile_manager", node)], invite=True)
    second = await create(harness, request_id="onboard:r1", grant_specs=[("profile_manager", node)], invite=True)
    assert second.id == first.id  # type: ignore[attr-defined]
    assert len(await harness.sms_to(PHONE)) == 1  # one invitation
    # The key was used for that user: another request under it is refused (422), not answered with the first.
    for other in (
        {"phone": "+79990000043"},
        {"email": "someone.else@demo.example"},
        {"display_name": "Someone Else"},
        {"grant_specs": [("viewer", node)]},
        {"grant_specs": [("profile_manager", node)], "invite": False},
    ):
        with pytest.raises(InvalidArgument) as reused:
            await create(
                harness,
                request_id="onboard:r1",
                **{"grant_specs": [("profile_manager", node)], "invite": True, **other},
            )
        assert (reused.value.reason, list(reused.value.field_violations)) == ("IDEMPOTENCY_KEY_REUSED", ["request_id"])
    # The password is no part of what is compared (nor of what is kept).
    third = await create(
        harness,
        request_id="onboard:r1",
        grant_specs=[("profile_manager", node)],
        invite=True,
        password="An0ther-Passw0rd!",
    )
    assert third.id == first.id  # type: ignore[attr-defined]
    with pytest.raises(AlreadyExists) as taken:
        await create(harness, request_id="onboard:r2")
    assert taken.value.reason == "PHONE_TAKEN"


async def test_an_invited_user_gets_an_sms_and_others_do_not(harness: Harness) -> None:
    await create(harness, invite=True)
    (text,) = await harness.sms_to(PHONE)
    assert "sign in" in text
    await create(harness, phone="+79990000044", invite=False)
    assert await harness.sms_to("+79990000044") == []


async def test_bad_grants_are_refused_before_anything_is_written(harness: Harness) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await create(harness, grant_specs=[("superuser", new_id()), ("viewer", "not-a-node")])
    assert set(refused.value.field_violations) == {"grants[0].role", "grants[1].node_id"}
    await create(harness)  # the phone is still free


async def test_operator_staff_tokens_carry_their_role_and_no_customer(harness: Harness) -> None:
    staff = await harness.identity.users.create(
        customer_id="",
        phone="+79990009901",
        email="staff@operator.example",
        display_name="Back Office",
        password=PASSWORD,
        operator_role="back_office",
    )
    assert staff.customer_id == ""
    tokens = await harness.identity.sign_in.password(phone=staff.phone, password=PASSWORD, call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    assert principal.customer_id == ""
    assert principal.claims["op"] == {"role": "back_office", "perms": ["customers:onboard", "customers:read"]}
    assert "grants" not in principal.claims
    with pytest.raises(InvalidArgument):  # staff hold no customer's grants
        await create(
            harness, customer_id="", phone="+79990009902", operator_role="support", grant_specs=[("viewer", new_id())]
        )
    with pytest.raises(InvalidArgument):
        await create(harness, customer_id="", phone="+79990009903", operator_role="janitor")


async def test_the_support_desk_is_supports_permission_and_not_the_back_offices(harness: Harness) -> None:
    agent = await harness.identity.users.create(
        customer_id="",
        phone="+79990009911",
        email="desk@operator.example",
        display_name="Support Desk",
        password=PASSWORD,
        operator_role="support",
    )
    tokens = await harness.identity.sign_in.password(phone=agent.phone, password=PASSWORD, call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=tokens.access_token))
    assert principal.claims["op"] == {"role": "support", "perms": ["customers:read", TICKETS_SUPPORT]}
    assert TICKETS_SUPPORT in OPERATOR_PERMISSIONS
    assert TICKETS_SUPPORT not in OPERATOR_ROLES["back_office"].permissions  # onboarding is not answering tickets


async def test_a_users_access_now_is_what_other_services_ask_before_acting_later(harness: Harness) -> None:
    node = new_id()
    user = await create(harness, grant_specs=[("number_manager", node)])
    found, held = await harness.identity.users.access_of(user.id, customer_id=CUSTOMER)  # type: ignore[attr-defined]
    assert found.active and [(g.node_id, g.role) for g in held] == [(node, "number_manager")]
    assert held[0].permissions == PREDEFINED["number_manager"].permissions
    for customer in ("another-customer", ""):  # another customer's user, or no customer named: unknown
        with pytest.raises(NotFound):
            await harness.identity.users.access_of(user.id, customer_id=customer)  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        await harness.identity.users.access_of("not-an-id", customer_id=CUSTOMER)
