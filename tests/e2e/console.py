"""What the browser tests of the web console share: Debian's Chromium driven by Playwright, a page that
records Content-Security-Policy violations, axe-core's serious and critical findings, the screenshots
written for docs/console/, and the check that a page has no text outside its catalogue.

Under CI=true a missing Chromium or console build fails the tests instead of skipping them.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

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


def sign_in_with_password(page: Page, phone: str, password: str) -> None:
    """Signs in on the console's sign-in page by phone and password and waits for the home page."""
    page.goto("/")
    page.get_by_role("tab", name="Password").click()
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()
