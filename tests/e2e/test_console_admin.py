"""The console's users, roles, action history and settings pages in a real browser against the e2e platform.

The demo manager signs in by password, builds a custom role from permission checkboxes and creates a user with
it over one personal account (Drivers), disables and enables them, and is told the role cannot be deleted while
granted. That user signs in by an SMS code in another browser context, sets a
first password on My settings, signs in again by it and sees only the lines of their account; a line elsewhere
is not found. Each new page has no serious or critical axe-core finding, and in Persian no Latin text outside
user data (translate="no").
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from simfleet_runtime.testing import wait_until
from tests.e2e.console import (
    LATIN,
    UNTRANSLATED_TEXT,
    axe_problems,
    chromium,
    console_page,
    open_section,
    screenshot,
    sign_in_with_password,
)
from tests.helpers import codes_in, inbox, wait_for_sms_code

pytestmark = pytest.mark.e2e

ROLE_NAME = "Drivers coordinators"
GRANTEE_PASSWORD = "Drivers-Coord-2026"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def manager_api(api: httpx.Client) -> dict[str, str]:
    signed_in = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


def node_named(api: httpx.Client, auth: dict[str, str], name: str) -> dict[str, Any]:
    found = api.get("/v1/nodes", params={"q": name, "limit": 100}, headers=auth).json()["items"]
    [node] = [n for n in found if n["name"] == name]
    assert isinstance(node, dict)
    return node


def lines_under(api: httpx.Client, auth: dict[str, str], node_id: str) -> list[str]:
    numbers: list[str] = []
    cursor = ""
    while True:
        params: dict[str, str | int] = {"node_id": node_id, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/v1/lines", params=params, headers=auth).json()
        numbers += [line["msisdn"] for line in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return numbers


def no_latin_outside_user_data(page: Page, where: str) -> None:
    # Every page says it is loading until its answers are in (the pickers' choices are user data anyway).
    expect(page.get_by_text("در حال بارگذاری")).to_have_count(0)
    english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert english == [], f"{where}: {english}"


def nav(page: Page, name: str) -> None:
    open_section(page, name)


def test_a_custom_role_a_user_with_it_and_their_subtree(
    browser: Browser, platform: Platform, api: httpx.Client
) -> None:
    auth = manager_api(api)
    drivers = node_named(api, auth, "Drivers")
    management = node_named(api, auth, "Management")
    theirs = lines_under(api, auth, drivers["id"])
    elsewhere = lines_under(api, auth, management["id"])
    assert theirs and elsewhere
    stamp = int(time.time() * 1000) % 1_000_000
    phone = f"+79996{stamp:06d}"
    name = f"Coordinator {stamp}"

    with console_page(browser, platform.gateway_url) as page:
        sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)

        # A custom role from checkboxes: two of the lines' permissions and the action history's only one.
        nav(page, "Roles")
        expect(page.get_by_role("heading", name="Roles", exact=True)).to_be_visible()
        expect(page.get_by_role("row").filter(has_text="Viewer").get_by_role("button")).to_have_count(0)
        assert axe_problems(page) == []
        page.get_by_role("button", name="New role").click()
        page.get_by_label("Name", exact=True).fill(ROLE_NAME)
        page.get_by_role("checkbox", name="See lines, their SIM cards, services, APNs, forwarding and state").check()
        page.get_by_role("checkbox", name="Block and unblock lines", exact=True).check()
        page.get_by_role("checkbox", name="Action history", exact=True).check()
        expect(page.get_by_role("checkbox", name="See the action history")).to_be_checked()
        assert axe_problems(page) == []
        page.get_by_role("button", name="Save the role").click()
        row = page.get_by_test_id("role-row").filter(has_text=ROLE_NAME)
        expect(row).to_contain_text("Custom")
        expect(row).to_contain_text("Permissions: 3")
        screenshot(page, "roles-en")
        [role] = [r for r in api.get("/v1/roles", headers=auth).json()["items"] if r["name"] == ROLE_NAME]
        assert sorted(role["permissions"]) == ["audit:read", "lines:block", "lines:read"]

        # A user with that role over one personal account.
        nav(page, "Users")
        expect(page.get_by_role("cell", name=DEMO_MANAGER.display_name)).to_be_visible()
        assert axe_problems(page) == []
        page.get_by_role("button", name="New user").click()
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label(re.compile(r"^Phone")).fill(phone)
        page.get_by_label("Email", exact=True).fill(f"coordinator{stamp}@demo.example")
        page.get_by_label(re.compile(r"^Role")).select_option(label=ROLE_NAME)
        page.get_by_label(re.compile(r"^Over")).select_option(value=drivers["id"])
        assert axe_problems(page) == []
        screenshot(page, "users-en")
        page.get_by_role("button", name="Create the user").click()
        expect(page.get_by_role("heading", name=f"User {name}")).to_be_visible()
        grant = page.get_by_test_id("grant-row")
        expect(grant).to_have_count(1)
        expect(grant).to_contain_text(ROLE_NAME)
        expect(grant).to_contain_text("Drivers")
        expect(page.get_by_test_id("user-status")).to_have_text("Active")
        assert axe_problems(page) == []
        user_page = page.url
        page.get_by_role("button", name="Disable the user").click()
        expect(page.get_by_test_id("user-status")).to_have_text("Disabled")
        page.get_by_role("button", name="Enable the user").click()
        expect(page.get_by_test_id("user-status")).to_have_text("Active")

        # A role that is granted cannot go: the API's reason, in the user's language.
        nav(page, "Roles")
        page.get_by_test_id("role-row").filter(has_text=ROLE_NAME).get_by_role("button", name="Delete").click()
        page.get_by_role("button", name="Delete for good").click()
        expect(page.get_by_role("alert")).to_have_text("The role is granted to users: remove those grants first.")

        # The action history tells of it (once the audit trail has it), filtered to users' actions.
        wait_until(
            lambda: api.get("/v1/audit-events", params={"action": "users.invite"}, headers=auth).json()["items"],
            15,
            "the invitation in the history",
        )
        nav(page, "Action history")
        page.get_by_label(re.compile(r"^What")).select_option(label="Users")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_test_id("audit-row").filter(has_text="Invited a user").first).to_be_visible()
        expect(page.get_by_test_id("audit-row").filter(has_text="Created a role")).to_have_count(0)
        assert axe_problems(page) == []
        screenshot(page, "history-en")

        nav(page, "My settings")
        expect(page.get_by_role("heading", name="My profile")).to_be_visible()
        expect(page.get_by_role("checkbox", name="An operation failed: SMS")).to_be_visible()
        assert axe_problems(page) == []
        screenshot(page, "settings-en")

        page.get_by_test_id("settings-language").select_option("ru")
        expect(page.get_by_role("heading", name="Мои настройки")).to_be_visible()
        screenshot(page, "settings-ru")
        # One choice: the header's picker says the same.
        expect(page.get_by_test_id("language")).to_have_value("ru")

        page.get_by_test_id("language").select_option("fa")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        for path in ("/me/settings", "/users", "/roles", "/history", user_page):
            if path != "/me/settings":
                page.goto(path)
            expect(page.get_by_role("heading").first).to_be_visible()
            no_latin_outside_user_data(page, path)
            if path == "/roles":
                page.get_by_role("button", name="نقش جدید").click()
                no_latin_outside_user_data(page, "the role editor")
            assert axe_problems(page) == []
            if path == "/me/settings":
                screenshot(page, "settings-fa")

    # The new user, in a browser of their own: a code by SMS, then a first password on My settings.
    with console_page(browser, platform.gateway_url) as page:
        page.goto("/")
        seen = len(codes_in(inbox(platform, phone)))
        page.get_by_label("Phone number").fill(phone)
        page.get_by_role("button", name="Send the code").click()
        page.get_by_label("Code from the SMS").fill(wait_for_sms_code(platform, phone, seen))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Hello, {name}")).to_be_visible()
        # Their role opens the history but not users or roles.
        navigation = page.get_by_role("navigation")
        navigation.get_by_role("button", name="More").click()
        expect(navigation.get_by_role("link", name="Action history")).to_be_visible()
        expect(navigation.get_by_role("link", name="Users")).to_have_count(0)
        expect(navigation.get_by_role("link", name="Roles")).to_have_count(0)

        nav(page, "My settings")
        expect(page.get_by_text("You have no password yet")).to_be_visible()
        page.get_by_label("New password", exact=True).fill(GRANTEE_PASSWORD)
        page.get_by_label("The new password again").fill(GRANTEE_PASSWORD)
        page.get_by_role("button", name="Change the password").click()
        expect(page.get_by_text("The password is changed.")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()

        sign_in_with_password(page, phone, GRANTEE_PASSWORD)
        nav(page, "Lines")
        count = page.get_by_test_id("lines-count")
        expect(page.locator('[role="rowgroup"] [role="row"].line-row').first).to_be_visible()
        end = page.get_by_text("That is all.")
        for _ in range(len(theirs) // 200 + 2):
            if end.is_visible():
                break
            before = count.inner_text()
            page.locator(".scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
            expect(end.or_(count.filter(has_not_text=re.compile(f"^{re.escape(before)}$"))).first).to_be_visible()
        expect(end).to_be_visible()
        expect(count).to_have_text(f"Lines shown: {len(theirs):,}")

        page.goto(f"/lines/{theirs[0]}")
        expect(page.get_by_role("heading", name=f"Line {theirs[0]}")).to_be_visible()
        page.goto(f"/lines/{elsewhere[0]}")
        expect(page.get_by_role("alert")).to_have_text("There is no such line in your scope.")
