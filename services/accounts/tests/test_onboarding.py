"""Onboarding a corporate customer (AC-1): validation, the tree it builds, identity's part, idempotency."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from accounts.customers.legal import LegalEntity, inn_problem, kpp_problem, ogrn_problem
from accounts.customers.models import Customer
from accounts.customers.service import AccountSpec, Manager
from accounts.hierarchy.models import Node
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from simfleet_subjects import AccountsSubjects

from .conftest import Harness  # type: ignore[import-not-found]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("7707083893", True),
        ("500100732259", True),
        ("7707083894", False),
        ("77070838", False),
        ("77070838\uff193", False),  # a full-width digit is a digit to str.isdigit, not to us
    ],
)
def test_tax_numbers_are_checked_by_their_check_digits(value: str, ok: bool) -> None:
    assert (inn_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1027700132195", True), ("304500116000157", True), ("1027700132196", False), ("10277001321", False)],
)
def test_registration_numbers_are_checked_by_their_check_digit(value: str, ok: bool) -> None:
    assert (ogrn_problem(value) is None) is ok


def test_reason_codes_have_their_shape() -> None:
    assert kpp_problem("773601001") is None
    assert kpp_problem("7736AB001") is None
    assert kpp_problem("77360100") is not None
    assert kpp_problem("7736ab001") is not None


async def test_onboarding_builds_the_billing_tree_and_asks_identity_for_the_manager(harness: Harness) -> None:
    done = await harness.onboard()
    customer = done.customer
    assert customer.status == "active"
    kinds = [n.kind for n in done.nodes]
    assert kinds == ["company", "general_account"] + ["business_account"] * 2 + ["personal_account"] * 4
    by_id = {n.id: n for n in done.nodes}
    company = done.nodes[0]
    assert customer.root_node_id == company.id and company.parent_id is None and company.path == f"/{company.id}/"
    for node in done.nodes[1:]:
        parent = by_id[node.parent_id or ""]
        assert node.path == f"{parent.path}{node.id}/" and node.depth == parent.depth + 1
    assert {by_id[n.parent_id or ""].kind for n in done.nodes if n.kind == "personal_account"} == {"business_account"}

    (created,) = harness.identity.created.values()
    assert created.customer_id == customer.id
    assert created.grants == [("profile_manager", company.id)]
    assert created.invite
    assert customer.profile_manager_user_id == harness.identity.ids[created.request_id]

    published = await harness.outbox()
    assert [s for s, _ in published] == [AccountsSubjects.NODE_CREATED] * 8 + [AccountsSubjects.CUSTOMER_ONBOARDED]
    snapshots = [ev.NodeCreated.FromString(p).node for s, p in published if s == AccountsSubjects.NODE_CREATED]
    assert [s.node_id for s in snapshots] == [n.id for n in done.nodes]  # parents before children
    assert snapshots[1].kind == "general_account" and snapshots[1].path == done.nodes[1].path
    onboarded = ev.CustomerOnboarded.FromString(published[-1][1])
    assert (onboarded.customer_id, onboarded.root_node_id) == (customer.id, company.id)


async def test_the_same_request_again_returns_the_same_customer(harness: Harness) -> None:
    request = harness.request()
    first = await harness.accounts.customers.onboard(request)
    again = await harness.accounts.customers.onboard(request)
    assert again.customer.id == first.customer.id
    assert [n.id for n in again.nodes] == [n.id for n in first.nodes]
    assert len(harness.identity.created) == 1
    assert len(await harness.outbox(AccountsSubjects.CUSTOMER_ONBOARDED)) == 1
    other = harness.request(request_id=request.request_id)  # another customer under a used key
    with pytest.raises(InvalidArgument) as reused:
        await harness.accounts.customers.onboard(other)
    assert (reused.value.reason, list(reused.value.field_violations)) == ("IDEMPOTENCY_KEY_REUSED", ["request_id"])
    # So is the same customer with anything else changed: the key answers only the request it was used for.
    renamed = replace(request, general_account=replace(request.general_account, name="Main account"))
    with pytest.raises(InvalidArgument) as changed:
        await harness.accounts.customers.onboard(renamed)
    assert changed.value.reason == "IDEMPOTENCY_KEY_REUSED"
    # The manager's password is no part of what is compared.
    with_password = replace(request, manager=replace(request.manager, password="Some-Passw0rd-2026"))
    assert (await harness.accounts.customers.onboard(with_password)).customer.id == first.customer.id


async def test_a_bad_request_names_every_problem_and_writes_nothing(harness: Harness) -> None:
    future = (date.today() + timedelta(days=3)).isoformat()
    request = harness.request(
        request_id="",
        legal=LegalEntity("", "7707083894", "1027700132195", "77360100"),
        contracts=(("bad number!", "2026-01-15"), ("SF-1", future), ("SF-2", "yesterday")),
        general_account=AccountSpec("General", "12ab", (AccountSpec("Child", "123456789"),)),
        manager=Manager("12345", "not-an-address", ""),
    )
    with pytest.raises(InvalidArgument) as refused:
        await harness.accounts.customers.onboard(request)
    assert set(refused.value.field_violations) >= {
        "request_id",
        "legal_entity.name",
        "legal_entity.tax_number",
        "contracts[0].number",
        "contracts[1].signed_on",
        "contracts[2].signed_on",
        "general_account.account_number",
        "general_account.children",
        "profile_manager.phone",
        "profile_manager.email",
        "profile_manager.display_name",
    }
    assert harness.identity.calls == 0
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    assert await harness.outbox() == []


async def test_an_organisation_and_an_entrepreneur_have_matching_numbers(harness: Harness) -> None:
    with pytest.raises(InvalidArgument) as mixed:
        await harness.onboard(legal=LegalEntity("Ivanov IE", "500100732259", "1027700132195", ""))
    assert "legal_entity.registration_number" in mixed.value.field_violations
    with pytest.raises(InvalidArgument) as kpp:
        await harness.onboard(legal=LegalEntity("Ivanov IE", "500100732259", "304500116000157", "773601001"))
    assert "legal_entity.tax_registration_reason_code" in kpp.value.field_violations
    done = await harness.onboard(legal=LegalEntity("Ivanov IE", "500100732259", "304500116000157", ""))
    assert done.customer.tax_registration_reason_code == ""


async def test_taken_numbers_are_refused(harness: Harness) -> None:
    first = await harness.onboard()
    with pytest.raises(AlreadyExists) as same_tax:
        await harness.onboard(legal=LegalEntity("Copy", first.customer.tax_number, "1027700132195", "773601001"))
    assert same_tax.value.reason == "CUSTOMER_EXISTS"
    used = first.nodes[1].account_number or ""
    with pytest.raises(AlreadyExists) as same_account:
        await harness.onboard(general_account=AccountSpec("General", used))
    assert same_account.value.reason == "ACCOUNT_NUMBER_TAKEN"


async def test_identity_refusing_the_manager_undoes_the_customer(harness: Harness) -> None:
    harness.identity.fail_with = AlreadyExists("a user with this phone number exists", reason="PHONE_TAKEN")
    request = harness.request()
    with pytest.raises(AlreadyExists) as refused:
        await harness.accounts.customers.onboard(request)
    assert refused.value.reason == "PHONE_TAKEN"
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
        assert await session.scalar(sa.select(sa.func.count()).select_from(Node)) == 0
    assert await harness.outbox() == []
    harness.identity.fail_with = None
    done = await harness.accounts.customers.onboard(request)  # the numbers are free again
    assert done.customer.status == "active"


async def test_identity_out_of_reach_leaves_it_pending_and_a_retry_finishes(harness: Harness) -> None:
    harness.identity.fail_with = Unavailable("identity cannot be reached now", reason="IDENTITY_UNAVAILABLE")
    request = harness.request()
    with pytest.raises(Unavailable):
        await harness.accounts.customers.onboard(request)
    async with harness.db.sessions() as session:
        pending = await session.scalar(sa.select(Customer))
    assert pending is not None and pending.status == "onboarding"
    assert await harness.outbox() == []  # nothing outside accounts knows of it
    with pytest.raises(NotFound):
        await harness.accounts.customers.get(pending.id)
    assert (await harness.accounts.customers.search())[0] == []

    harness.identity.fail_with = None
    done = await harness.accounts.customers.onboard(request)
    assert done.customer.id == pending.id and done.customer.status == "active"
    assert len(await harness.outbox(AccountsSubjects.NODE_CREATED)) == 8


async def test_accounts_are_added_under_the_right_parents(harness: Harness) -> None:
    done = await harness.onboard()
    general = done.nodes[1]
    business = done.nodes[2]
    customers = harness.accounts.customers
    added = await customers.create_account(
        customer_id=done.customer.id,
        parent_id=general.id,
        kind="business_account",
        name="Business 3",
        number=harness.account_number(),
    )
    assert added.parent_id == general.id and added.path == f"{general.path}{added.id}/"
    personal = await customers.create_account(
        customer_id=done.customer.id,
        parent_id=added.id,
        kind="personal_account",
        name="Personal 3.1",
        number=harness.account_number(),
    )
    assert personal.depth == 3
    with pytest.raises(FailedPrecondition) as wrong_parent:
        await customers.create_account(
            customer_id=done.customer.id,
            parent_id=business.id,
            kind="business_account",
            name="Nested",
            number=harness.account_number(),
        )
    assert wrong_parent.value.reason == "INVALID_PARENT"
    other = await harness.onboard()
    with pytest.raises(NotFound):
        await customers.create_account(
            customer_id=other.customer.id,
            parent_id=general.id,
            kind="business_account",
            name="Across customers",
            number=harness.account_number(),
        )


async def test_customers_page_by_name_and_search(harness: Harness) -> None:
    names = [f"Customer {i:02d}" for i in range(7)]
    made = []
    for name in names:
        legal = harness.request().legal
        made.append(
            await harness.onboard(legal=LegalEntity(name, legal.tax_number, legal.registration_number, "773601001"))
        )
    seen: list[str] = []
    token = ""
    while True:
        page, token = await harness.accounts.customers.search(page_size=3, page_token=token, order_by="name")
        seen.extend(c.name for c, _ in page)
        assert len(page) <= 3
        if not token:
            break
    assert seen == names
    newest, _ = await harness.accounts.customers.search(page_size=2)
    assert [c.id for c, _ in newest] == [m.customer.id for m in made[::-1][:2]]
    found, _ = await harness.accounts.customers.search(query="customer 03")
    assert [c.name for c, _ in found] == ["Customer 03"]
    with pytest.raises(InvalidArgument):
        await harness.accounts.customers.search(page_token="bm90IGEgdG9rZW4", order_by="name")
    _, by_date = await harness.accounts.customers.search(page_size=2)
    with pytest.raises(InvalidArgument):  # a token of one order cannot continue another
        await harness.accounts.customers.search(page_token=by_date, order_by="name")


async def test_a_customer_keeps_its_money_in_the_currency_chosen_at_onboarding(harness: Harness) -> None:
    done = await harness.accounts.customers.onboard(harness.request(currency="IRR", settlement_method="postpaid"))
    assert (done.customer.currency, done.customer.settlement_method) == ("IRR", "postpaid")
    published = await harness.outbox(AccountsSubjects.NODE_CREATED)
    created = [ev.NodeCreated.FromString(p) for _, p in published]
    personal = [c for c in created if c.node.kind == "personal_account"]
    assert len(personal) == 4
    assert {(c.currency, c.settlement_method) for c in personal} == {("IRR", "postpaid")}
    assert {c.currency for c in created if c.node.kind != "personal_account"} == {""}
    # A personal account added later is opened in it as well.
    business = next(n for n in done.nodes if n.kind == "business_account")
    await harness.accounts.customers.create_account(
        customer_id=done.customer.id,
        parent_id=business.id,
        kind="personal_account",
        name="Added later",
        number=harness.account_number(),
    )
    later = ev.NodeCreated.FromString((await harness.outbox(AccountsSubjects.NODE_CREATED))[-1][1])
    assert (later.node.name, later.currency, later.settlement_method) == ("Added later", "IRR", "postpaid")


async def test_without_a_choice_a_customer_is_rub_and_prepaid(harness: Harness) -> None:
    done = await harness.onboard()
    assert (done.customer.currency, done.customer.settlement_method) == ("RUB", "prepaid")
    published = await harness.outbox(AccountsSubjects.NODE_CREATED)
    personal = [ev.NodeCreated.FromString(p) for _, p in published]
    assert {(c.currency, c.settlement_method) for c in personal if c.node.kind == "personal_account"} == {
        ("RUB", "prepaid")
    }


@pytest.mark.parametrize(
    ("currency", "method", "fields"),
    [
        ("irr", "", {"currency"}),
        ("XYZ", "", {"currency"}),
        ("DEM", "", {"currency"}),  # withdrawn
        ("XAU", "", {"currency"}),  # gold is no tender
        ("RUBL", "", {"currency"}),
        ("RUB", "monthly", {"settlement_method"}),
    ],
)
async def test_an_unknown_currency_or_method_is_refused(
    harness: Harness, currency: str, method: str, fields: set[str]
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await harness.accounts.customers.onboard(harness.request(currency=currency, settlement_method=method))
    assert set(refused.value.field_violations) == fields
    assert harness.identity.calls == 0
