"""A personal account created in the hierarchy gets its ledger account from accounts' event, once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from billing.ledger.consumer import node_events_handler
from billing.ledger.models import LedgerAccount
from billing.models import NODE_PATHS
from billing.settings import BillingSettings
from simfleet.events.v1 import accounts_pb2 as ev
from simfleet_runtime import nodepaths
from simfleet_runtime.bus import Event
from simfleet_runtime.ids import new_id

from .conftest import Harness  # type: ignore[import-not-found]


def created(harness: Harness, node_id: str, kind: str, parent: str = "") -> Event:
    parent = parent or harness.company_id
    node = ev.NodeSnapshot(
        node_id=node_id,
        customer_id=harness.customer_id,
        parent_id=parent,
        kind=kind,
        name="x",
        path=f"/{harness.company_id}/{node_id}/",
    )
    data = ev.NodeCreated(node=node).SerializeToString()
    return Event(new_id(), nodepaths.CREATED, data, {}, harness.customer_id, 1)


async def deliver(harness: Harness, event: Event, **defaults: str) -> None:
    handle = node_events_handler(
        paths=harness.billing.paths,
        ledger=harness.billing.ledger,
        currency=defaults.get("currency", "RUB"),
        settlement_method=defaults.get("settlement_method", "prepaid"),
    )
    async with harness.db.transaction() as session:
        await handle(session, event)


async def ledger_accounts(harness: Harness) -> list[LedgerAccount]:
    async with harness.db.sessions() as session:
        return list((await session.scalars(sa.select(LedgerAccount).where(LedgerAccount.kind == "personal"))).all())


async def test_a_new_personal_account_gets_its_ledger_account_and_a_department_none(harness: Harness) -> None:
    account_node, department = new_id(), new_id()
    event = created(harness, account_node, "personal_account")

    await deliver(harness, created(harness, department, "department"))
    await deliver(harness, event)
    await deliver(harness, event)  # delivered again: still one account

    (account,) = await ledger_accounts(harness)
    assert (account.customer_id, account.personal_account_id) == (harness.customer_id, account_node)
    assert (account.currency, account.settlement_method, account.balance, account.floor) == ("RUB", "prepaid", 0, 0)
    async with harness.db.sessions() as session:
        kept = set((await session.scalars(sa.select(NODE_PATHS.c.node_id))).all())
    assert {account_node, department} <= kept  # the tree's copy is kept as before
    balance = await harness.billing.ledger.account(account.id)
    assert balance.id == account.id


async def test_the_currency_and_method_of_new_accounts_are_settings_checked_at_start(harness: Harness) -> None:
    await deliver(harness, created(harness, new_id(), "personal_account"), currency="IRR", settlement_method="postpaid")
    (account,) = await ledger_accounts(harness)
    assert (account.currency, account.settlement_method) == ("IRR", "postpaid")
    for bad in ({"default_currency": "XXX"}, {"default_currency": "rub"}, {"default_settlement_method": "free"}):
        with pytest.raises(ValidationError):
            BillingSettings(**bad)  # type: ignore[arg-type]


def created_with(harness: Harness, node_id: str, currency: str, method: str) -> Event:
    event = created(harness, node_id, "personal_account")
    message = ev.NodeCreated.FromString(event.data)
    message.currency, message.settlement_method = currency, method
    return Event(new_id(), nodepaths.CREATED, message.SerializeToString(), {}, harness.customer_id, 1)


async def test_an_account_opens_in_its_customers_currency_from_the_event(harness: Harness) -> None:
    rials, plain, odd = new_id(), new_id(), new_id()
    await deliver(harness, created_with(harness, rials, "IRR", "postpaid"))
    await deliver(harness, created(harness, plain, "personal_account"))  # from before customers chose: defaults
    await deliver(harness, created_with(harness, odd, "XAU", ""))  # not a currency the ledger keeps
    opened = {a.personal_account_id: a for a in await ledger_accounts(harness)}
    assert (opened[rials].currency, opened[rials].settlement_method) == ("IRR", "postpaid")
    assert (opened[plain].currency, opened[plain].settlement_method) == ("RUB", "prepaid")
    assert odd not in opened
    async with harness.db.sessions() as session:
        kept = set((await session.scalars(sa.select(NODE_PATHS.c.node_id))).all())
    assert {rials, plain, odd} <= kept  # the tree's copy is kept even so
