"""The console's hierarchy page changes the tree, in a real browser against the e2e platform.

The demo manager (who holds ``hierarchy:manage``) adds two departments under the company, renames one, moves it
under the other with the node picker, is refused the deletion of a department that still holds a line (the
API's reason shown as a translated message) and deletes an empty one after the confirmation. Each state is
checked by the API and by axe-core. The departments and the line are this module's own (names and a number no
other test uses), so modules sharing the platform do not collide.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet.inventory.v1 import admin_pb2, admin_pb2_grpc
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
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

DEPOT = "Depot by the river"
DEPOT_RENAMED = "Depot north"
LOGISTICS = "Logistics hub"
HELD_NUMBER = "+79998300000"
"""A line of this module's own: it keeps the logistics department from being deleted."""


@pytest.fixture(scope="module")
def api(platform: Platform) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as client:
        yield client, bearer(client)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        yield page


def child(api: tuple[httpx.Client, dict[str, str]], name: str) -> dict[str, Any]:
    client, headers = api
    answer = client.get("/v1/nodes", params={"q": name, "limit": 10}, headers=headers)
    assert answer.status_code == 200, answer.text
    [found] = [n for n in answer.json()["items"] if n["name"] == name]
    return found


def tree_label(page: Page, name: str, level: int) -> Any:
    return page.locator(f'[role="treeitem"][aria-level="{level}"] > .tree-label', has_text=name)


def test_add_rename_move_and_delete_departments(
    page: Page, platform: Platform, api: tuple[httpx.Client, dict[str, str]]
) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Hierarchy").click()
    tree = page.get_by_role("tree", name="The company's tree")
    tree.get_by_role("treeitem").first.locator("> .tree-label").click()
    editor = page.get_by_role("region", name="Change the hierarchy here")
    # The company is the operator's: parts are added under it, it is not renamed, moved or deleted here.
    expect(editor.get_by_role("button", name="Delete this node")).to_have_count(0)
    for name in (DEPOT, LOGISTICS):
        editor.get_by_label("Name", exact=True).fill(name)
        editor.get_by_role("button", name="Add").click()
        expect(editor.get_by_role("status")).to_have_text(f"{name} is added.")
        expect(tree_label(page, name, 2)).to_be_visible()
    company = child(api, LOGISTICS)["parent_id"]
    assert child(api, DEPOT)["parent_id"] == company
    assert axe_problems(page) == []

    # Rename: the tree and the API have the new name.
    tree_label(page, DEPOT, 2).click()
    expect(page.get_by_role("heading", name=DEPOT)).to_be_visible()
    editor.get_by_label("New name").fill(DEPOT_RENAMED)
    editor.get_by_role("button", name="Save the name").click()
    expect(editor.get_by_role("status")).to_have_text("The name is saved.")
    expect(tree_label(page, DEPOT_RENAMED, 2)).to_be_visible()
    depot = child(api, DEPOT_RENAMED)

    # Move it under the other department, found by its name; it and its place below it are in the API.
    picker = editor.get_by_role("group", name="The new place")
    picker.get_by_label("Find by name").fill(LOGISTICS)
    expect(picker.get_by_text("Nodes found: 1")).to_be_visible()
    picker.get_by_role("combobox", name=re.compile("^Node")).select_option(child(api, LOGISTICS)["id"])
    assert axe_problems(page) == []
    editor.get_by_role("button", name="Move here").click()
    expect(editor.get_by_role("status")).to_have_text("Moved.")
    logistics = child(api, LOGISTICS)
    assert child(api, DEPOT_RENAMED)["parent_id"] == logistics["id"]
    expect(tree_label(page, DEPOT_RENAMED, 3)).to_be_visible()
    expect(tree_label(page, DEPOT_RENAMED, 2)).to_have_count(0)

    # A department holding a line is not deleted: the API's reason, in words.
    client, headers = api
    customer_id = client.get("/v1/me", headers=headers).json()["customer_id"]
    accounts = client.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
    account = sorted(accounts.json()["items"], key=lambda n: n["name"])[0]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        admin_pb2_grpc.InventoryAdminServiceStub(channel).ImportLines(
            admin_pb2.ImportLinesRequest(
                customer_id=customer_id,
                lines=[
                    admin_pb2.ImportedLine(
                        msisdn=HELD_NUMBER,
                        sim=demo_sim(9_300_000),
                        node_id=depot["id"],
                        personal_account_id=account["id"],
                        tariff_code="BIZ-M",
                        state=lpb.LINE_STATE_READY,
                    )
                ],
            ),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=60,
        )
    expect(page.get_by_role("heading", name=DEPOT_RENAMED)).to_be_visible()
    editor.get_by_role("button", name="Delete this node").click()
    expect(editor.get_by_text(f"Delete {DEPOT_RENAMED}? This cannot be undone.")).to_be_visible()
    editor.get_by_role("button", name="Yes, delete it").click()
    expect(editor.get_by_role("alert")).to_have_text(
        "The node still holds lines or other nodes: move them elsewhere first."
    )
    assert client.get(f"/v1/nodes/{depot['id']}", headers=headers).status_code == 200
    assert axe_problems(page) == []
    screenshot(page, "nodes-edit-en")

    # Logistics holds the depot: refused too. The line moved away, the depot goes after the confirmation.
    moved = client.post(
        "/v1/operations",
        json={"type": "move", "lines": [HELD_NUMBER], "params": {"node_id": logistics["id"]}},
        headers=headers,
    )
    assert moved.status_code == 202, moved.text
    expect(page.get_by_role("heading", name=DEPOT_RENAMED)).to_be_visible()

    def emptied() -> bool:
        line = client.get(f"/v1/lines/{HELD_NUMBER}", headers=headers).json()
        summary = client.get(f"/v1/nodes/{depot['id']}/summary", headers=headers).json()
        held = sum(f["own"] for f in summary["figures"] if f["unit"] == "lines")
        return bool(line["node_id"] == logistics["id"] and held == 0)

    wait_until(emptied, 60, "the line in the logistics department, the depot's figures empty")
    editor.get_by_role("button", name="Keep it").click()
    editor.get_by_role("button", name="Delete this node").click()
    editor.get_by_role("button", name="Yes, delete it").click()
    expect(tree_label(page, DEPOT_RENAMED, 3)).to_have_count(0)
    expect(page.get_by_role("heading", name=LOGISTICS)).to_be_visible()
    assert client.get(f"/v1/nodes/{depot['id']}", headers=headers).status_code == 404
    assert axe_problems(page) == []

    # In Persian, the editor has no text left in English (names are the user's data, marked so).
    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(editor).to_have_count(0)
    farsi = page.get_by_role("region", name="تغییر ساختار در این‌جا")
    farsi.get_by_role("button", name="حذف این گره").click()
    expect(farsi.get_by_role("button", name="بله، حذف شود")).to_be_visible()
    farsi.get_by_label("جستجو با نام").fill(LOGISTICS)
    # The department itself is no place to move it to: the picker finds no other of that name.
    expect(farsi.get_by_text("گرهی با این نام نیست.")).to_be_visible()
    latin = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert latin == []
    assert axe_problems(page) == []
    screenshot(page, "nodes-edit-fa")
    page.get_by_test_id("language").select_option("en")
