"""Labels and groups in the console (AC-5), in a real browser against the e2e platform.

The demo manager gets a department of six lines of its own (imported the back-office way, three of them
labelled "drivers"). In the browser they filter the lines page by that label, label every line the filter
matches "night" and "vip" by one operation, make the group "Couriers" (a truck, orange) at the department on
the Groups page, then put the "vip" lines in it by another operation, picking the group from a list; the
lines page filtered by the group shows the three lines with their group (its icon and colour) and labels, a
line's page links each of them to the lines that share it, and the API finds them by label and group too.
Renamed "Night couriers" and turned teal on the Groups page, the group keeps its lines: the lines page and a
line's page show the new name. axe-core checks each page; in Persian the filtered page shows no Latin text
outside user data.
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
    department_with_lines,
    screenshot,
    sign_in_with_password,
)
from tests.e2e.test_console_operations import bearer

pytestmark = pytest.mark.e2e

DESK_NAME = "Courier desk"
DESK_PREFIX = "+799982"
"""The department's lines: +79998200000 to +79998200005 (the operations test's are +799981...)."""
DRIVERS = 3


@pytest.fixture(scope="module")
def desk(platform: Platform) -> Iterator[dict[str, Any]]:
    """A department under the demo company holding six active lines, the first three labelled "drivers"."""
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        headers = bearer(api)
        numbers = [f"{DESK_PREFIX}{i:05d}" for i in range(6)]
        department = department_with_lines(
            platform,
            api,
            headers,
            name=DESK_NAME,
            numbers=numbers,
            first_serial=9_200_000,  # serials no other test takes
            labels=lambda i: ["drivers"] if i < DRIVERS else [],
        )
        yield {**department, "numbers": numbers, "headers": headers}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        yield page


def run_on_every_match(page: Page, type_label: str, fill: dict[str, str], choose: dict[str, str] | None = None) -> None:
    """Every line the lines page's filter matches, changed by one operation, followed to its end; ``fill`` types
    into text fields, ``choose`` picks an option of a list by its text."""
    page.get_by_role("radio", name="Every line matching the filter").check()
    form = page.get_by_role("region", name="Change these lines")
    form.get_by_label("Operation").select_option(label=type_label)
    for name, value in fill.items():
        form.get_by_role("textbox", name=name).fill(value)
    for name, value in (choose or {}).items():
        field = form.get_by_role("combobox", name=name)
        expect(field.get_by_role("option", name=value)).to_be_attached()
        field.select_option(label=value)
    assert axe_problems(page) == []
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_text(f"{type_label}: every line matching the filter")).to_be_visible()
    form.get_by_role("button", name="Start the operation").click()
    expect(page).to_have_url(re.compile(r"/operations/[0-9A-Z]+$"))
    expect(page.get_by_test_id("progress-text")).to_have_text(f"{DRIVERS} of {DRIVERS}", timeout=60_000)
    expect(page.get_by_test_id("operation-state")).to_have_text("Completed")
    expect(page.get_by_test_id("count-succeeded")).to_have_text(str(DRIVERS))


def test_label_the_lines_a_filter_finds_then_put_them_in_a_group(
    page: Page, platform: Platform, desk: dict[str, Any]
) -> None:
    page.goto(f"/lines?node_id={desk['id']}")
    expect(page.get_by_test_id("lines-count")).to_have_text("Lines shown: 6")
    filters = page.get_by_role("search")
    filters.get_by_role("textbox", name="Label").fill("drivers")
    filters.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"label=drivers"))
    expect(page.get_by_test_id("lines-count")).to_have_text(f"Lines shown: {DRIVERS}")
    assert axe_problems(page) == []
    screenshot(page, "lines-labels-en")
    run_on_every_match(page, "Add labels", {"Labels": "night, vip"})

    # The group is made on the Groups page: a name, the node it belongs to, an icon and a colour.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Groups of employees")
    made = page.get_by_role("form", name="New group")
    made.get_by_role("textbox", name="Name").fill("Couriers")
    made.get_by_role("searchbox", name="Find by name").fill(DESK_NAME)
    node = made.get_by_role("combobox", name="Node")
    expect(node.locator(f"option[value='{desk['id']}']")).to_be_attached()
    node.select_option(value=desk["id"])
    made.get_by_role("radio", name="Truck").check()
    made.get_by_role("radio", name="Orange").check()
    assert axe_problems(page) == []
    made.get_by_role("button", name="Make the group").click()
    expect(page.get_by_test_id("groups-note")).to_have_text("Group “Couriers” made.")
    couriers = page.get_by_test_id("group").filter(has_text="Couriers")
    expect(couriers.locator(".group-tag")).to_have_attribute("data-icon", "truck")
    expect(couriers.get_by_role("link", name="0 lines")).to_be_visible()

    page.goto(f"/lines?node_id={desk['id']}&label=vip")
    expect(page.get_by_test_id("lines-count")).to_have_text(f"Lines shown: {DRIVERS}")
    run_on_every_match(page, "Put in a group", {}, {"Group": "Couriers"})

    page.goto(f"/lines?node_id={desk['id']}&group=Couriers")
    expect(page.get_by_test_id("lines-count")).to_have_text(f"Lines shown: {DRIVERS}")
    first = page.get_by_role("row", name=re.compile(re.escape(desk["numbers"][0])))
    expect(first.locator(".group-tag")).to_have_text("Couriers")
    expect(first.locator(".group-tag")).to_have_attribute("data-colour", "orange")
    expect(first.locator(".group-tag svg")).to_have_count(1)
    expect(first.locator(".label-tag")).to_have_text(["drivers", "night", "vip"])
    assert axe_problems(page) == []
    screenshot(page, "lines-group-en")

    # A line's page shows its group and labels, each a link to the lines that share it.
    page.get_by_role("link", name=desk["numbers"][0]).click()
    expect(page.get_by_test_id("line-group")).to_have_text("Couriers")
    expect(page.get_by_test_id("line-labels").get_by_role("link")).to_have_text(["drivers", "night", "vip"])
    assert axe_problems(page) == []
    page.get_by_test_id("line-labels").get_by_role("link", name="night").click()
    expect(page).to_have_url(re.compile(r"/lines\?label=night$"))
    expect(page.get_by_test_id("lines-count")).to_have_text(f"Lines shown: {DRIVERS}")

    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        found = api.get(
            "/v1/lines", params={"node_id": desk["id"], "label": "night", "group": "Couriers"}, headers=desk["headers"]
        )
    assert found.status_code == 200, found.text
    assert sorted(line["msisdn"] for line in found.json()["items"]) == desk["numbers"][:DRIVERS]

    # Renamed and restyled, the group keeps its lines: they show its new name and colour at once.
    page.goto("/groups")
    couriers = page.get_by_test_id("group").filter(has_text="Couriers")
    expect(couriers.get_by_role("link", name=f"{DRIVERS} lines")).to_be_visible()
    couriers.get_by_role("button", name="Edit Couriers").click()
    editing = page.get_by_role("form", name="Edit the group Couriers")
    editing.get_by_role("textbox", name="Name").fill("Night couriers")
    editing.get_by_role("radio", name="Teal").check()
    assert axe_problems(page) == []
    editing.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("groups-note")).to_have_text("Group “Night couriers” saved.")
    screenshot(page, "groups-en")
    page.get_by_test_id("group").filter(has_text="Night couriers").get_by_role("link", name=f"{DRIVERS} lines").click()
    expect(page).to_have_url(re.compile(r"/lines\?group=Night\+couriers&node_id="))
    expect(page.get_by_test_id("lines-count")).to_have_text(f"Lines shown: {DRIVERS}")
    first = page.get_by_role("row", name=re.compile(re.escape(desk["numbers"][0])))
    expect(first.locator(".group-tag")).to_have_text("Night couriers")
    expect(first.locator(".group-tag")).to_have_attribute("data-colour", "teal")
    page.get_by_role("link", name=desk["numbers"][0]).click()
    expect(page.get_by_test_id("line-group")).to_have_text("Night couriers")
    assert axe_problems(page) == []


def test_the_filtered_lines_in_persian_have_no_latin_text(page: Page, desk: dict[str, Any]) -> None:
    page.goto(f"/lines?node_id={desk['id']}&label=drivers")
    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_role("radio").last.check()
    page.locator(".operation-form select[name=type]").select_option("add_labels")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("در حال بارگذاری")).to_have_count(0)
    latin = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert latin == [], latin
    assert axe_problems(page) == []
    screenshot(page, "lines-labels-fa")
    page.get_by_test_id("language").select_option("en")
