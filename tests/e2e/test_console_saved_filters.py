"""Saved filters of lines in the console (AC-5), in a real browser against the e2e platform.

The demo manager opens the lines page filtered to the active lines, saves that filter under a name, comes
back to the page without filters after a reload, applies the saved filter (the address and the list follow)
and may act on every line it matches, then deletes it: it is gone from the console and from the API. A filter of
two states is saved and applied whole (the address, the boxes and the list's question hold both). axe-core
checks the open panel; in Persian it shows no Latin text outside user data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER
from tests.e2e.console import (
    LATIN,
    UNTRANSLATED_TEXT,
    axe_problems,
    chromium,
    console_page,
    screenshot,
    sign_in_with_password,
)
from tests.e2e.test_console_operations import bearer

pytestmark = pytest.mark.e2e

NAME = "Active fleet (saved filters test)"
TWO_STATES = "Active and blocked (saved filters test)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        yield page


def open_panel(page: Page) -> None:
    page.get_by_text("Saved filters", exact=True).click()
    expect(page.get_by_role("combobox", name="Saved filter")).to_be_visible()


def saved_filters(platform: Platform) -> list[dict[str, Any]]:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        answer = api.get("/v1/lines/saved-filters", headers=bearer(api))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def saved_names(platform: Platform) -> list[str]:
    return [saved["name"] for saved in saved_filters(platform)]


def saved_states(platform: Platform, name: str) -> list[str]:
    return next(sorted(saved["states"]) for saved in saved_filters(platform) if saved["name"] == name)


def test_save_a_filter_apply_it_after_a_reload_and_delete_it(page: Page, platform: Platform) -> None:
    page.goto("/lines?state=active")
    count = page.get_by_test_id("lines-count")
    expect(count).not_to_have_text("Lines shown: 0")
    active = count.inner_text()
    open_panel(page)
    page.get_by_role("textbox", name="Save these filters as").fill(NAME)
    page.get_by_role("button", name="Save this filter").click()
    expect(page.get_by_test_id("saved-filters-note")).to_have_text(f"Saved as “{NAME}”.")
    expect(page.get_by_role("combobox", name="Saved filter")).to_have_value(re.compile(r"^[0-9A-Z]{26}$"))
    assert axe_problems(page) == []
    screenshot(page, "lines-saved-filters-en")
    assert NAME in saved_names(platform)

    # Kept by the API: after a reload, on the page without filters, the saved one puts its fields back.
    page.goto("/lines")
    page.reload()
    expect(count).to_be_visible()
    open_panel(page)
    choose = page.get_by_role("combobox", name="Saved filter")
    expect(choose).to_have_value("")
    choose.select_option(label=NAME)
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile(r"/lines\?state=active$"))
    expect(count).to_have_text(active)
    states = page.get_by_role("search").get_by_role("group", name="State")
    expect(states.get_by_role("checkbox", name="Active")).to_be_checked()
    expect(states.get_by_role("checkbox", name="Blocked")).not_to_be_checked()
    # The lines it matches may be acted on all at once, as with any filter.
    expect(page.get_by_role("radio", name="Every line matching the filter")).to_be_enabled()

    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_test_id("saved-filters-note")).to_have_text(f"“{NAME}” deleted.")
    expect(choose.locator("option", has_text=NAME)).to_have_count(0)
    assert axe_problems(page) == []
    assert NAME not in saved_names(platform)
    page.reload()
    open_panel(page)
    expect(page.get_by_role("combobox", name="Saved filter").locator("option", has_text=NAME)).to_have_count(0)


def test_a_filter_of_two_states_is_applied_whole(page: Page, platform: Platform) -> None:
    """A filter of several states (the API holds them; the page saves them too) puts every state in the address,
    the boxes and the list's question."""
    page.goto("/lines")
    count = page.get_by_test_id("lines-count")
    expect(count).not_to_have_text("Lines shown: 0")
    states = page.get_by_role("search").get_by_role("group", name="State")
    states.get_by_role("checkbox", name="Blocked").check()
    states.get_by_role("checkbox", name="Active").check()
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/lines\?state=active&state=blocked$"))
    open_panel(page)
    page.get_by_role("textbox", name="Save these filters as").fill(TWO_STATES)
    page.get_by_role("button", name="Save this filter").click()
    expect(page.get_by_test_id("saved-filters-note")).to_have_text(f"Saved as “{TWO_STATES}”.")
    assert saved_states(platform, TWO_STATES) == ["active", "blocked"]

    page.goto("/lines")
    expect(count).not_to_have_text("Lines shown: 0")
    open_panel(page)
    page.get_by_role("combobox", name="Saved filter").select_option(label=TWO_STATES)
    with page.expect_request(re.compile(r"/v1/lines\?limit=200&state=active&state=blocked$")):
        page.get_by_role("button", name="Apply", exact=True).click()
    expect(page).to_have_url(re.compile(r"/lines\?state=active&state=blocked$"))
    for state, checked in (("Ready", False), ("Active", True), ("Blocked", True), ("Terminated", False)):
        expect(states.get_by_role("checkbox", name=state)).to_be_checked(checked=checked)
    expect(count).not_to_have_text("Lines shown: 0")
    shown = {text.strip() for text in page.locator(".scroller .state").all_inner_texts()}
    assert shown and shown <= {"Active", "Blocked"}, shown
    # The page shows the saved filter it is, and every line it matches may be acted on.
    expect(page.get_by_role("combobox", name="Saved filter").locator("option:checked")).to_have_text(TWO_STATES)
    expect(page.get_by_role("radio", name="Every line matching the filter")).to_be_enabled()
    assert axe_problems(page) == []

    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_test_id("saved-filters-note")).to_have_text(f"“{TWO_STATES}” deleted.")
    assert TWO_STATES not in saved_names(platform)


def test_the_saved_filters_in_persian_have_no_latin_text(page: Page) -> None:
    page.goto("/lines?state=blocked")
    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_text("فیلترهای ذخیره‌شده", exact=True).click()
    expect(page.get_by_role("button", name="ذخیرهٔ این فیلتر")).to_be_visible()
    page.wait_for_load_state("networkidle")
    latin = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert latin == [], latin
    assert axe_problems(page) == []
    screenshot(page, "lines-saved-filters-fa")
    page.get_by_test_id("language").select_option("en")
