"""The console's billing pages in a real browser (Debian's Chromium driven by Playwright) against the e2e platform.

The demo manager signs in by password, opens the finances and sees the personal accounts' balances, moves money
from one personal account to another on the account's page and finds both balances changed by exactly that
amount, buys a data package for a line, reads its receipt and finds it on the line's page, and creates a spending
limit. axe-core checks every page; in Persian no page shows a Latin letter outside user data (translate="no").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

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
from tests.e2e.test_billing_groups import PASSWORD, add_rial_account, make_group

pytestmark = pytest.mark.e2e

SOURCE, TARGET = "Telematics", "Warehouse staff"
"""Two of the demo customer's personal accounts (the e2e API tests move money between others)."""
LINE = f"{DEMO_LINES_PREFIX}000002"
"""An active demo line (slots 0..14 of every 20 are active)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser: Browser, platform: Platform) -> Iterator[Page]:
    with console_page(browser, platform.gateway_url) as page:
        sign_in(page)
        yield page


PROMISE_PHONE = "+79997780001"
PROMISE_LINES = ("+79997780011", "+79997780012")
"""A customer of this module's own (its personal account's promised payments are counted per 30 days)."""


CURRENCIES_PHONE = "+79997720001"
CURRENCIES_LINES = ("+79997720011", "+79997720012")
"""A customer whose group holds a personal account in roubles and one in rials."""


def sign_in(page: Page, phone: str = DEMO_MANAGER.phone, password: str = DEMO_MANAGER.password) -> None:
    sign_in_with_password(page, phone, password)


def minor_units(text: str) -> int:
    """A balance as the English page writes it ("₽1,000,000.00", "-₽5.00") in kopecks."""
    digits = re.sub(r"\D", "", text)
    assert digits, text
    return -int(digits) if "-" in text or "\u2212" in text else int(digits)


def balances(page: Page) -> dict[str, int]:
    table = page.get_by_test_id("personal-accounts")
    found: dict[str, int] = {}
    for name in (SOURCE, TARGET):
        row = table.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
        cell = row.get_by_test_id("balance")
        expect(cell).to_have_text(re.compile(r"₽"))
        found[name] = minor_units(cell.inner_text())
    return found


def test_finances_and_a_transfer_between_personal_accounts(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Finances").click()
    expect(page.get_by_role("heading", name="Finances", exact=True)).to_be_visible()
    expect(page.get_by_role("table").first.get_by_role("row", name=re.compile("^Closing balance"))).to_be_visible()
    before = balances(page)
    assert axe_problems(page) == []
    screenshot(page, "finances-en")

    page.get_by_role("link", name=SOURCE, exact=True).click()
    expect(page.get_by_role("heading", name=f"Personal account {SOURCE}")).to_be_visible()
    balance = page.get_by_test_id("account-balance").get_by_test_id("balance")
    expect(balance).to_have_text(re.compile(r"₽"))
    assert minor_units(balance.inner_text()) == before[SOURCE]
    expect(page.get_by_role("row", name=re.compile("^Opening balance"))).to_be_visible()
    assert axe_problems(page) == []
    screenshot(page, "account-en")

    form = page.get_by_role("form", name="Move money to another account")
    expect(form.get_by_label("To the account").locator("option", has_text=TARGET)).to_have_count(1)
    form.get_by_label("To the account").select_option(label=TARGET)
    form.get_by_label("Amount, RUB").fill("12.34")
    form.get_by_label("Note (optional)").fill("console e2e")
    form.get_by_role("button", name="Move the money").click()
    expect(form.get_by_role("status")).to_have_text(re.compile(r"^Moved ₽12\.34\. "))
    expect(balance).to_have_text(re.compile(r"₽"))
    expect(page.get_by_role("cell", name="console e2e").first).to_be_visible()

    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", name="Finances", exact=True)).to_be_visible()
    after = balances(page)
    assert after == {SOURCE: before[SOURCE] - 1234, TARGET: before[TARGET] + 1234}


def test_buying_a_package_for_a_line(page: Page) -> None:
    open_section(page, "Packages")
    expect(page.get_by_role("heading", name="Packages", exact=True)).to_be_visible()
    # The offers' table only: the purchases below list the same name once this
    # customer has bought the package (other modules share the platform).
    offers = page.get_by_role("region", name="Offers")
    expect(offers.get_by_role("cell", name="Data 1 GiB, 30 days")).to_be_visible()

    page.get_by_role("combobox", name=re.compile(r"^Package")).select_option("DATA-1G")
    page.get_by_label("Line numbers").fill(LINE)
    page.get_by_role("button", name="Buy", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Bought 1 for ₽150.00.")
    purchases = page.get_by_test_id("purchases")
    expect(purchases.get_by_role("row").nth(1)).to_contain_text("Data 1 GiB, 30 days")
    purchases.get_by_role("row").nth(1).get_by_role("button", name="Show the receipt").click()
    expect(page.get_by_test_id("receipt")).to_contain_text(LINE)
    assert axe_problems(page) == []
    screenshot(page, "packages-en")

    # The line's page shows the package among its usage.
    page.goto(f"/lines/{LINE}")
    usage = page.get_by_role("region", name=re.compile(r"^Usage in "))
    expect(usage.get_by_role("table", name="Data packages").get_by_role("cell", name="DATA-1G")).to_be_visible()
    assert axe_problems(page) == []


def test_creating_a_spending_limit(page: Page) -> None:
    open_section(page, "Spending limits")
    expect(page.get_by_role("heading", name="Spending limits", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="New spending limit")
    expect(form.get_by_role("button", name="Create the limit")).to_be_enabled()
    form.get_by_label("Limit for").select_option("line")
    form.get_by_label("Line number").fill(LINE)
    form.get_by_label("Amount, RUB").fill("500")
    form.get_by_label("Warn").check()
    form.get_by_label("Tell (phone numbers and email addresses)").fill(DEMO_MANAGER.email)
    form.get_by_role("button", name="Create the limit").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    row = page.get_by_test_id("limits").get_by_role("row").filter(has_text=LINE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("₽500.00")
    expect(row).to_contain_text("Warn")
    assert axe_problems(page) == []
    screenshot(page, "limits-en")


def test_the_billing_pages_in_persian(page: Page) -> None:
    page.goto("/finances")
    page.get_by_test_id("language").select_option("fa")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", name="امور مالی", exact=True)).to_be_visible()
    account = page.get_by_role("link", name=SOURCE, exact=True).get_attribute("href")
    assert account is not None
    try:
        for path, heading in (
            ("/finances", "امور مالی"),
            (account, f"حساب شخصی {SOURCE}"),
            ("/packages", "بسته‌ها"),  # noqa: RUF001 (Persian)
            ("/limits", "سقف هزینه"),
        ):
            page.goto(path)
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            page.wait_for_load_state("networkidle")
            expect(page.get_by_text("در حال بارگذاری")).to_have_count(0)
            english = [text for text in page.evaluate(UNTRANSLATED_TEXT) if LATIN.search(text)]
            assert english == [], f"{path}: {english}"
            assert axe_problems(page) == []
            if path == account:
                expect(page.get_by_test_id("account-balance").get_by_test_id("balance")).to_have_text(
                    re.compile("[\u06f0-\u06f9]")  # Persian digits
                )
                screenshot(page, "account-fa")
    finally:
        page.get_by_test_id("language").select_option("en")


def test_promised_payments_for_a_line_and_a_group_and_the_payments_filters(
    browser: Browser, platform: Platform
) -> None:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        group = make_group(platform, api, key="console-promised", n=77, phone=PROMISE_PHONE, msisdns=PROMISE_LINES)
        path = f"/v1/personal-accounts/{group.personal_account_id}/payments"
        for n, amount in enumerate((10_000, 25_000, 100_000)):
            paid = api.post(
                path,
                json={"amount": amount, "currency": "RUB", "card_token": "tok_e2e_visa"},
                headers={**group.manager, "Idempotency-Key": f"console-filters-{n}"},
            )
            assert paid.status_code in (200, 201), paid.text
    with console_page(browser, platform.gateway_url) as page:
        sign_in(page, PROMISE_PHONE, PASSWORD)
        # BI-9 for a line: taken on the personal account it is billed to, then shown as the open one.
        page.goto(f"/lines/{PROMISE_LINES[0]}")
        expect(page.get_by_test_id("line-promised")).to_have_text("None")
        form = page.get_by_role("form", name="Take a promised payment for this line")
        form.get_by_label("Amount, RUB").fill("150.50")
        assert axe_problems(page) == []
        form.get_by_role("button", name="Take a promised payment for this line").click()
        expect(page.get_by_test_id("line-promised")).to_have_text(re.compile(r"^₽150\.50 until "))
        expect(form).to_have_count(0)

        # BI-9 for a group: each personal account decided on its own; this one has an open promised payment.
        page.get_by_role("navigation").get_by_role("link", name="Finances").click()
        page.get_by_label("Account or company").select_option(group.node_id)
        group_form = page.get_by_role("form", name="Take promised payments")
        group_form.get_by_label("Amount, RUB").fill("50")
        group_form.get_by_role("button", name="Take promised payments").click()
        result = page.get_by_test_id("group-promised-result")
        expect(result).to_contain_text("Taken on 0 personal accounts, refused on 1.")
        expect(result.get_by_role("list", name="Refused")).to_have_text(
            re.compile("The account already has a promised payment. Repay it first.$")
        )
        assert axe_problems(page) == []

        # BI-1: the payments by amount (exact minor units) and by kind.
        page.goto(f"/finances/accounts/{group.personal_account_id}")
        filters = page.get_by_role("form", name="Filter the payments")
        payments = page.get_by_role("region", name="Payments")
        expect(payments.get_by_role("row")).to_have_count(4)
        filters.get_by_label("At least, in RUB").fill("100.01")
        filters.get_by_label("At most, in RUB").fill("250")
        filters.get_by_role("button", name="Show the payments").click()
        expect(payments.get_by_role("row")).to_have_count(2)
        expect(payments.get_by_role("row").nth(1)).to_contain_text("₽250.00")
        filters.get_by_label("At most, in RUB").fill("1")
        filters.get_by_role("button", name="Show the payments").click()
        expect(filters.get_by_role("alert")).to_have_text(
            "Check the marked filters: an amount, or the last day before the first."
        )
        expect(filters.get_by_label("At most, in RUB")).to_have_attribute("aria-invalid", "true")
        filters.get_by_label("At most, in RUB").fill("")
        filters.get_by_label("Kind").select_option("automatic")
        filters.get_by_role("button", name="Show the payments").click()
        expect(payments.get_by_text("No payments yet.")).to_be_visible()
        assert axe_problems(page) == []


def test_a_group_promised_payment_in_two_currencies(browser: Browser, platform: Platform) -> None:
    """BI-9 for a group whose personal accounts hold roubles and rials: Finances asks one amount per currency, and
    each account takes the amount of its own currency."""
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as api:
        group = make_group(
            platform, api, key="console-currencies", n=72, phone=CURRENCIES_PHONE, msisdns=CURRENCIES_LINES
        )
        add_rial_account(platform, api, group, number="4007200003")
    with console_page(browser, platform.gateway_url) as page:
        sign_in(page, CURRENCIES_PHONE, PASSWORD)
        page.get_by_role("navigation").get_by_role("link", name="Finances").click()
        page.get_by_label("Account or company").select_option(group.node_id)
        group_form = page.get_by_role("form", name="Take promised payments")
        expect(group_form.get_by_role("textbox")).to_have_count(2)
        expect(page.get_by_text("The accounts here hold several currencies")).to_be_visible()
        group_form.get_by_label("Amount, RUB").fill("150.50")
        group_form.get_by_label("Amount, IRR").fill("250000")
        assert axe_problems(page) == []
        group_form.get_by_role("button", name="Take promised payments").click()
        result = page.get_by_test_id("group-promised-result")
        expect(result).to_contain_text("Taken on 2 personal accounts, refused on 0.")
        taken = result.get_by_role("list", name="Taken").get_by_role("listitem")
        expect(taken).to_have_count(2)
        expect(result.get_by_role("list", name="Taken")).to_contain_text("₽150.50 until ")
        expect(result.get_by_role("list", name="Taken")).to_contain_text(re.compile(r"IRR\s250,000 until "))
        expect(group_form.get_by_label("Amount, IRR")).to_have_value("")
        assert axe_problems(page) == []
