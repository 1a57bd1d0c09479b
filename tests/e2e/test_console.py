"""The web console in a real browser (Debian's Chromium driven by Playwright) against the e2e platform.

One browser for the module. The demo manager signs in by an SMS code read off netsim's handset, as a person
would; the refresh token is then an httpOnly cookie the page cannot read, and a reload keeps the session. The
lines page fills from the API and pages on by cursor as it scrolls; a line's page opens from its row. In
Persian the page is right to left and shows no English: every text outside user data (marked translate="no")
comes from the Persian catalogue. axe-core checks each page for serious or critical violations, and no page
breaks its Content-Security-Policy.

Under CI=true a missing Chromium or console build fails the test instead of skipping it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet_devstack import consolebench
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_LINES_PREFIX, DEMO_MANAGER
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        yield page


def test_sign_in_by_sms_code_and_browse_the_lines(page: Page, platform: Platform) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to SIMfleet")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "sign-in-en")

    seen = len(codes_in(inbox(platform, DEMO_MANAGER.phone)))
    page.get_by_label("Phone number").fill(DEMO_MANAGER.phone)
    page.get_by_role("button", name="Send the code").click()
    code = wait_for_sms_code(platform, DEMO_MANAGER.phone, seen)
    page.get_by_label("Code from the SMS").fill(code)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name=f"Hello, {DEMO_MANAGER.display_name}")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "home-en")

    # The refresh token is an httpOnly, Secure, SameSite=Strict cookie for /v1/auth; the page stores no token.
    [cookie] = [c for c in page.context.cookies() if c["name"] == "simfleet_refresh"]
    flags = (cookie.get("httpOnly"), cookie.get("secure"), cookie.get("sameSite"), cookie.get("path"))
    assert flags == (True, True, "Strict", "/v1/auth")
    assert page.evaluate("() => document.cookie") == ""
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert cookie.get("value", "") not in stored
    assert "eyJ" not in stored  # no JWT either

    # A reload keeps the session: the page asks for new tokens with the cookie.
    page.reload()
    expect(page.get_by_role("heading", name=f"Hello, {DEMO_MANAGER.display_name}")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Lines").click()
    expect(page).to_have_url(re.compile(r"/lines$"))
    rows = page.locator('[role="rowgroup"] [role="row"].line-row:not(.header)')
    expect(rows.first).to_be_visible()
    count = page.get_by_test_id("lines-count")
    expect(count).to_have_text("Lines shown: 200")
    # Virtualised: a window of rows is in the page, not all that were loaded.
    assert rows.count() < 100
    # Scrolling to the end asks for the next page by its cursor.
    page.locator(".scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(count).to_have_text(re.compile(r"Lines shown: (4\d\d|[5-9]\d\d|\d,\d\d\d)"))
    assert axe_problems(page) == []
    screenshot(page, "lines-en")

    # On a 360 px wide phone the page fits the screen (the list keeps the number and the state).
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    expect(rows.first.get_by_role("cell").nth(3)).to_be_hidden()
    screenshot(page, "lines-phone-en")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A filter is in the address and asked of the API.
    states = page.get_by_role("search").get_by_role("group", name="State")
    states.get_by_role("checkbox", name="Blocked").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/lines\?state=blocked$"))
    states.get_by_role("checkbox", name="Blocked").uncheck()
    states.get_by_role("checkbox", name="Active").check()
    page.get_by_label("Number or ICCID").fill(DEMO_LINES_PREFIX)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/lines\?q=%2B\d+&state=active$"))
    first = rows.first.get_by_role("link")
    expect(first).to_be_visible()
    number = first.inner_text()
    assert number.startswith(DEMO_LINES_PREFIX)
    expect(rows.first.get_by_role("cell", name="Active")).to_be_visible()

    first.click()
    expect(page.get_by_role("heading", name=f"Line {number}")).to_be_visible()
    expect(page.locator("dd.state-active")).to_have_text("Active")
    assert axe_problems(page) == []
    screenshot(page, "line-en")

    open_section(page, "Sign-in history")
    expect(page.get_by_role("cell", name="Code by SMS").first).to_be_visible()
    assert axe_problems(page) == []


def test_persian_is_right_to_left_with_no_english_left(page: Page) -> None:
    page.goto("/lines")
    page.get_by_test_id("language").select_option("ru")
    expect(page.get_by_role("heading", name="Номера")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("cell", name="Активен").first).to_be_visible()
    screenshot(page, "lines-ru")

    page.get_by_test_id("language").select_option("fa")

    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "fa")
    expect(page.get_by_role("heading", name="خطوط")).to_be_visible()
    expect(page.get_by_role("cell", name="فعال").first).to_be_visible()
    for path in ("/lines", "/", "/me/sign-ins"):
        if path != "/lines":
            page.goto(path)
            # Remembered across pages and loads.
            expect(html).to_have_attribute("dir", "rtl")
        page.wait_for_load_state("networkidle")
        expect(page.get_by_text("در حال بارگذاری")).to_have_count(0)
        english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
        assert english == [], f"{path}: {english}"
        assert axe_problems(page) == []
        screenshot(page, f"{path.strip('/').replace('/', '-') or 'home'}-fa")
    # Logical properties: the navigation starts at the right.
    nav = page.get_by_role("navigation").bounding_box()
    brand = page.locator(".brand").bounding_box()
    assert nav is not None and brand is not None
    assert brand["x"] > nav["x"]

    page.get_by_role("button", name="خروج").click()
    expect(page.get_by_role("heading", name="ورود به سیم‌فلیت")).to_be_visible()
    assert [c for c in page.context.cookies() if c["name"] == "simfleet_refresh"] == []


def test_the_first_load_is_the_shell_and_each_page_comes_when_opened(browser: Browser, platform: Platform) -> None:
    """What the bench counts as the first load (index.html's scripts and styles) is what the browser fetches to
    show the sign-in page; the other pages' scripts come only when the user opens them."""
    counted = consolebench.first_load(platform.gateway_url)
    with console_page(browser, platform.gateway_url) as fresh:
        fetched: list[tuple[str, str]] = []
        fresh.on(
            "requestfinished",
            lambda request: fetched.append((request.resource_type, urlsplit(request.url).path)),
        )
        fresh.goto("/")
        expect(fresh.get_by_role("heading", name="Sign in to SIMfleet")).to_be_visible()
        fresh.wait_for_load_state("load")
        first = {(kind, path) for kind, path in fetched if kind in ("script", "stylesheet")}
        assert first == {
            ({"js": "script", "css": "stylesheet"}[a.kind], a.path) for a in counted.assets if a.kind != "html"
        }

        sign_in_with_password(fresh, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        home = {path for kind, path in fetched if kind == "script"} - {path for _, path in first}
        assert home, "the home page's script came with the first load"
        fresh.get_by_role("navigation").get_by_role("link", name="Lines").click()
        expect(fresh.locator('[role="rowgroup"] [role="row"].line-row:not(.header)').first).to_be_visible()
        lines = {path for kind, path in fetched if kind == "script"} - {path for _, path in first} - home
        assert lines, "the lines page's script came before it was opened"
