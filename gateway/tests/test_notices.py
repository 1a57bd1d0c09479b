"""/v1/me/notification-preferences and /v1/me/notices on a scripted notifications: bodies as asked, answers as
given, refusals as problems.

Who hears of what is notifications' decision (services/notifications/tests); the routes end to end are in
tests/e2e/test_notices.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.main import create_app
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.notifications import open_notifications_channel
from simfleet.notifications.v1 import notices_pb2 as pb
from simfleet_runtime.errors import InvalidArgument

from .conftest import CLIENT_ADDRESS, ScriptedIdentity, _ts, make_settings
from .scripted import ScriptedServices

BEARER = {"Authorization": "Bearer access.token.1"}
KINDS = (
    "operation_finished",
    "operation_failed",
    "tariff_changed",
    "limit_reached",
    "balance_low",
    "payment_received",
    "ticket_reply",
    "ticket_state_changed",
    "sign_in",
)


def preferences(**chosen: list[str]) -> pb.Preferences:
    return pb.Preferences(
        choices=[pb.KindChoice(kind=k, channels=chosen.get(k, [])) for k in KINDS], language="ru", saved=True
    )


@pytest.fixture(scope="module")
async def notifications_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices("notifications", pb.DESCRIPTOR.services_by_name["NoticeService"])
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def notifications(notifications_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    notifications_server.reset()
    yield notifications_server
    notifications_server.reset()


@pytest.fixture
async def client(identity: ScriptedIdentity, notifications: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(identity.target, notifications_target=notifications.target)
    identity_channel, channel = open_identity_channel(settings), open_notifications_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, notifications_channel=channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await channel.close()


async def test_preferences_are_read_and_saved_with_the_callers_token(client, notifications):
    notifications.script("GetPreferences", pb.GetPreferencesResponse(preferences=preferences(ticket_reply=["sms"])))
    read = await client.get("/v1/me/notification-preferences", headers=BEARER)
    assert read.status_code == 200, read.text
    assert read.headers["cache-control"] == "no-store"
    assert read.json()["kinds"]["ticket_reply"] == ["sms"] and read.json()["language"] == "ru"
    assert notifications.last("GetPreferences").metadata["authorization"] == "Bearer access.token.1"

    notifications.script(
        "UpdatePreferences",
        pb.UpdatePreferencesResponse(preferences=preferences(ticket_reply=["sms", "email"], sign_in=["email"])),
    )
    body = {"kinds": {"ticket_reply": ["sms", "email"], "sign_in": ["email"]}, "language": "fa"}
    saved = await client.put("/v1/me/notification-preferences", json=body, headers=BEARER)
    assert saved.status_code == 200, saved.text
    assert saved.json()["kinds"]["sign_in"] == ["email"]
    request = notifications.last("UpdatePreferences").request
    assert {c.kind: list(c.channels) for c in request.choices} == body["kinds"]
    assert request.language == "fa"


@pytest.mark.parametrize(
    "body",
    [
        {"kinds": {"lottery": ["sms"]}},
        {"kinds": {"ticket_reply": ["pigeon"]}},
        {"kinds": {"ticket_reply": "sms"}},
        {"language": "de"},
        {"kinds": {}, "other": 1},
    ],
)
async def test_a_bad_body_is_a_422_and_notifications_is_not_asked(client, notifications, problem, body):
    problem(await client.put("/v1/me/notification-preferences", json=body, headers=BEARER), 422, "VALIDATION_FAILED")
    assert notifications.count("UpdatePreferences") == 0


async def test_a_refusal_of_notifications_is_a_422_problem(client, notifications, problem):
    notifications.script(
        "UpdatePreferences",
        InvalidArgument(
            "bad",
            reason="INVALID_PREFERENCES",
            field_violations={"choices[0].channels": "a channel named more than once"},
        ),
    )
    refused = problem(
        await client.put(
            "/v1/me/notification-preferences", json={"kinds": {"ticket_reply": ["sms", "sms"]}}, headers=BEARER
        ),
        422,
        "INVALID_PREFERENCES",
    )
    assert refused["errors"]


async def test_notices_are_listed_in_pages(client, notifications):
    notice = pb.Notice(
        id="n-1",
        kind="ticket_reply",
        channel="sms",
        recipient="+79161234567",
        language="en",
        text="SIMfleet: support answered your ticket T-2026-000123.",
        events=1,
        state="sent",
        created_at=_ts(1_768_469_400),
        sent_at=_ts(1_768_469_401),
    )
    notifications.script("ListNotices", pb.ListNoticesResponse(notices=[notice], next_page_token="next"))
    listed = await client.get("/v1/me/notices", params={"limit": 1, "cursor": "c-1"}, headers=BEARER)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert (item["kind"], item["subject"], item["state"], item["events"]) == ("ticket_reply", None, "sent", 1)
    assert item["sent_at"] is not None and listed.json()["next_cursor"] == "next"
    request = notifications.last("ListNotices").request
    assert (request.page_size, request.page_token) == (1, "c-1")


async def test_without_a_token_nothing_is_asked(client, notifications):
    assert (await client.get("/v1/me/notification-preferences")).status_code == 401
    assert (await client.get("/v1/me/notices")).status_code == 401
    assert notifications.count("GetPreferences") == notifications.count("ListNotices") == 0
