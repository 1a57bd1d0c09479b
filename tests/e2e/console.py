"""What the browser tests of the web console share: Debian's Chromium driven by Playwright, a page that
records Content-Security-Policy violations, axe-core's serious and critical findings, the screenshots
written for docs/console/, and the check that a page has no text outside its catalogue.

Under CI=true a missing Chromium or console build fails the tests instead of skipping them.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from simfleet.inventory.v1 import admin_pb2, admin_pb2_grpc
from simfleet.inventory.v1 import lines_pb2 as lpb
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import demo_sim
from simfleet_runtime.context import OPERATOR_KEY
from tests.helpers import WEB_DIST

CHROMIUM = Path(os.environ.get("SIMFLEET_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("SIMFLEET_CONSOLE_SCREENSHOTS")
"""A folder (docs/console/ for the README's pictures) to write each page's screenshot to; unset: none."""
LATIN = re.compile(r"[A-Za-z]")

UNTRANSLATED_TEXT = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('[translate="no"], script, style')) continue;
    const text = node.textContent.trim();
    if (text) found.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    if (el.closest('[translate="no"]')) continue;
    for (const name of ['aria-label', 'placeholder', 'title']) {
      const value = el.getAttribute(name);
      if (value) found.push(value);
    }
  }
  return found;
}"""


def _need(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI must run the browser tests)")
    pytest.skip(why)


@contextmanager
def chromium() -> Iterator[Browser]:
    """One Chromium, launched from Debian's package (no browser is downloaded)."""
    _need(CHROMIUM.is_file(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    _need((WEB_DIST / "index.html").is_file(), "the web console is not built: make web")
    _need(AXE.is_file(), "web/node_modules is missing: make web (npm ci)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def console_page(browser: Browser, base_url: str, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A new browser context's page on the console; it fails on leaving when the page broke its CSP."""
    context = browser.new_context(base_url=base_url, locale="en-GB", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()
    assert violations == [], violations


def axe_problems(page: Page) -> list[dict[str, Any]]:
    """The serious and critical accessibility violations axe-core finds on the page as it is."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate("async () => await window.axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    """The whole page as a PNG of at most 256 colours (a third of the size; flat colours and text keep well)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        taken = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        small = taken.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        small.save(Path(SCREENSHOTS) / f"{name}.png", optimize=True)


def open_section(page: Page, name: str) -> None:
    """Opens a section by its link in the navigation, from behind its "More" when the link is there."""
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link").first).to_be_visible()
    link = nav.get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        nav.get_by_role("button", name="More").click()
    link.click()


def sign_in_with_password(page: Page, phone: str, password: str) -> None:
    """Signs in on the console's sign-in page by phone and password and waits for the home page.

    While the page says the service is busy (a 503 from a loaded machine, which asks to try again), it presses
    "Sign in" again, as a person would, up to three times in all; any other outcome fails at once."""
    page.goto("/")
    page.get_by_role("tab", name="Password").click()
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Password").fill(password)
    hello = page.get_by_role("heading", name=re.compile(r"^Hello, "))
    busy = page.get_by_role("alert").filter(has_text="The service is busy")
    for _ in range(2):
        page.get_by_role("button", name="Sign in").click()
        expect(hello.or_(busy)).to_be_visible()
        if hello.is_visible():
            return
        page.wait_for_timeout(1000)  # the 503's Retry-After: a second
    page.get_by_role("button", name="Sign in").click()
    expect(hello).to_be_visible()


def department_with_lines(
    platform: Platform,
    api: httpx.Client,
    headers: dict[str, str],
    *,
    name: str,
    numbers: Sequence[str],
    first_serial: int,
    labels: Callable[[int], list[str]] = lambda _: [],
) -> dict[str, Any]:
    """A department ``name`` under the demo company holding active lines ``numbers`` (SIM serials from
    ``first_serial``, which no other test may take), billed to the company's first personal account by name,
    imported by the operator; ``labels(i)`` labels the i-th. Returns the department as the API gives it."""
    [company] = api.get("/v1/nodes", params={"kind": "company"}, headers=headers).json()["items"]
    customer_id = api.get("/v1/me", headers=headers).json()["customer_id"]
    accounts = api.get("/v1/nodes", params={"kind": "personal_account", "limit": 100}, headers=headers)
    account = sorted(accounts.json()["items"], key=lambda n: n["name"])[0]
    created = api.post(
        "/v1/nodes", json={"parent_id": company["id"], "kind": "department", "name": name}, headers=headers
    )
    assert created.status_code == 201, created.text
    department: dict[str, Any] = created.json()
    lines = [
        admin_pb2.ImportedLine(
            msisdn=number,
            sim=demo_sim(first_serial + i),
            node_id=department["id"],
            personal_account_id=account["id"],
            tariff_code="BIZ-M",
            state=lpb.LINE_STATE_ACTIVE,
            services=["voice", "sms", "data"],
            labels=labels(i),
        )
        for i, number in enumerate(numbers)
    ]
    with grpc.insecure_channel(platform.inventory_target) as channel:
        admin_pb2_grpc.InventoryAdminServiceStub(channel).ImportLines(
            admin_pb2.ImportLinesRequest(customer_id=customer_id, lines=lines),
            metadata=((OPERATOR_KEY, platform.config.operator_key),),
            timeout=60,
        )
    return department
