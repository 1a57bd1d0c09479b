"""GetStatement and GetNodeFinances over a real channel: the caller's scope, the period's checks."""

from __future__ import annotations

import grpc

from billing.ledger.models import PAYMENTS_CLEARING, REVENUE
from billing.ledger.service import CREDIT, DEBIT, Leg, NewAccount, NewEntry
from simfleet.billing.v1 import ledger_pb2, ledger_pb2_grpc
from simfleet_runtime.authz import Grant
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id

from .test_grpc_api import READER, Running, failure, running  # type: ignore[import-not-found]  # noqa: F401


async def test_statements_and_a_nodes_finances_over_grpc(running: Running) -> None:  # noqa: F811
    await running.tree()
    ledger = running.billing.ledger
    revenue = await ledger.open_account(NewAccount(kind=REVENUE, currency="RUB"))
    clearing = await ledger.open_account(NewAccount(kind=PAYMENTS_CLEARING, currency="RUB"))
    accounts = {}
    for node in (running.personal, running.elsewhere):
        accounts[node] = await ledger.open_account(
            NewAccount(
                kind="personal",
                currency="RUB",
                customer_id=running.customer_id,
                personal_account_id=node,
                settlement_method="prepaid",
            )
        )
    for entry_id, debit, credit, amount in (
        ("payment:1", clearing.id, accounts[running.personal].id, 10_000),
        ("usage:1", accounts[running.personal].id, revenue.id, 2_500),
        ("payment:2", clearing.id, accounts[running.elsewhere].id, 100),
    ):
        kind = entry_id.split(":")[0]
        await ledger.post(
            NewEntry(
                id=entry_id, kind=kind, currency="RUB", legs=(Leg(debit, DEBIT, amount), Leg(credit, CREDIT, amount))
            )
        )
    reader = running.bearer(Grant(running.branch, READER, "viewer"))
    async with make_channel(running.target) as channel:
        stub = ledger_pb2_grpc.LedgerServiceStub(channel)
        answer = await stub.GetStatement(
            ledger_pb2.GetStatementRequest(personal_account_id=running.personal), metadata=reader
        )
        figures = answer.figures
        assert answer.open and len(answer.period) == 7
        assert (figures.opening_balance.amount, figures.payments.amount, figures.charges.amount) == (0, 10_000, 2_500)
        assert (figures.closing_balance.amount, figures.closing_balance.exponent) == (7_500, 2)

        # The branch's finances hold only the account under it; the company's both, for a reader of the company.
        branch = await stub.GetNodeFinances(ledger_pb2.GetNodeFinancesRequest(node_id=running.branch), metadata=reader)
        assert [(t.currency, t.personal_accounts, t.closing_balance.amount) for t in branch.totals] == [
            ("RUB", 1, 7_500)
        ]
        company = await stub.GetNodeFinances(
            ledger_pb2.GetNodeFinancesRequest(node_id=running.company),
            metadata=running.bearer(Grant(running.company, READER, "viewer")),
        )
        assert [(t.personal_accounts, t.closing_balance.amount) for t in company.totals] == [(2, 7_600)]

        # Outside the reader's scope, unknown, or another customer's: NOT_FOUND; a bad period: INVALID_ARGUMENT.
        for call in (
            stub.GetStatement(ledger_pb2.GetStatementRequest(personal_account_id=running.elsewhere), metadata=reader),
            stub.GetNodeFinances(ledger_pb2.GetNodeFinancesRequest(node_id=running.company), metadata=reader),
            stub.GetNodeFinances(ledger_pb2.GetNodeFinancesRequest(node_id=new_id()), metadata=reader),
            stub.GetNodeFinances(
                ledger_pb2.GetNodeFinancesRequest(node_id=running.branch),
                metadata=running.bearer(Grant(running.branch, READER, "viewer"), customer_id=new_id()),
            ),
        ):
            assert (await failure(call))[0] == grpc.StatusCode.NOT_FOUND
        code, reason, fields = await failure(
            stub.GetStatement(
                ledger_pb2.GetStatementRequest(personal_account_id=running.personal, period="2026-13"), metadata=reader
            )
        )
        assert (code, reason, list(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PERIOD", ["period"])
        # Without billing:read: no figures.
        blind = running.bearer(Grant(running.company, frozenset({"lines:read"}), "viewer"))
        code, _, _ = await failure(
            stub.GetNodeFinances(ledger_pb2.GetNodeFinancesRequest(node_id=running.company), metadata=blind)
        )
        assert code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
