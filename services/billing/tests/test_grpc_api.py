"""The gRPC services over a real channel: operator key and staff tokens, customers' tokens and scope, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing.lines.consumer import lines_changed_handler
from billing.main import Billing, build
from billing.models import NODE_PATHS
from simfleet.billing.v1 import admin_pb2, admin_pb2_grpc, ledger_pb2, ledger_pb2_grpc, usage_pb2, usage_pb2_grpc
from simfleet.events.v1 import inventory_pb2
from simfleet.netsim.v1 import usage_pb2 as usage_pb2_net
from simfleet_runtime.authz import PERMISSIONS, Grant, grants_claim
from simfleet_runtime.bus import Event
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import KeyRing, NatsServer, free_port
from simfleet_runtime.timestamps import timestamp

from .conftest import OPERATOR_KEY as KEY  # type: ignore[import-not-found]
from .conftest import settings_for  # type: ignore[import-not-found]

OPERATOR = ((OPERATOR_KEY, KEY),)
READER = frozenset({"billing:read"})
MANAGER = frozenset(PERMISSIONS)


class Running:
    def __init__(self, target: str, ring: KeyRing, billing: Billing) -> None:
        self.target = target
        self.ring = ring
        self.billing = billing
        self.customer_id = new_id()
        self.company = new_id()
        self.branch = new_id()
        self.personal = new_id()
        self.elsewhere = new_id()

    async def tree(self) -> None:
        """The customer's tree as billing's consumer of accounts' node events keeps it."""
        now = self.billing.runtime.clock.now()
        rows = [
            (self.company, f"/{self.company}/", "company"),
            (self.branch, f"/{self.company}/{self.branch}/", "business_account"),
            (self.personal, f"/{self.company}/{self.branch}/{self.personal}/", "personal_account"),
            (self.elsewhere, f"/{self.company}/{self.elsewhere}/", "personal_account"),
        ]
        async with self.billing.runtime.db.transaction() as session:
            for node_id, path, kind in rows:
                await session.execute(
                    sa.insert(NODE_PATHS).values(
                        node_id=node_id, customer_id=self.customer_id, path=path, kind=kind, updated_at=now
                    )
                )

    def operator(self, *perms: str) -> tuple[tuple[str, str], ...]:
        token = self.ring.token("k1", cid="", op={"role": "back_office", "perms": list(perms)})
        return (("authorization", f"Bearer {token}"),)

    def bearer(self, *grants: Grant, customer_id: str = "") -> tuple[tuple[str, str], ...]:
        token = self.ring.token("k1", cid=customer_id or self.customer_id, grants=grants_claim(grants))
        return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def running(tmp_path: Path, ring: KeyRing) -> AsyncIterator[Running]:
    with NatsServer(tmp_path / "nats") as server:
        settings = settings_for(
            f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}",
            nats_url=server.url,
            grpc_port=free_port(),
            metrics_port=0,
            outbox_poll_seconds=0.05,
            health_check_interval_seconds=0.1,
            shutdown_grace_seconds=2.0,
        )
        billing = build(settings, jwks=ring.fetch)
        await billing.runtime.start()
        try:
            yield Running(f"127.0.0.1:{billing.runtime.bound_port}", ring, billing)
        finally:
            await billing.runtime.shutdown()


async def failure(call: object) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call  # type: ignore[misc]
    details = read_error(failed.value)
    return details.code, details.reason, details.field_violations


def transfer(
    entry_id: str, debit: str, credit: str, amount: int, *, currency: str = "RUB", **extra: object
) -> admin_pb2.PostEntryRequest:
    return admin_pb2.PostEntryRequest(
        entry_id=entry_id,
        kind="payment",
        currency=currency,
        legs=[
            admin_pb2.EntryLeg(account_id=debit, side=admin_pb2.SIDE_DEBIT, amount=amount),
            admin_pb2.EntryLeg(account_id=credit, side=admin_pb2.SIDE_CREDIT, amount=amount),
        ],
        **extra,  # type: ignore[arg-type]
    )


async def test_the_ledger_over_grpc(running: Running) -> None:
    await running.tree()
    async with make_channel(running.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(100):  # SERVING once the database and NATS answer
            status = await health.Check(health_pb2.HealthCheckRequest(service="simfleet.billing.v1.LedgerService"))
            if status.status == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.05)
        assert status.status == health_pb2.HealthCheckResponse.SERVING

        admin = admin_pb2_grpc.BillingAdminServiceStub(channel)
        ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
        open_personal = admin_pb2.OpenAccountRequest(
            kind=ledger_pb2.ACCOUNT_KIND_PERSONAL,
            customer_id=running.customer_id,
            personal_account_id=running.personal,
            currency="RUB",
            settlement_method=ledger_pb2.SETTLEMENT_METHOD_POSTPAID,
            credit_limit=10_000,
            bill_email="accounting@demo.example",
        )
        assert (await failure(admin.OpenAccount(open_personal)))[:2] == (
            grpc.StatusCode.UNAUTHENTICATED,
            "TOKEN_MISSING",
        )
        assert (await failure(admin.OpenAccount(open_personal, metadata=running.operator("customers:read"))))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        assert (await failure(admin.OpenAccount(open_personal, metadata=running.bearer())))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "OPERATOR_ONLY",
        )
        personal = (await admin.OpenAccount(open_personal, metadata=running.operator("customers:onboard"))).account
        assert personal.floor.amount == -10_000 and personal.available.amount == 10_000
        assert (personal.balance.currency, personal.balance.exponent) == ("RUB", 2)
        clearing = (
            await admin.OpenAccount(
                admin_pb2.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_PAYMENTS_CLEARING, currency="RUB"),
                metadata=OPERATOR,
            )
        ).account
        assert not clearing.HasField("floor")
        revenue = (
            await admin.OpenAccount(
                admin_pb2.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_REVENUE, currency="RUB"), metadata=OPERATOR
            )
        ).account
        code, reason, fields = await failure(
            admin.OpenAccount(
                admin_pb2.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_REVENUE, currency="rub"), metadata=OPERATOR
            )
        )
        assert (code, reason, set(fields)) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_CURRENCY", {"currency"})

        # Money moves by the operator key only.
        assert (
            await failure(
                admin.PostEntry(
                    transfer("pay-1", clearing.id, personal.id, 5_000), metadata=running.operator("customers:onboard")
                )
            )
        )[:2] == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_KEY_REQUIRED")
        posted = await admin.PostEntry(transfer("pay-1", clearing.id, personal.id, 5_000), metadata=OPERATOR)
        assert posted.entry.state == admin_pb2.ENTRY_STATE_POSTED and not posted.replayed
        assert posted.entry.customer_id == running.customer_id
        assert (await admin.PostEntry(transfer("pay-1", clearing.id, personal.id, 5_000), metadata=OPERATOR)).replayed
        assert await failure(
            admin.PostEntry(transfer("pay-1", clearing.id, personal.id, 4_000), metadata=OPERATOR)
        ) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "IDEMPOTENCY_KEY_REUSED",
            {"entry_id": "used before with another body or on another endpoint"},
        )
        for bad, field in (
            (transfer("bad-1", clearing.id, personal.id, 0), "legs[0].amount"),
            (transfer("bad-2", clearing.id, personal.id, -3), "legs[0].amount"),
            (transfer("bad-3", clearing.id, new_id(), 3), "legs[1].account_id"),
            (transfer("bad-4", clearing.id, personal.id, 3, currency="XTS"), "currency"),
        ):
            code, _reason, fields = await failure(admin.PostEntry(bad, metadata=OPERATOR))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and field in fields
        unbalanced = transfer("bad-5", clearing.id, personal.id, 3)
        unbalanced.legs[1].amount = 2
        assert (await failure(admin.PostEntry(unbalanced, metadata=OPERATOR)))[1] == "UNBALANCED_ENTRY"

        held = await admin.PostEntry(
            transfer("usage-1", personal.id, revenue.id, 15_000, pending=True, pending_timeout_seconds=600),
            metadata=OPERATOR,
        )
        assert held.entry.state == admin_pb2.ENTRY_STATE_PENDING
        assert (await failure(admin.PostEntry(transfer("usage-2", personal.id, revenue.id, 1), metadata=OPERATOR)))[
            :2
        ] == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS")
        done = await admin.PostPendingEntry(admin_pb2.PostPendingEntryRequest(entry_id="usage-1"), metadata=OPERATOR)
        assert done.entry.state == admin_pb2.ENTRY_STATE_POSTED and done.entry.HasField("resolved_at")
        assert (
            await failure(
                admin.VoidPendingEntry(admin_pb2.VoidPendingEntryRequest(entry_id="usage-1"), metadata=OPERATOR)
            )
        )[1] == "ENTRY_POSTED"

        # The customer's side: scope and permissions.
        reader = running.bearer(Grant(running.branch, READER, "viewer"))
        balance = (
            await ledger.GetBalance(ledger_pb2.GetBalanceRequest(personal_account_id=running.personal), metadata=reader)
        ).account
        assert (balance.balance.amount, balance.available.amount) == (-10_000, 0)
        assert balance.settlement_method == ledger_pb2.SETTLEMENT_METHOD_POSTPAID
        page = await ledger.ListPostings(
            ledger_pb2.ListPostingsRequest(personal_account_id=running.personal, page_size=1), metadata=reader
        )
        assert [(p.entry_id, p.amount.amount, p.balance_after.amount) for p in page.postings] == [
            ("usage-1", -15_000, -10_000)
        ]
        rest = await ledger.ListPostings(
            ledger_pb2.ListPostingsRequest(
                personal_account_id=running.personal, page_size=1, page_token=page.next_page_token
            ),
            metadata=reader,
        )
        assert [p.sequence for p in rest.postings] == [1] and rest.next_page_token == ""
        for outside in (
            running.bearer(Grant(running.elsewhere, MANAGER, "manager")),
            running.bearer(Grant(running.branch, MANAGER, "manager"), customer_id=new_id()),
        ):
            assert (
                await failure(
                    ledger.GetBalance(
                        ledger_pb2.GetBalanceRequest(personal_account_id=running.personal), metadata=outside
                    )
                )
            )[:2] == (grpc.StatusCode.NOT_FOUND, "PERSONAL_ACCOUNT_NOT_FOUND")
        no_ledger = await failure(
            ledger.GetBalance(
                ledger_pb2.GetBalanceRequest(personal_account_id=running.elsewhere),
                metadata=running.bearer(Grant(running.company, READER, "viewer")),
            )
        )
        assert no_ledger[:2] == (grpc.StatusCode.NOT_FOUND, "PERSONAL_ACCOUNT_NOT_FOUND")
        delivery = ledger_pb2.SetBillDeliveryRequest(personal_account_id=running.personal, email="bills@demo.example")
        assert (await failure(ledger.SetBillDelivery(delivery, metadata=reader)))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        manager = running.bearer(Grant(running.company, MANAGER, "manager"))
        assert (await ledger.SetBillDelivery(delivery, metadata=manager)).account.bill_email == "bills@demo.example"
        assert (
            await failure(
                ledger.GetBalance(
                    ledger_pb2.GetBalanceRequest(personal_account_id=running.personal),
                    metadata=running.operator("customers:read"),
                )
            )
        )[1] == "OPERATOR_TOKEN"

        # Settlement: a change from a date, its history.
        changed = await admin.ChangeSettlementMethod(
            admin_pb2.ChangeSettlementMethodRequest(
                account_id=personal.id, method=ledger_pb2.SETTLEMENT_METHOD_PREPAID, note="pays ahead from now"
            ),
            metadata=running.operator("customers:onboard"),
        )
        assert changed.change.HasField("applied_at") and changed.account.floor.amount == 0
        assert changed.change.requested_by == "user-1"
        bad = await failure(
            admin.ChangeSettlementMethod(
                admin_pb2.ChangeSettlementMethodRequest(account_id=personal.id, credit_limit=-1), metadata=OPERATOR
            )
        )
        assert bad[0] == grpc.StatusCode.INVALID_ARGUMENT and {"method", "credit_limit"} <= set(bad[2])
        history = await admin.ListSettlementChanges(
            admin_pb2.ListSettlementChangesRequest(account_id=personal.id), metadata=running.operator("customers:read")
        )
        assert [c.method for c in history.changes] == [
            ledger_pb2.SETTLEMENT_METHOD_PREPAID,
            ledger_pb2.SETTLEMENT_METHOD_POSTPAID,
        ]
        got = await admin.GetAccount(admin_pb2.GetAccountRequest(account_id=revenue.id), metadata=OPERATOR)
        assert got.account.balance.amount == 15_000


async def test_a_customer_moves_money_between_its_personal_accounts_once(running: Running) -> None:
    """BI-11: billing:pay over both accounts, atomically, never below the source's floor, once per key."""
    await running.tree()
    async with make_channel(running.target) as channel:
        admin = admin_pb2_grpc.BillingAdminServiceStub(channel)
        ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
        staff = running.operator("customers:onboard")
        accounts = {}
        for node in (running.personal, running.elsewhere):
            accounts[node] = (
                await admin.OpenAccount(
                    admin_pb2.OpenAccountRequest(
                        kind=ledger_pb2.ACCOUNT_KIND_PERSONAL,
                        customer_id=running.customer_id,
                        personal_account_id=node,
                        currency="RUB",
                    ),
                    metadata=staff,
                )
            ).account
        clearing = (
            await admin.OpenAccount(
                admin_pb2.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_PAYMENTS_CLEARING, currency="RUB"),
                metadata=staff,
            )
        ).account
        await admin.PostEntry(transfer("pay-1", clearing.id, accounts[running.personal].id, 50_000), metadata=OPERATOR)

        payer = running.bearer(Grant(running.company, frozenset({"billing:pay", "billing:read"}), "profile_manager"))
        move = ledger_pb2.TransferRequest(
            from_personal_account_id=running.personal,
            to_personal_account_id=running.elsewhere,
            amount=20_000,
            currency="RUB",
            description="to the branch",
            idempotency_key="move-1",
        )
        done = await ledger.Transfer(move, metadata=payer)
        again = await ledger.Transfer(move, metadata=payer)
        assert (done.replayed, again.replayed, again.entry_id) == (False, True, done.entry_id)
        assert (done.from_account.balance.amount, done.to_account.balance.amount) == (30_000, 20_000)
        assert (done.amount.amount, done.description) == (20_000, "to the branch")

        # Another body under the key, too much money, the same account twice, bad amounts: refused, nothing moves.
        reused = ledger_pb2.TransferRequest()
        reused.CopyFrom(move)
        reused.amount = 1
        assert (await failure(ledger.Transfer(reused, metadata=payer)))[1:] == (
            "IDEMPOTENCY_KEY_REUSED",
            {"idempotency_key": "used before with another body or on another endpoint"},
        )
        too_much = ledger_pb2.TransferRequest()
        too_much.CopyFrom(move)
        too_much.amount, too_much.idempotency_key = 30_001, "move-2"
        assert (await failure(ledger.Transfer(too_much, metadata=payer)))[:2] == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "INSUFFICIENT_FUNDS",
        )
        same = ledger_pb2.TransferRequest(
            from_personal_account_id=running.personal, to_personal_account_id=running.personal, amount=1, currency="RUB"
        )
        assert (await failure(ledger.Transfer(same, metadata=payer)))[1] == "SAME_ACCOUNT"
        for amount, currency in ((0, "RUB"), (-5, "RUB"), (5, "USD")):
            bad = ledger_pb2.TransferRequest()
            bad.CopyFrom(move)
            bad.amount, bad.currency, bad.idempotency_key = amount, currency, ""
            code, _reason, fields = await failure(ledger.Transfer(bad, metadata=payer))
            assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) <= {
                "amount",
                "currency",
                "from_personal_account_id",
                "to_personal_account_id",
            }, fields
        balance = await ledger.GetBalance(
            ledger_pb2.GetBalanceRequest(personal_account_id=running.personal), metadata=payer
        )
        assert balance.account.balance.amount == 30_000

        # billing:read alone, a grant that reaches only one of the accounts, another customer: no transfer.
        reader = running.bearer(Grant(running.company, READER, "viewer"))
        assert (await failure(ledger.Transfer(move, metadata=reader)))[:2] == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PERMISSION_MISSING",
        )
        branch_only = running.bearer(Grant(running.branch, MANAGER, "profile_manager"))
        assert (await failure(ledger.Transfer(move, metadata=branch_only)))[0] == grpc.StatusCode.NOT_FOUND
        stranger = running.bearer(Grant(new_id(), MANAGER, "profile_manager"), customer_id=new_id())
        assert (await failure(ledger.Transfer(move, metadata=stranger)))[0] == grpc.StatusCode.NOT_FOUND


async def test_a_lines_usage_and_the_catalogue_over_grpc(running: Running) -> None:
    await running.tree()
    billing = running.billing
    await billing.catalogue.wait_loaded()
    now = billing.runtime.clock.now()
    async with make_channel(running.target) as channel:
        admin = admin_pb2_grpc.BillingAdminServiceStub(channel)
        usage = usage_pb2_grpc.UsageServiceStub(channel)
        await admin.OpenAccount(
            admin_pb2.OpenAccountRequest(
                kind=ledger_pb2.ACCOUNT_KIND_PERSONAL,
                customer_id=running.customer_id,
                personal_account_id=running.personal,
                currency="RUB",
            ),
            metadata=OPERATOR,
        )
        line_id = new_id()
        change = inventory_pb2.LineChanged(
            line_id=line_id,
            customer_id=running.customer_id,
            msisdn="+79990000042",
            node_id=running.personal,
            personal_account_id=running.personal,
            tariff_code="BIZ-S",
            state="active",
            occurred_at=timestamp(now - timedelta(hours=1)),
        )
        handle = lines_changed_handler(billing.runtime.clock)
        async with billing.runtime.db.transaction() as session:
            await handle(
                session,
                Event(
                    new_id(),
                    "simfleet.inventory.lines.changed",
                    inventory_pb2.LinesChanged(lines=[change]).SerializeToString(),
                    {},
                    "",
                    1,
                ),
            )
            records = [
                usage_pb2_net.UsageRecord(
                    record_id=f"g-{i}",
                    msisdn="+79990000042",
                    kind=usage_pb2_net.USAGE_KIND_SMS,
                    zone=usage_pb2_net.USAGE_ZONE_INTERNATIONAL,
                    quantity=1,
                    started_at=timestamp(now - timedelta(minutes=i)),
                )
                for i in range(20)
            ]
            records.append(
                usage_pb2_net.UsageRecord(
                    record_id="nobody",
                    msisdn="+79990000043",
                    kind=usage_pb2_net.USAGE_KIND_SMS,
                    zone=usage_pb2_net.USAGE_ZONE_ON_NET,
                    quantity=1,
                    started_at=timestamp(now),
                )
            )
            await billing.rater.rate(session, records, "batch-g")

        reader = running.bearer(Grant(running.branch, READER, "viewer"))
        got = await usage.GetLineUsage(usage_pb2.GetLineUsageRequest(line_id=line_id), metadata=reader)
        assert (got.msisdn, got.tariff_code, got.personal_account_id) == ("+79990000042", "BIZ-S", running.personal)
        assert got.account.balance.amount == -20 * 900 == -got.charged.amount
        sms = next(t for t in got.totals if t.kind == usage_pb2.USAGE_KIND_SMS)
        assert (sms.records, sms.units, sms.charged.amount) == (20, 20, 20 * 900)
        assert [r.record_id for r in got.last_records] == [f"g-{i}" for i in range(15)]
        by_number = await usage.GetLineUsage(usage_pb2.GetLineUsageRequest(msisdn="+79990000042"), metadata=reader)
        assert by_number == got
        for number in ("+79990000043", "79990000042", "+7 999", "+79990000042' or 1=1"):
            code, _, _ = await failure(
                usage.GetLineUsage(usage_pb2.GetLineUsageRequest(msisdn=number), metadata=reader)
            )
            assert code == grpc.StatusCode.NOT_FOUND
        allowance = next(a for a in got.allowances if a.kind == usage_pb2.USAGE_KIND_SMS)
        assert (allowance.included, allowance.used, allowance.remaining) == (100, 0, 100)

        for refused in (
            running.bearer(Grant(running.elsewhere, MANAGER, "manager")),
            running.bearer(Grant(running.branch, frozenset({"lines:read"}), "viewer")),
            running.bearer(Grant(running.branch, MANAGER, "manager"), customer_id=new_id()),
        ):
            code, reason, _ = await failure(
                usage.GetLineUsage(usage_pb2.GetLineUsageRequest(line_id=line_id), metadata=refused)
            )
            assert code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED), reason
        for forged in ("", "x" * 26, "../" + line_id, new_id()):
            code, _, _ = await failure(
                usage.GetLineUsage(usage_pb2.GetLineUsageRequest(line_id=forged), metadata=reader)
            )
            assert code == grpc.StatusCode.NOT_FOUND

        tariffs = await usage.ListTariffs(usage_pb2.ListTariffsRequest(), metadata=reader)
        assert {t.code for t in tariffs.tariffs} == {"BIZ-S", "BIZ-M", "BIZ-L", "IOT-S"}
        assert "europe" in {g.name for g in tariffs.roaming_groups}
        assert (await failure(usage.ListTariffs(usage_pb2.ListTariffsRequest())))[0] == grpc.StatusCode.UNAUTHENTICATED

        rejected = await admin.ListRejectedUsage(admin_pb2.ListRejectedUsageRequest(), metadata=OPERATOR)
        assert [(r.record_id, r.reason) for r in rejected.records] == [("nobody", "UNKNOWN_LINE")]
        assert (await failure(admin.ListRejectedUsage(admin_pb2.ListRejectedUsageRequest(), metadata=reader)))[0] == (
            grpc.StatusCode.PERMISSION_DENIED
        )
