"""The console's sign-in extras, idle sign-out and small-customer view in a real browser (Chromium via Playwright).

Sign-in by a code read from netsim's mailbox; the forgotten password, whose code opens no session until a new
permanent password is set (a weak one refused with the rules in the user's language); the idle warning a minute
before the 20-minute limit and the sign-out at the limit, with the page's clock fast-forwarded by Playwright (the
server's clock is not: "Stay signed in" really renews the session); a customer with three lines sees the
simplified list on home and lines, blocks a line from it, and every page fits a 360 px phone. The sign-in page
in Russian and Persian, with no English left in Persian. axe-core on each page; no page breaks its CSP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import grpc
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.inventory.v1 import admin_pb2 as inventory_admin
from simfleet.inventory.v1 import admin_pb2_grpc as inventory_admin_grpc
from simfleet.inventory.v1 import lines_pb2
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.e2e.conftest import onboard_customer
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
from tests.helpers import codes_in, mailbox, new_user, wait_for_sms_code

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 360
SMALL_MANAGER = "+79996660091"
SMALL_PASSWORD = "Small-Passw0rd-2026"
SMALL_LINES = ["+79996661001", "+79996661002", "+79996661003"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    """A fresh browser context per test: its own cookie, storage (language) and clock."""
    with console_page(browser, platform.gateway_url) as page:
        yield page


def fits(page: Page, width: int = PHONE_WIDTH) -> None:
    """The page needs no horizontal scroll at this width."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def test_the_sign_in_page_in_russian_and_persian(page: Page) -> None:
    page.goto("/")
    page.get_by_test_id("language").select_option("ru")
    expect(page.get_by_role("heading", name="Вход в SIMfleet")).to_be_visible()
    expect(page.get_by_role("tab", name="Код по почте")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "sign-in-ru")

    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="ورود به سیم‌فلیت")).to_be_visible()
    for tab in ("کد با رایانامه", "گذرواژه"):
        page.get_by_role("tab", name=tab).click()
        english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
        assert english == [], english
    page.get_by_role("button", name="گذرواژه را فراموش کرده‌اید؟").click()
    expect(page.get_by_role("heading", name="بازنشانی گذرواژه")).to_be_visible()
    english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert english == [], english
    page.get_by_role("button", name="بازگشت به ورود").click()
    page.get_by_role("tab", name="کد پیامکی").click()
    assert axe_problems(page) == []
    screenshot(page, "sign-in-fa")


def test_sign_in_by_a_code_read_from_the_mailbox(page: Page, platform: Platform) -> None:
    user = new_user(platform)
    page.goto("/")
    page.get_by_role("tab", name="Code by email").click()
    page.get_by_label("Phone number").fill(user.phone)
    page.get_by_role("button", name="Send the code").click()
    mail = wait_until(lambda: codes_in(mailbox(platform, user.email), "body"), what="the code email")
    expect(page.get_by_text("We sent a 6-digit code to the email address")).to_be_visible()
    page.get_by_label("Code from the email").fill(mail[0])
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name=f"Hello, {user.display_name}")).to_be_visible()
    assert [c["name"] for c in page.context.cookies()] == ["simfleet_refresh"]
    open_section(page, "Sign-in history")
    expect(page.get_by_role("cell", name="Code by email").first).to_be_visible()


def test_a_forgotten_password_is_changed_by_force_before_signing_in(
    page: Page, platform: Platform, api: httpx.Client
) -> None:
    user = new_user(platform, password="Forgotten-passw0rd-1")
    page.goto("/")
    page.get_by_role("tab", name="Password").click()
    page.get_by_role("button", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset the password")).to_be_visible()
    assert axe_problems(page) == []
    page.get_by_label("Phone number").fill(user.phone)
    page.get_by_role("radio", name="SMS").check()
    page.get_by_role("button", name="Send the code").click()
    code = wait_for_sms_code(platform, user.phone)

    # The code alone opens nothing: the next step is the new permanent password.
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert page.context.cookies() == []
    assert axe_problems(page) == []
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_label("New password", exact=True).fill("onlyletters")
    page.get_by_label("New password again").fill("onlyletters")
    page.get_by_role("button", name="Save the password and sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^The new password is too weak"))
    assert page.context.cookies() == []

    page.get_by_label("New password", exact=True).fill("Remembered-passw0rd-2")
    page.get_by_label("New password again").fill("Remembered-passw0rd-2")
    page.get_by_role("button", name="Save the password and sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {user.display_name}")).to_be_visible()
    assert [c["name"] for c in page.context.cookies()] == ["simfleet_refresh"]

    old = api.post("/v1/auth/password", json={"phone": user.phone, "password": "Forgotten-passw0rd-1"})
    assert old.status_code == 401
    new = api.post("/v1/auth/password", json={"phone": user.phone, "password": "Remembered-passw0rd-2"})
    assert new.status_code == 200, new.text


def test_the_idle_warning_comes_a_minute_before_the_sign_out(page: Page, platform: Platform) -> None:
    user = new_user(platform)
    page.clock.install()
    page.goto("/")
    page.get_by_label("Phone number").fill(user.phone)
    page.get_by_role("button", name="Send the code").click()
    page.get_by_label("Code from the SMS").fill(wait_for_sms_code(platform, user.phone))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {user.display_name}")).to_be_visible()
    dialog = page.get_by_role("alertdialog", name="Are you still there?")
    expect(dialog).to_have_count(0)
    # From here the page's time moves only when the test moves it (Python's pause_at takes seconds).
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 1)

    page.clock.fast_forward("19:00")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(re.compile(r"You will be signed out in \d+ s\."))
    expect(page.get_by_role("button", name="Stay signed in")).to_be_focused()
    page.clock.resume()  # axe-core waits on timers of its own
    assert axe_problems(page) == []
    screenshot(page, "idle-warning-en")
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 1)

    # Staying renews the session on the server and starts the count again.
    with page.expect_response(lambda r: r.url.endswith("/v1/auth/refresh")) as renewed:
        page.get_by_role("button", name="Stay signed in").click()
    assert renewed.value.status == 200
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("18:59")
    expect(dialog).to_have_count(0)
    page.clock.fast_forward("00:01")
    expect(dialog).to_contain_text("You will be signed out in 60 s.")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    fits(page)

    with page.expect_response(lambda r: r.url.endswith("/v1/auth/logout")) as ended:
        page.clock.fast_forward("01:00")
    assert ended.value.status == 204
    expect(page.get_by_role("heading", name="Sign in to SIMfleet")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("You were signed out after 20 minutes without activity.")
    assert page.context.cookies() == []
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to SIMfleet")).to_be_visible()


def small_customer(platform: Platform, api: httpx.Client) -> None:
    """A customer with three lines on one personal account (the same one whichever test asks)."""
    onboarded = onboard_customer(
        platform, key="console-small", n=91, name="Corner Shop LLC", phone=SMALL_MANAGER, password=SMALL_PASSWORD
    )
    token = api.post("/v1/auth/password", json={"phone": SMALL_MANAGER, "password": SMALL_PASSWORD}).json()
    manager = {"Authorization": f"Bearer {token['access_token']}"}
    if api.get(f"/v1/lines/{SMALL_LINES[-1]}", headers=manager).status_code == 200:
        return
    operator = ((OPERATOR_KEY, platform.config.operator_key),)
    parent = next(n.id for n in onboarded.nodes if n.kind == hierarchy_pb2.NODE_KIND_GENERAL_ACCOUNT)
    with grpc.insecure_channel(platform.accounts_target) as channel:
        for kind, number in (
            (hierarchy_pb2.NODE_KIND_BUSINESS_ACCOUNT, "4099100001"),
            (hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT, "4099100002"),
        ):
            request = accounts_admin.CreateAccountRequest(
                customer_id=onboarded.customer.id, parent_id=parent, kind=kind, name="Shop", account_number=number
            )
            stub = accounts_admin_grpc.AccountsAdminServiceStub(channel)
            parent = stub.CreateAccount(request, metadata=operator, timeout=10).node.id
    with grpc.insecure_channel(platform.inventory_target) as channel:
        inventory_admin_grpc.InventoryAdminServiceStub(channel).ImportLines(
            inventory_admin.ImportLinesRequest(
                customer_id=onboarded.customer.id,
                lines=[
                    inventory_admin.ImportedLine(
                        msisdn=msisdn,
                        sim=demo_sim(6_661_001 + i),
                        node_id=parent,
                        personal_account_id=parent,
                        tariff_code="BIZ-S",
                        state=lines_pb2.LINE_STATE_ACTIVE,
                        services=["voice", "sms", "data"],
                    )
                    for i, msisdn in enumerate(SMALL_LINES)
                ],
            ),
            metadata=operator,
            timeout=30,
        )
    wait_until(lambda: api.get(f"/v1/lines/{SMALL_LINES[-1]}", headers=manager).status_code == 200, 30, "the lines")


def test_a_small_customer_gets_the_simple_list_and_every_page_fits_a_phone(
    page: Page, platform: Platform, api: httpx.Client
) -> None:
    small_customer(platform, api)
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    page.goto("/")
    fits(page)
    page.get_by_role("tab", name="Password").click()
    fits(page)
    page.get_by_role("button", name="Forgot your password?").click()
    fits(page)
    page.get_by_role("button", name="Back to sign-in").click()
    sign_in_with_password(page, SMALL_MANAGER, SMALL_PASSWORD)

    # Home: the lines themselves, no table and no filters.
    items = page.locator(".simple-line")
    expect(page.get_by_role("heading", name="Your lines")).to_be_visible()
    expect(items).to_have_count(len(SMALL_LINES))
    assert page.get_by_role("table").count() == 0
    fits(page)
    assert axe_problems(page) == []
    screenshot(page, "home-phone-en")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("navigation").get_by_role("link", name="Lines").click()
    expect(page.get_by_role("heading", name="Your lines", level=1)).to_be_visible()
    expect(items).to_have_count(len(SMALL_LINES))
    assert page.get_by_role("search").count() == 0
    first = items.filter(has_text=SMALL_LINES[0])
    expect(first.get_by_text("Active")).to_be_visible()

    # Block a line from the list: an operation of that line, and the list read again once it ends.
    first.get_by_role("button", name=f"Block {SMALL_LINES[0]}").click()
    expect(page.get_by_role("status")).to_have_text(f"{SMALL_LINES[0]} Done.", timeout=30_000)
    expect(first.get_by_text("Blocked")).to_be_visible()
    expect(first.get_by_role("button", name=f"Unblock {SMALL_LINES[0]}")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "simple-lines-en")

    first.get_by_role("button", name=f"Unblock {SMALL_LINES[0]}").click()
    expect(first.get_by_text("Active")).to_be_visible(timeout=30_000)

    page.set_viewport_size({"width": PHONE_WIDTH, "height": 740})
    fits(page)
    first.get_by_role("link", name=SMALL_LINES[0]).click()
    expect(page.get_by_role("heading", name=f"Line {SMALL_LINES[0]}")).to_be_visible()
    fits(page)
    open_section(page, "Sign-in history")
    expect(page.get_by_role("cell", name="Password").first).to_be_visible()
    fits(page)
