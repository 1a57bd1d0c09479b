"""The console's hierarchy, operations and a line's page in a real browser against the e2e platform.

The demo manager gets a department of 1,000 active lines of its own (imported the back-office way, so the
demo lines other tests read stay as they are). In the browser they open the company's tree by keyboard, find
the department, follow its "lines" link to the lines page filtered by that node, choose every line the filter
matches and block them all; the operation's page follows the event stream until 1,000 of 1,000 lines have
ended. A line's page then shows the block, reveals the PUK codes behind a button that says the reveal is
recorded (and the action history has it), locates the handset and unblocks the line by a one-line operation.
axe-core checks every new page; in Persian they show no Latin text outside user data.
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
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
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
    department_with_lines,
    screenshot,
    sign_in_with_password,
)
from tests.helpers import password_bearer

pytestmark = pytest.mark.e2e

FLEET = 1000
FLEET_NAME = "Vehicle fleet"
FLEET_PREFIX = "+799981"
"""The department's lines: +79998100000 to +79998100999 (the scope matrix's are +79994..., test_lines' +79993...,
the labels test's +799982..., the hierarchy test's +799983...)."""
CREW_NAME = "Field engineers"
CREW_LINES = ["+79998400000", "+79998400001"]
WORKSHOP_NAME = "Workshop"
CREW_NUMBERS = ["+79998450000", "+79998450001", "+79998450002"]
"""Free numbers in the operator's stock that only this module asks for (by the digits 9984500)."""
CREW_RESERVE = [demo_sim(9_400_000 + i) for i in range(3)]
"""SIMs in the customer's reserve that only this module chooses (others take the reserve's first)."""


def bearer(api: httpx.Client) -> dict[str, str]:
    return password_bearer(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)


@pytest.fixture(scope="module")
def fleet(platform: Platform) -> Iterator[dict[str, Any]]:
    """A department under the demo company holding 1,000 active lines, counted in its figures."""
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        headers = bearer(api)
        numbers = [f"{FLEET_PREFIX}{i:05d}" for i in range(FLEET)]
        department = department_with_lines(
            platform, api, headers, name=FLEET_NAME, numbers=numbers, first_serial=9_100_000
        )  # serials no other test takes
        with grpc.insecure_channel(platform.netsim_target) as channel:
            hlr = hlr_pb2_grpc.HlrServiceStub(channel)

            def registered() -> bool:
                try:
                    hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=numbers[-1]), timeout=5)
                except grpc.RpcError:
                    return False
                return True

            wait_until(registered, 120, "the department's lines in the HLR")

        def counted() -> bool:
            summary = api.get(f"/v1/nodes/{department['id']}/summary", headers=headers).json()
            return any(f["name"] == "lines.active" and f["subtree"] == FLEET for f in summary["figures"])

        wait_until(counted, 60, "the department's lines in its figures")
        yield {**department, "numbers": numbers}


def hlr_has(platform: Platform, number: str) -> None:
    with grpc.insecure_channel(platform.netsim_target) as channel:
        hlr = hlr_pb2_grpc.HlrServiceStub(channel)

        def registered() -> bool:
            try:
                hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=number), timeout=5)
            except grpc.RpcError:
                return False
            return True

        wait_until(registered, 120, f"{number} in the HLR")


@pytest.fixture(scope="module")
def crew(platform: Platform) -> Iterator[dict[str, Any]]:
    """Two lines of their own in a department, another department to move them to, reserve SIMs and free
    numbers that no other test takes: for the operations that give each line its own new SIM or number."""
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        headers = bearer(api)
        [company] = api.get("/v1/nodes", params={"kind": "company"}, headers=headers).json()["items"]
        customer_id = api.get("/v1/me", headers=headers).json()["customer_id"]
        accounts = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
        account, other_account = sorted(accounts.json()["items"], key=lambda n: n["name"])[:2]
        made = {}
        for name in (CREW_NAME, WORKSHOP_NAME):
            created = api.post(
                "/v1/nodes", json={"parent_id": company["id"], "kind": "department", "name": name}, headers=headers
            )
            assert created.status_code == 201, created.text
            made[name] = created.json()
        call = {"metadata": ((OPERATOR_KEY, platform.config.operator_key),), "timeout": 60}
        with grpc.insecure_channel(platform.inventory_target) as channel:
            admin = admin_pb2_grpc.InventoryAdminServiceStub(channel)
            admin.ImportLines(
                admin_pb2.ImportLinesRequest(
                    customer_id=customer_id,
                    lines=[
                        admin_pb2.ImportedLine(
                            msisdn=number,
                            sim=demo_sim(9_410_000 + i),
                            node_id=made[CREW_NAME]["id"],
                            personal_account_id=account["id"],
                            tariff_code="BIZ-M",
                            state=lpb.LINE_STATE_ACTIVE,
                            services=["voice", "sms", "data"],
                        )
                        for i, number in enumerate(CREW_LINES)
                    ],
                ),
                **call,
            )
            admin.ImportStock(admin_pb2.ImportStockRequest(msisdns=CREW_NUMBERS), **call)
            admin.ImportStock(admin_pb2.ImportStockRequest(customer_id=customer_id, sims=CREW_RESERVE), **call)
        for number in CREW_LINES:
            hlr_has(platform, number)

        def listed() -> bool:
            # Inventory learns of the new department from accounts' event: until then its filter finds nothing.
            found = api.get("/v1/lines", params={"node_id": made[CREW_NAME]["id"]}, headers=headers)
            return found.status_code == 200 and len(found.json()["items"]) == len(CREW_LINES)

        wait_until(listed, 60, "the department's lines in its filter")
        yield {
            "department": made[CREW_NAME],
            "workshop": made[WORKSHOP_NAME],
            "other_account": other_account,
            "headers": headers,
        }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)
        yield page


def focused_name(page: Page) -> str:
    name: str = page.evaluate(
        "() => document.activeElement?.querySelector('.tree-label [translate=no]')?.textContent ?? ''"
    )
    return name


def test_the_tree_by_keyboard_then_block_a_thousand_lines_by_a_filter(page: Page, fleet: dict[str, Any]) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Hierarchy").click()
    tree = page.get_by_role("tree", name="The company's tree")
    root = tree.get_by_role("treeitem").first
    expect(root).to_have_attribute("aria-expanded", "false")
    root.focus()
    page.keyboard.press("ArrowRight")
    expect(root).to_have_attribute("aria-expanded", "true")
    expect(root.get_by_role("group").get_by_role("treeitem").first).to_be_visible()
    # Down through the company's children, by keyboard only, to the department.
    for _ in range(50):
        if focused_name(page) == FLEET_NAME:
            break
        page.keyboard.press("ArrowDown")
    assert focused_name(page) == FLEET_NAME
    department = tree.get_by_role("treeitem", name=re.compile(FLEET_NAME))
    expect(department).to_be_focused()
    expect(department).to_have_attribute("aria-level", "2")
    page.keyboard.press("Enter")
    expect(department).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name=FLEET_NAME)).to_be_visible()
    expect(page.get_by_test_id("figure-active")).to_have_text("1,000")
    # Home and End jump to the first and the last item; Left closes the company from a child of it.
    page.keyboard.press("End")
    expect(tree.get_by_role("treeitem").last).to_be_focused()
    page.keyboard.press("Home")
    expect(root).to_be_focused()
    assert axe_problems(page) == []
    screenshot(page, "nodes-en")

    page.get_by_role("link", name="Show this node's lines").click()
    expect(page).to_have_url(re.compile(rf"/lines\?node_id={fleet['id']}$"))
    expect(page.get_by_text(f"Only the lines of {FLEET_NAME}.")).to_be_visible()
    expect(page.get_by_test_id("lines-count")).to_have_text("Lines shown: 200")
    # One row chosen by its checkbox, then every line shown, then every line the filter matches.
    page.get_by_role("checkbox", name=f"Choose {fleet['numbers'][0]}").check()
    expect(page.get_by_test_id("chosen-count")).to_have_text("The lines chosen: 1")
    page.get_by_role("checkbox", name="Choose every line shown").check()
    expect(page.get_by_test_id("chosen-count")).to_have_text("The lines chosen: 200")
    page.get_by_role("radio", name="Every line matching the filter").check()
    assert axe_problems(page) == []

    form = page.get_by_role("region", name="Change these lines")
    expect(form.get_by_label("Operation")).to_have_value("block")
    form.get_by_label("Kind of block").select_option("voluntary")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_text("Block: every line matching the filter")).to_be_visible()
    expect(form.get_by_text("It starts now.")).to_be_visible()
    form.get_by_role("button", name="Start the operation").click()

    expect(page).to_have_url(re.compile(r"/operations/[0-9A-Z]+$"))
    expect(page.get_by_role("heading", name="Operation: Block")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Progress")
    expect(bar).to_have_attribute("aria-valuemax", "1000", timeout=60_000)
    # The page follows the event stream: no reload, the bar reaches the end.
    expect(bar).to_have_attribute("aria-valuenow", "1000", timeout=120_000)
    expect(page.get_by_test_id("progress-text")).to_have_text("1,000 of 1,000")
    expect(page.get_by_test_id("operation-state")).to_have_text("Completed")
    expect(page.get_by_test_id("count-succeeded")).to_have_text("1,000")
    expect(page.get_by_role("cell", name="Succeeded").first).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "operation-en")

    page.get_by_role("navigation").get_by_role("link", name="Operations").click()
    expect(page.get_by_role("row", name=re.compile(r"Block Completed 1,000 of 1,000")).first).to_be_visible()
    assert axe_problems(page) == []


def test_a_line_reveals_its_puk_on_record_locates_and_unblocks(
    page: Page, platform: Platform, fleet: dict[str, Any]
) -> None:
    number = fleet["numbers"][7]
    page.goto(f"/lines/{number}")
    expect(page.get_by_role("heading", name=f"Line {number}")).to_be_visible()
    expect(page.get_by_test_id("line-blocks")).to_contain_text("Voluntary")
    expect(page.get_by_test_id("line-services")).to_have_text("Calls, SMS, Mobile data")

    # Its node and personal account by name, each a link: the node's lines, the account's page.
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        headers = bearer(api)
        account_id = api.get(f"/v1/lines/{number}", headers=headers).json()["personal_account_id"]
        account = api.get(f"/v1/nodes/{account_id}", headers=headers).json()
    node_link = page.get_by_test_id("line-node")
    expect(node_link).to_have_text(FLEET_NAME)
    expect(page.get_by_test_id("line-account")).to_have_text(account["name"])
    node_link.click()
    expect(page).to_have_url(re.compile(rf"/lines\?node_id={fleet['id']}$"))
    page.go_back()
    page.get_by_test_id("line-account").click()
    expect(page).to_have_url(re.compile(rf"/finances/accounts/{account_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(account["name"])
    page.go_back()
    expect(page.get_by_role("heading", name=f"Line {number}")).to_be_visible()

    # The PUK codes only on an explicit reveal, which says it is recorded; the action history has it.
    expect(page.get_by_test_id("puk1")).to_have_count(0)
    reveal = page.get_by_role("button", name="Reveal the PUK codes (recorded)")
    expect(reveal).to_have_accessible_description(re.compile("recorded in the action history"))
    reveal.click()
    expect(page.get_by_test_id("puk1")).to_have_text(re.compile(r"^\d{8}$"))
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        headers = bearer(api)

        def recorded() -> list[dict[str, Any]]:
            answer = api.get(
                "/v1/audit-events", params={"action": "lines.puk.read", "object_id": number}, headers=headers
            )
            assert answer.status_code == 200, answer.text
            events: list[dict[str, Any]] = answer.json()["items"]
            return events

        [event] = wait_until(recorded, 30, "the reveal in the action history")
    assert event["result"] == "succeeded"

    page.get_by_role("button", name="Locate the handset").click()
    expect(page.get_by_test_id("location")).to_contain_text("within")
    assert axe_problems(page) == []
    screenshot(page, "line-en")

    # Its likeliest action first: a blocked line is offered its unblock, an operation of one line.
    form = page.get_by_role("region", name="Change this line")
    expect(form.get_by_label("Operation")).to_have_value("unblock")
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_text("Unblock: 1 lines.")).to_be_visible()
    form.get_by_role("button", name="Start the operation").click()
    expect(page.get_by_test_id("progress-text")).to_have_text("1 of 1", timeout=60_000)
    expect(page.get_by_test_id("operation-state")).to_have_text("Completed")
    page.get_by_role("link", name=number).click()
    expect(page.locator("dd.state-active")).to_have_text("Active")


def test_the_new_pages_in_persian_have_no_latin_text(page: Page, fleet: dict[str, Any]) -> None:
    page.goto("/operations")
    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    operation = page.get_by_role("link", name="مسدودسازی").first
    expect(operation).to_be_visible()
    pages = [("/operations", "operations-fa")]
    operation.click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    pages.append((page.url, "operation-fa"))
    pages += [("/nodes", "nodes-fa"), (f"/lines/{fleet['numbers'][1]}", "line-fa")]
    for path, name in pages:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        expect(page.get_by_text("در حال بارگذاری")).to_have_count(0)
        if path == "/nodes":
            item = page.get_by_role("treeitem").first
            item.focus()
            page.keyboard.press("ArrowLeft")  # in right to left, the key that opens
            expect(item).to_have_attribute("aria-expanded", "true")
            page.keyboard.press("Enter")
            expect(page.get_by_test_id("figure-active")).to_be_visible()
            # The company's balance: its personal accounts', in Persian digits.
            expect(page.get_by_test_id("balance-RUB")).to_have_text(
                re.compile("₽[\u06f0-\u06f9\u066c]+\u066b[\u06f0-\u06f9]{2}$")
            )
        if path.startswith("/lines/"):
            page.get_by_role("button", name="نمایش کدهای پاک (ثبت می‌شود)").click()
            expect(page.get_by_test_id("puk1")).to_be_visible()
        latin = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
        assert latin == [], f"{path}: {latin}"
        assert axe_problems(page) == []
        screenshot(page, name)
    page.get_by_test_id("language").select_option("en")


def finished_in_the_browser(page: Page, total: int) -> None:
    expect(page).to_have_url(re.compile(r"/operations/[0-9A-Z]+$"))
    expect(page.get_by_test_id("progress-text")).to_have_text(f"{total} of {total}", timeout=60_000)
    expect(page.get_by_test_id("operation-state")).to_have_text("Completed")


def test_each_line_its_own_sim_then_a_new_number_then_another_department(
    page: Page, platform: Platform, crew: dict[str, Any]
) -> None:
    first, second = CREW_LINES
    page.goto(f"/lines?node_id={crew['department']['id']}")
    expect(page.get_by_test_id("lines-count")).to_have_text("Lines shown: 2")
    page.get_by_role("checkbox", name="Choose every line shown").check()
    form = page.get_by_role("region", name="Change these lines")
    form.get_by_label("Operation").select_option("replace_sim")
    expect(form.get_by_text(re.compile(r"^Reserve SIMs: \d+$"))).to_be_visible()
    review = form.get_by_role("button", name="Review")
    expect(review).to_be_disabled()  # a new SIM for every line first
    form.get_by_label(f"New SIM for {first}").select_option(CREW_RESERVE[1].iccid)
    # The SIM chosen for one line is not offered to the other.
    other = form.get_by_label(f"New SIM for {second}")
    expect(other.locator(f"option[value='{CREW_RESERVE[1].iccid}']")).to_have_count(0)
    other.select_option(CREW_RESERVE[2].iccid)
    assert axe_problems(page) == []
    review.click()
    expect(form.get_by_text("Replace the SIM: 2 lines.")).to_be_visible()
    expect(form.get_by_text(CREW_RESERVE[1].iccid)).to_be_visible()
    form.get_by_role("button", name="Start the operation").click()
    finished_in_the_browser(page, 2)
    headers = crew["headers"]
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        assert api.get(f"/v1/lines/{first}", headers=headers).json()["sim"]["iccid"] == CREW_RESERVE[1].iccid
        assert api.get(f"/v1/lines/{second}", headers=headers).json()["sim"]["iccid"] == CREW_RESERVE[2].iccid

    # From a line's own page: a new number, found among the free ones by its digits.
    page.goto(f"/lines/{first}")
    form = page.get_by_role("region", name="Change this line")
    form.get_by_label("Operation").select_option("change_number")
    form.get_by_label("Numbers containing the digits").fill("9984500")
    form.get_by_role("button", name="Find free numbers").click()
    expect(form.get_by_text("Free numbers found: 3")).to_be_visible()
    form.get_by_label(f"New number for {first}").select_option(CREW_NUMBERS[1])
    assert axe_problems(page) == []
    form.get_by_role("button", name="Review").click()
    expect(form.get_by_text(f"{first}: {CREW_NUMBERS[1]}")).to_be_visible()
    form.get_by_role("button", name="Start the operation").click()
    finished_in_the_browser(page, 1)
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        moved = api.get(f"/v1/lines/{CREW_NUMBERS[1]}", headers=headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["sim"]["iccid"] == CREW_RESERVE[1].iccid
        assert api.get(f"/v1/lines/{first}", headers=headers).status_code == 404

    # The other line to another department, found by its name in the node picker, and billed to another
    # personal account, found in the account picker (which offers personal accounts only).
    page.goto(f"/lines?node_id={crew['department']['id']}")
    page.get_by_role("checkbox", name=f"Choose {second}").check()
    form = page.get_by_role("region", name="Change these lines")
    form.get_by_label("Operation").select_option("move")
    picker = form.get_by_role("group", name="Move the lines to")
    picker.get_by_label("Find by name").fill(WORKSHOP_NAME)
    expect(picker.get_by_text("Nodes found: 1")).to_be_visible()
    picker.get_by_role("combobox", name=re.compile("^Node")).select_option(crew["workshop"]["id"])
    billed = form.get_by_role("group", name="Bill them to the personal account")
    billed.get_by_label("Find by name").fill(crew["other_account"]["name"])
    billed.get_by_role("combobox", name=re.compile("^Node")).select_option(crew["other_account"]["id"])
    assert axe_problems(page) == []
    form.get_by_role("button", name="Review").click()
    form.get_by_role("button", name="Start the operation").click()
    finished_in_the_browser(page, 1)
    with httpx.Client(base_url=platform.gateway_url, timeout=10) as api:
        line = api.get(f"/v1/lines/{second}", headers=headers).json()
        assert (line["node_id"], line["personal_account_id"]) == (crew["workshop"]["id"], crew["other_account"]["id"])
