"""Notices on the running platform (NO-1), through the gateway: a manager chooses ticket replies by SMS, support
answers their ticket, the SMS reaches the manager's handset; unchosen, a reply no longer comes while a change of
state the manager chose does. A sign-in's SMS (ID-7) is notifications' for customers' users, on until turned off,
and identity's for operator staff. Bad preferences are 422 problems; the notices sent are listed in pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from simfleet.ticketing.v1 import support_pb2, support_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_SUPPORT
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import wait_until
from tests.e2e.test_audit import sign_in
from tests.helpers import inbox, new_user, pay_in, problem, sign_ins_told

pytestmark = pytest.mark.e2e
PREFERENCES = "/v1/me/notification-preferences"


@pytest.fixture
def desk(platform: Platform) -> Iterator[support_pb2_grpc.SupportServiceStub]:
    with grpc.insecure_channel(platform.ticketing_target) as channel:
        yield support_pb2_grpc.SupportServiceStub(channel)


def file_ticket(api: httpx.Client, manager: dict[str, str], topic: str) -> dict[str, Any]:
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    body = {"node_id": nodes["Regions"]["id"], "type": "question", "topic": topic, "description": "When?"}

    def filed() -> dict[str, Any] | None:  # once ticketing knows the demo tree
        answer = api.post("/v1/tickets", json=body, headers=manager)
        if answer.status_code == 404:
            return None
        assert answer.status_code == 201, answer.text
        ticket: dict[str, Any] = answer.json()
        return ticket

    ticket: dict[str, Any] = wait_until(filed, 20, "the ticket filed", interval=0.2)
    return ticket


def texts(platform: Platform, phone: str, needle: str) -> list[str]:
    return [str(m["text"]) for m in inbox(platform, phone) if needle in str(m["text"])]


def test_a_chosen_reply_arrives_by_sms_and_an_unchosen_one_does_not(
    platform: Platform, api: httpx.Client, desk: support_pb2_grpc.SupportServiceStub
) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    before = api.get(PREFERENCES, headers=manager)
    assert before.status_code == 200, before.text
    assert before.headers["Cache-Control"] == "no-store"
    try:
        chosen = api.put(PREFERENCES, json={"kinds": {"ticket_reply": ["sms"]}, "language": "en"}, headers=manager)
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["kinds"]["ticket_reply"] == ["sms"] and chosen.json()["saved"] is True

        ticket = file_ticket(api, manager, "Roaming in Georgia")
        number = ticket["number"]
        desk.Answer(
            support_pb2.AnswerRequest(ticket_id=ticket["id"], body="It is on from tomorrow."),
            metadata=operator,
            timeout=5,
        )
        replies = wait_until(
            lambda: texts(platform, DEMO_MANAGER.phone, f"support answered your ticket {number}"),
            30,
            "the reply's SMS on the manager's handset",
        )
        assert replies == [f"SIMfleet: support answered your ticket {number}."]

        switched = api.put(
            PREFERENCES, json={"kinds": {"ticket_reply": [], "ticket_state_changed": ["sms"]}}, headers=manager
        )
        assert switched.status_code == 200, switched.text
        # Support answers again and resolves: the reply is no longer chosen, the change of state is. The answer's
        # note comes before its move on ticketing's stream, so once the move's SMS is here the note was weighed.
        desk.Answer(
            support_pb2.AnswerRequest(ticket_id=ticket["id"], body="Done: roaming is on.", to_state="resolved"),
            metadata=operator,
            timeout=5,
        )
        wait_until(
            lambda: texts(platform, DEMO_MANAGER.phone, f"ticket {number} is now resolved"),
            30,
            "the resolution's SMS on the manager's handset",
        )
        assert len(texts(platform, DEMO_MANAGER.phone, f"support answered your ticket {number}")) == 1

        listed = api.get("/v1/me/notices", params={"limit": 1}, headers=manager)
        assert listed.status_code == 200, listed.text
        [newest] = listed.json()["items"]
        assert newest["kind"] == "ticket_state_changed" and number in newest["text"]
        assert newest["channel"] == "sms" and newest["recipient"] == DEMO_MANAGER.phone and newest["state"] == "sent"
        rest = api.get("/v1/me/notices", params={"limit": 200, "cursor": listed.json()["next_cursor"]}, headers=manager)
        assert rest.status_code == 200, rest.text
        assert any(n["kind"] == "ticket_reply" and number in n["text"] for n in rest.json()["items"])
    finally:
        api.put(PREFERENCES, json={"kinds": {"ticket_reply": [], "ticket_state_changed": []}}, headers=manager)


def test_bad_preferences_are_problems_and_change_nothing(api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    before = api.get(PREFERENCES, headers=manager).json()
    for body in (
        {"kinds": {"lottery_won": ["sms"]}},
        {"kinds": {"ticket_reply": ["pigeon"]}},
        {"language": "de"},
        {"kinds": {"sign_in": ["fax"]}},
        {"kinds": {"ticket_reply": ["sms"]}, "extra": 1},
    ):
        problem(api.put(PREFERENCES, json=body, headers=manager), 422)
    problem(api.get("/v1/me/notices", params={"cursor": "forged"}, headers=manager), 422)
    assert api.get(PREFERENCES, headers=manager).json() == before
    assert api.get(PREFERENCES).status_code == 401


PASSWORD = "Notice-passw0rd-2026"


def test_the_sign_in_sms_is_notifications_by_default_stops_once_unchosen_and_staff_get_identitys(
    platform: Platform, api: httpx.Client
) -> None:
    user = new_user(platform, password=PASSWORD)
    marker = new_user(platform, password=PASSWORD)
    auth = sign_in(api, user.phone, PASSWORD)  # never chose anything: the default, the sign-in SMS
    wait_until(lambda: sign_ins_told(platform, user.phone) == 1, 30, "the sign-in SMS on the user's handset")
    [notice] = api.get("/v1/me/notices", headers=auth).json()["items"]  # notifications', not identity's
    assert (notice["kind"], notice["channel"], notice["recipient"], notice["state"]) == (
        "sign_in",
        "sms",
        user.phone,
        "sent",
    )
    assert notice["text"].startswith("SIMfleet: you signed in on ")

    turned_off = api.put(PREFERENCES, json={"kinds": {"sign_in": []}}, headers=auth)
    assert turned_off.status_code == 200, turned_off.text
    assert turned_off.json()["kinds"]["sign_in"] == []
    auth = sign_in(api, user.phone, PASSWORD)
    # Operator staff sign in: identity tells them itself; notifications knows no staff.
    staff_told = sign_ins_told(platform, DEMO_SUPPORT.phone)
    sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    wait_until(lambda: sign_ins_told(platform, DEMO_SUPPORT.phone) == staff_told + 1, 30, "the staff's sign-in SMS")
    # The marker: a later sign-in notifications tells of; identity published both sign-ins before it, in order.
    sign_in(api, marker.phone, PASSWORD)
    wait_until(lambda: sign_ins_told(platform, marker.phone) == 1, 30, "the later user's sign-in SMS")
    assert sign_ins_told(platform, user.phone) == 1
    assert [n["kind"] for n in api.get("/v1/me/notices", headers=auth).json()["items"]] == ["sign_in"]
    assert sign_ins_told(platform, DEMO_SUPPORT.phone) == staff_told + 1


def test_a_payment_the_operator_posts_reaches_the_manager_who_chose_payments(
    platform: Platform, api: httpx.Client
) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    [account] = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 1}, headers=manager).json()["items"]
    balance = f"/v1/personal-accounts/{account['id']}/balance"
    # billing opens its ledger account once accounts told it of the personal account
    wait_until(lambda: api.get(balance, headers=manager).status_code == 200, 30, "the personal account in billing")
    chosen = api.put(PREFERENCES, json={"kinds": {"payment_received": ["sms"]}, "language": "en"}, headers=manager)
    assert chosen.status_code == 200, chosen.text
    try:
        amount = 10_000 + int(time.time()) % 10_000  # minor units no other payment of this run shares
        # Booked by the operator through billing's admin PostEntry (an entry of kind payment), as a bank transfer is.
        customer_id = api.get("/v1/me", headers=manager).json()["customer_id"]
        pay_in(platform, customer_id, account["id"], amount, f"payment:e2e-notice-{new_id()}")
        credited = f"a payment of {amount // 100}.{amount % 100:02d} RUB was credited"
        [told] = wait_until(
            lambda: texts(platform, DEMO_MANAGER.phone, credited), 30, "the payment's SMS on the manager's handset"
        )
        assert told.startswith(f"SIMfleet: {credited} to a personal account; its balance is ")
    finally:
        api.put(PREFERENCES, json={"kinds": {"payment_received": []}}, headers=manager)
