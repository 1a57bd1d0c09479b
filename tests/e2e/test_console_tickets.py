"""The console's tickets and forms pages in a real browser (Debian's Chromium driven by Playwright) against the e2e
platform.

The demo manager files a ticket with a small PDF on the new ticket page (a real file input), finds it in the list
by its text, and downloads the file back through the console's session. Support answers through the API and
resolves it; the manager sees the answer on the ticket's page, where only the moves a resolved ticket allows are
offered, confirms the resolution, and the page shows the state the API has. In Persian the ticket's page has no
Latin text outside user data. The forms library fills a form into a PDF download, and files it as a request by
form with the PDF attached. axe-core finds no serious or critical violation on any of these pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_MANAGER, DEMO_SUPPORT
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
from tests.helpers import password_bearer

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        yield page


def sign_in(api: httpx.Client, phone: str, password: str) -> dict[str, str]:
    """A session by password for the API calls beside the browser."""
    return password_bearer(api, phone, password)


def regions(api: httpx.Client, manager: dict[str, str]) -> str:
    """The demo tree's Regions node, once ticketing knows it (it learns the tree from accounts' events)."""
    nodes = {n["name"]: n for n in api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]}
    node_id = str(nodes["Regions"]["id"])

    def known() -> bool:
        listed = api.get("/v1/tickets", params={"node_id": node_id, "limit": 1}, headers=manager)
        return listed.status_code == 200

    wait_until(known, 20, "ticketing knows the demo tree", interval=0.2)
    return node_id


def test_a_manager_files_a_ticket_support_answers_and_the_manager_confirms(
    page: Page, platform: Platform, api: httpx.Client
) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    node_id = regions(api, manager)
    topic = f"Console e2e {uuid.uuid4().hex[:8]}: no data in Kazan"
    sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)

    page.get_by_role("navigation").get_by_role("link", name="Tickets").click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.get_by_role("link", name="New ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    limits = "Up to 5 files, each at most 10 MB; types: PDF, PNG, JPEG, TXT, DOCX, XLSX."
    expect(page.get_by_text(limits)).to_be_visible()
    page.locator('select[name="node"]').select_option(node_id)
    page.get_by_label("Type").select_option("fault")
    page.get_by_label("Topic").fill(topic)
    page.get_by_label("Description").fill("Three lines in Kazan have had no data since 9:00.")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Add files").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(page.get_by_role("button", name="Remove report.pdf")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "ticket-new-en")
    page.get_by_role("button", name="File the ticket").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Ticket T-\d{4}-\d{6}$"))
    expect(heading).to_be_visible()
    ticket_id = page.url.rsplit("/", 1)[-1]
    number = heading.inner_text().removeprefix("Ticket ")
    expect(page.get_by_test_id("ticket-state")).to_have_text("Received")
    filed = api.get(f"/v1/tickets/{ticket_id}", headers=manager).json()
    assert (filed["ticket"]["number"], filed["ticket"]["topic"], filed["ticket"]["state"]) == (
        number,
        topic,
        "acknowledged",
    )
    [note] = filed["notes"]
    assert [a["filename"] for a in note["attachments"]] == ["report.pdf"]
    # The file comes back through the console's session, byte for byte.
    with page.expect_download() as download:
        page.get_by_role("button", name="report.pdf").click()
    assert download.value.suggested_filename == "report.pdf"
    saved = download.value.path()
    assert saved is not None and saved.read_bytes() == PDF

    # The list finds it by its text.
    page.get_by_role("link", name="Back").click()
    page.get_by_label("Text").fill(topic)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/tickets\?q="))
    row = page.get_by_role("row").filter(has_text=topic)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell", name="Received")).to_be_visible()
    expect(row.get_by_role("cell", name="Fault")).to_be_visible()
    expect(page.get_by_test_id("tickets-count")).to_have_text("Tickets shown: 1")
    assert axe_problems(page) == []
    screenshot(page, "tickets-en")

    # Support answers through the API and resolves it.
    support = sign_in(api, DEMO_SUPPORT.phone, DEMO_SUPPORT.password)
    answer = "A cell in Kazan was down; it works again. Please check."
    answered = api.post(
        f"/v1/admin/tickets/{ticket_id}/answers", json={"body": answer, "to_state": "resolved"}, headers=support
    )
    assert answered.status_code == 201, answered.text

    row.get_by_role("link", name=number).click()
    expect(page.get_by_text(answer)).to_be_visible()
    expect(page.get_by_test_id("ticket-state")).to_have_text("Resolved")
    # A resolved ticket is confirmed or reopened; it is not cancelled any more.
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the ticket")).to_have_count(0)
    history = page.get_by_role("table")
    expect(history.get_by_role("cell", name="Received → Resolved")).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "ticket-en")

    page.get_by_role("button", name="Confirm the resolution").click()
    expect(page.get_by_role("button", name="Reopen")).to_have_count(0)
    state: Any = api.get(f"/v1/tickets/{ticket_id}", headers=manager).json()["ticket"]["state"]
    assert state == "closed"
    expect(page.get_by_test_id("ticket-state")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)  # a closed ticket takes no notes

    # In Persian: right to left, every text outside user data from the catalogue.
    page.get_by_test_id("language").select_option("fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_test_id("ticket-state")).to_have_text("بسته")
    expect(page.get_by_text(answer)).to_be_visible()
    english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
    assert english == [], english
    assert axe_problems(page) == []
    screenshot(page, "ticket-fa")


def test_a_form_is_filled_downloaded_and_filed_as_a_request(page: Page, platform: Platform, api: httpx.Client) -> None:
    manager = sign_in(api, DEMO_MANAGER.phone, DEMO_MANAGER.password)
    node_id = regions(api, manager)
    sign_in_with_password(page, DEMO_MANAGER.phone, DEMO_MANAGER.password)

    open_section(page, "Forms")
    expect(page.get_by_role("heading", name="Forms library")).to_be_visible()
    form = page.locator(".form-list > li").filter(has=page.get_by_role("heading", name="SIM card replacement"))
    expect(form).to_have_count(1)
    form.get_by_role("button", name="Fill in").click()
    form.locator('select[name="node"]').select_option(node_id)
    assert axe_problems(page) == []
    screenshot(page, "forms-en")

    with page.expect_download() as download:
        form.get_by_role("button", name="Download the PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    saved = download.value.path()
    assert saved is not None and saved.read_bytes().startswith(b"%PDF")

    form.get_by_label("Message to support").fill("Please replace the SIM cards; the form is attached.")
    form.get_by_role("button", name="File a request with this form").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ticket T-\d{4}-\d{6}$"))).to_be_visible()
    ticket_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("button", name=re.compile(r"\.pdf$"))).to_be_visible()
    shown = api.get(f"/v1/tickets/{ticket_id}", headers=manager).json()
    assert shown["ticket"]["type"] == "request_by_form"
    [attached] = [a for n in shown["notes"] for a in n["attachments"]]
    assert attached["content_type"] == "application/pdf"
