"""Forged cursors, played as an attacker against every list of a running platform.

A cursor (a page token) used to be base64 JSON anyone could write, and a key
of the wrong type (a string where a timestamp goes, a number where an id goes,
nested lists, huge numbers) went into the keyset query: a 502 and a traceback
with the SQL in the logs. Now every list answers any bad cursor — garbage,
truncated, altered, made with another key, made with the service's own key
but typed wrong, another list's, another order's — with 422
``INVALID_PAGE_TOKEN`` on the field ``cursor``, and a genuine cursor still
pages. The platform runs with page-token secrets of the test's choosing, so
that it can also forge tokens signed with the real key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_OPERATOR, DEMO_SUPPORT
from simfleet_runtime import paging
from simfleet_runtime.testing import wait_until
from tests.e2e.conftest import onboard_other_customer
from tests.helpers import E2E_ENV, new_user, problem, running_platform

pytestmark = pytest.mark.e2e

SECRETS = {service: f"security-cursors-{service}-key" for service in ("identity", "accounts", "inventory", "ticketing")}
PASSWORD = "Cursor-Passw0rd-2026"


@pytest.fixture(scope="module")
def cursors_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("cursors")
    extra_env = {name: dict(env) for name, env in E2E_ENV.items()}
    for service, secret in SECRETS.items():
        extra_env.setdefault(service, {})[f"{service.upper()}_PAGE_TOKEN_SECRET"] = secret
    with running_platform(data_dir, "security_cursors", extra_env=extra_env) as running:
        yield running


@dataclass(frozen=True)
class Listing:
    """One list of the gateway: where it is, who reads it, and how its service pages it."""

    name: str
    path: str
    service: str
    list_name: str
    order: str
    size: int
    """How many values its cursor's key holds."""
    params: dict[str, str] = field(default_factory=dict)
    who: str = "manager"


LISTINGS = [
    Listing("nodes", "/v1/nodes", "accounts", "nodes", "path", 2),
    Listing("nodes-by-created", "/v1/nodes", "accounts", "nodes", "-created_at", 2, {"sort": "-created_at"}),
    Listing("children", "/v1/nodes/{root}/children", "accounts", "nodes", "name", 2),
    Listing("users", "/v1/users", "identity", "users", "display_name", 2),
    Listing("users-by-created", "/v1/users", "identity", "users", "created_at", 2, {"sort": "created_at"}),
    Listing("grants", "/v1/users/{grantee}/grants", "identity", "grants", "created_at", 2),
    Listing("roles", "/v1/roles", "identity", "roles", "predefined", 3),
    Listing("sign-ins", "/v1/me/sign-ins", "identity", "sign-ins", "-id", 1),
    Listing("audit-events", "/v1/audit-events", "accounts", "audit-events", "-occurred_at", 2),
    Listing("operations", "/v1/operations", "inventory", "operations", "-created_at", 2),
    Listing("operation-items", "/v1/operations/{operation}/items", "inventory", "operation-items", "position", 1),
    Listing("lines", "/v1/lines", "inventory", "lines", "msisdn", 1),
    Listing("lines-by-created", "/v1/lines", "inventory", "lines", "created_at", 2, {"sort": "created_at"}),
    Listing("reserve-sims", "/v1/sims/reserve", "inventory", "reserve-sims", "iccid", 1),
    Listing("customers", "/v1/admin/customers", "accounts", "customers", "-created_at", 2, who="operator"),
    Listing("tickets", "/v1/tickets", "ticketing", "tickets", "-created_at", 2),
    Listing("ticket-queue", "/v1/admin/tickets", "ticketing", "ticket-queue", "created_at", 2, who="support"),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wrongly_typed_keys(size: int) -> list[list[Any]]:
    """Keys no list takes: numbers where strings go, strings where timestamps go, lists, nothing, naive times."""
    aware = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        [10**30] + [42] * (size - 1),
        [[1, [2, [3]]]] * size,
        [aware] * size,
        [datetime(2026, 1, 1)] * size,  # naive
        [True] * size,
        [None] * size,
        [1.5] * size,
    ]


def unsigned(order: str, key: list[Any]) -> str:
    """A cursor as they were before they were signed: base64 of JSON, typed wrong."""
    raw = [{"t": "not-a-time"} if isinstance(v, datetime) else v for v in key]
    return b64(json.dumps({"o": order, "k": raw}, separators=(",", ":")).encode())


def signed(secret: str, listing: Listing, key: list[Any], *, order: str | None = None, name: str = "") -> str:
    field_name = (order or listing.order).lstrip("-")
    parsed = paging.parse_order(order or listing.order, allowed=(field_name,), default=field_name)
    return paging.PageTokens(secret).encode(parsed, key, list_name=name or listing.list_name)


def tampered(genuine: str) -> list[str]:
    body, _, mac = genuine.partition(".")
    flipped = "A" if body[2] != "A" else "B"
    return [
        genuine[:-3],
        genuine[: len(genuine) // 2],
        body,
        f"{body[:2]}{flipped}{body[3:]}.{mac}",
        f"{body}.{mac[::-1]}",
        genuine + "x",
    ]


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    answer = api.post("/v1/auth/password", json={"phone": phone, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@dataclass
class World:
    api: httpx.Client
    auth: dict[str, dict[str, str]]
    ids: dict[str, str]

    def get(self, listing: Listing, **params: Any) -> httpx.Response:
        path = listing.path.format(**self.ids)
        return self.api.get(path, params={**listing.params, **params}, headers=self.auth[listing.who])

    def genuine(self, listing: Listing) -> str:
        """The cursor of the list's first page of one item (the list has more than one)."""
        first = self.get(listing, limit=1)
        assert first.status_code == 200, first.text
        cursor: str | None = first.json()["next_cursor"]
        assert cursor, f"{listing.name} has a single item: no cursor to page with"
        return cursor


@pytest.fixture(scope="module")
def world(cursors_platform: Platform) -> Iterator[World]:
    """Two or more items in every list: a second customer, a user with two grants, two operations of two lines."""
    platform = cursors_platform
    with httpx.Client(base_url=platform.gateway_url, timeout=20, headers={"User-Agent": "simfleet-security"}) as api:
        manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)  # two sign-ins in the history
        operator = sign_in(api, DEMO_OPERATOR.phone, DEMO_OPERATOR.password)
        support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
        onboard_other_customer(platform)
        me = api.get("/v1/me", headers=manager).json()
        nodes = api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]
        root = next(n for n in nodes if n["parent_id"] is None)
        departments = [n for n in nodes if n["parent_id"] == root["id"]]
        grantee = new_user(
            platform,
            password=PASSWORD,
            customer_id=me["customer_id"],
            grants=(("viewer", departments[0]["id"]), ("viewer", departments[1]["id"])),
        )
        users = api.get("/v1/users", params={"q": grantee.email}, headers=manager).json()["items"]
        ready = api.get("/v1/lines", params={"state": "ready", "limit": 4}, headers=manager).json()["items"]
        numbers = [line["msisdn"] for line in ready]
        operation = ""
        for lines in (numbers[:2], numbers[2:4]):
            started = api.post("/v1/operations", json={"type": "activate", "lines": lines}, headers=manager)
            assert started.status_code == 202, started.text
            operation = started.json()["id"]
        for n in range(2):  # two tickets, once ticketing knows the tree

            def filed(n: int = n) -> httpx.Response | None:
                answer = api.post(
                    "/v1/tickets",
                    json={"node_id": root["id"], "type": "question", "topic": f"Cursor {n}", "description": "Q."},
                    headers=manager,
                )
                return None if answer.status_code == 404 else answer

            assert wait_until(filed, 30, "a ticket filed", interval=0.2).status_code == 201
        world = World(
            api,
            {"manager": manager, "operator": operator, "support": support},
            {"root": root["id"], "grantee": users[0]["id"], "operation": operation},
        )
        items = next(x for x in LISTINGS if x.name == "operation-items")
        wait_until(lambda: len(world.get(items).json()["items"]) >= 2, 30, "the operation's items")
        yield world


def refused(answer: httpx.Response, what: str) -> None:
    assert answer.status_code == 422, f"{what}: {answer.status_code} {answer.text}"
    body = problem(answer, 422)
    assert body["reason"] == "INVALID_PAGE_TOKEN", f"{what}: {body}"
    assert [e["field"] for e in body.get("errors") or []] == ["cursor"], f"{what}: {body}"


@pytest.mark.parametrize("listing", LISTINGS, ids=[x.name for x in LISTINGS])
def test_a_genuine_cursor_pages_and_every_forged_one_is_refused(world: World, listing: Listing) -> None:
    genuine = world.genuine(listing)
    first = world.get(listing, limit=1).json()["items"]
    second = world.get(listing, limit=1, cursor=genuine)
    assert second.status_code == 200, second.text
    assert second.json()["items"] and second.json()["items"] != first

    secret = SECRETS[listing.service]
    forged: dict[str, str] = {
        "garbage": "not-a-cursor",
        "symbols": "%%%",
        "json": json.dumps({"o": listing.order, "k": ["x"] * listing.size}),
        "another key's plausible token": signed("not-the-service-key", listing, ["x"] * listing.size),
    }
    for n, token in enumerate(tampered(genuine)):
        forged[f"altered {n}"] = token
    for n, key in enumerate(wrongly_typed_keys(listing.size)):
        forged[f"unsigned, typed wrong {n}"] = unsigned(listing.order, key)
        forged[f"another key, typed wrong {n}"] = signed("not-the-service-key", listing, key)
        forged[f"the service's own key, typed wrong {n}"] = signed(secret, listing, key)
    forged["the service's own key, another list"] = signed(secret, listing, ["x"] * listing.size, name="elsewhere")
    reversed_order = listing.order[1:] if listing.order.startswith("-") else "-" + listing.order
    forged["the service's own key, another order"] = signed(secret, listing, ["x"] * listing.size, order=reversed_order)
    for what, token in forged.items():
        refused(world.get(listing, limit=1, cursor=token), f"{listing.name}, {what}")


def test_a_cursor_continues_only_its_own_list_and_order(world: World) -> None:
    cursors = {listing.name: world.genuine(listing) for listing in LISTINGS}
    for listing in LISTINGS:
        for other, cursor in cursors.items():
            if other != listing.name:  # every other listing differs in its list or its order
                refused(world.get(listing, limit=1, cursor=cursor), f"{other}'s cursor on {listing.name}")


def test_each_service_signs_with_the_secret_it_is_given(world: World) -> None:
    """A well-typed key is taken when signed with the configured secret, and refused with the local default."""
    by_name = {listing.name: listing for listing in LISTINGS}
    for name, key in (("users", ["", ""]), ("nodes", ["", ""]), ("lines", [""])):
        listing = by_name[name]
        taken = world.get(listing, limit=1, cursor=signed(SECRETS[listing.service], listing, key))
        assert taken.status_code == 200, taken.text
        assert taken.json()["items"] == world.get(listing, limit=1).json()["items"]
        local = signed(paging.LOCAL_PAGE_TOKEN_SECRET, listing, key)
        refused(world.get(listing, limit=1, cursor=local), f"{name} with the local default key")


def test_forging_left_no_unhandled_error_in_any_log(cursors_platform: Platform, world: World) -> None:
    """Run last: none of the forgeries above reached a query (no unexpected error, no SQL in a log)."""
    for listing in LISTINGS:
        refused(world.get(listing, cursor=unsigned(listing.order, [10**30] * listing.size)), listing.name)
    for service in ("identity", "accounts", "inventory", "ticketing", "gateway"):
        for line in cursors_platform.log_path(service).read_text(errors="replace").splitlines():
            assert "unhandled error" not in line, f"{service}: {line[:2000]}"
            assert "unexpected answer from a service" not in line, f"{service}: {line[:2000]}"
            assert "[SQL:" not in line, f"{service}: {line[:2000]}"
