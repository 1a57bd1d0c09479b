"""Rating against billing's copy of the lines and the catalogue: charged once, at the terms in force, or rejected."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from billing.ledger.models import LedgerAccount
from billing.ledger.service import NewAccount
from billing.lines.consumer import lines_changed_handler
from billing.rating.consumer import usage_handler
from billing.rating.models import USAGE
from billing.rating.service import BatchSummary, period_of
from simfleet.events.v1 import inventory_pb2 as inv
from simfleet.events.v1 import netsim_pb2 as nev
from simfleet.netsim.v1 import usage_pb2 as net
from simfleet_runtime.bus import Event
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import InventorySubjects, NetsimSubjects

from .conftest import Harness  # type: ignore[import-not-found]

ZONES = {"on_net": net.USAGE_ZONE_ON_NET, "national": net.USAGE_ZONE_NATIONAL, "": net.USAGE_ZONE_NONE}
ZONES["international"] = net.USAGE_ZONE_INTERNATIONAL


class Line:
    def __init__(self, harness: Harness, account: LedgerAccount, msisdn: str) -> None:
        self.harness = harness
        self.line_id = new_id()
        self.account = account
        self.msisdn = msisdn

    async def change(
        self,
        at: datetime,
        *,
        tariff: str = "BIZ-S",
        account: LedgerAccount | None = None,
        state: str = "active",
        msisdn: str = "",
    ) -> None:
        self.account = account or self.account
        self.msisdn = msisdn or self.msisdn
        await deliver_lines(
            self.harness,
            [
                inv.LineChanged(
                    line_id=self.line_id,
                    customer_id=self.account.customer_id,
                    msisdn=self.msisdn,
                    imsi="250990000000001",
                    node_id=self.account.personal_account_id,
                    personal_account_id=self.account.personal_account_id,
                    tariff_code=tariff,
                    state=state,
                    services=["voice", "sms", "data"],
                    occurred_at=timestamp(at),
                )
            ],
        )


async def deliver_lines(harness: Harness, changes: Iterable[inv.LineChanged]) -> None:
    handle = lines_changed_handler(harness.billing.runtime.clock)
    data = inv.LinesChanged(lines=list(changes)).SerializeToString()
    async with harness.db.transaction() as session:
        await handle(session, Event(new_id(), InventorySubjects.LINES_CHANGED, data, {}, "", 1))


def record(
    msisdn: str, kind: str, quantity: int, at: datetime, *, zone: str = "national", country: str = "", rid: str = ""
) -> net.UsageRecord:
    kinds = {"voice": net.USAGE_KIND_VOICE, "sms": net.USAGE_KIND_SMS, "data": net.USAGE_KIND_DATA}
    return net.UsageRecord(
        record_id=rid or f"r-{new_id()}",
        imsi="250990000000001",
        msisdn=msisdn,
        kind=kinds[kind],  # type: ignore[arg-type]
        started_at=timestamp(at),
        quantity=quantity,
        zone=ZONES["" if kind == "data" else zone],  # type: ignore[arg-type]
        roaming_country=country,
    )


async def rate(harness: Harness, records: Iterable[net.UsageRecord], batch_id: str = "") -> BatchSummary:
    await harness.billing.catalogue.reload()
    async with harness.db.transaction() as session:
        return await harness.billing.rater.rate(session, list(records), batch_id or new_id())


async def stored(harness: Harness) -> dict[str, dict[str, object]]:
    async with harness.db.sessions() as session:
        rows = await session.execute(sa.select(USAGE))
        return {row.record_id: dict(row._mapping) for row in rows}


async def setup(harness: Harness, method: str = "prepaid") -> tuple[Line, datetime]:
    await harness.billing.catalogue.seed()
    account = await harness.personal(method, credit_limit=0 if method == "prepaid" else 100_000)
    now = harness.billing.runtime.clock.now()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    line = Line(harness, account, "+79990000001")
    await line.change(start)
    return line, start


async def test_usage_is_charged_once_to_the_personal_account_and_credited_to_revenue(harness: Harness) -> None:
    line, start = await setup(harness)
    at = start + timedelta(minutes=5)
    calls = [record(line.msisdn, "voice", 60 * 200, at, rid=f"call-{i}") for i in range(2)]  # 400 min, 300 included
    international = record(line.msisdn, "voice", 30, at, zone="international", rid="intl-1")

    summary = await rate(harness, [*calls, international])
    assert (summary.rated, summary.rejected, summary.duplicate) == (3, 0, 0)
    expected = 100 * 250 + 4900  # 100 minutes over the allowance at 2.50, one international minute at 49.00
    assert summary.charged == {"RUB": expected}
    account = await harness.account(line.account.id)
    assert account.balance == -expected  # usage is taken below a prepaid account's floor
    revenue = await harness.billing.ledger.open_account(NewAccount(kind="revenue", currency="RUB"))
    assert revenue.balance == expected

    # The same records again, in another batch and in a batch of their own: nothing more is charged.
    again = await rate(harness, [*calls, international, calls[0]])
    assert (again.rated, again.duplicate) == (0, 4)
    assert (await harness.account(line.account.id)).balance == -expected
    rows = await stored(harness)
    assert len(rows) == 3
    assert {rows[f"call-{i}"]["included_units"] for i in range(2)} == {200, 100}
    # One entry charged the batch; a record that cost nothing names none.
    assert rows["intl-1"]["entry_id"] == rows["call-1"]["entry_id"] is not None
    assert (rows["call-0"]["charged"], rows["call-0"]["entry_id"]) == (0, None)


async def test_records_the_lines_do_not_explain_are_rejected_with_why_and_never_charged(harness: Harness) -> None:
    line, start = await setup(harness)
    at = start + timedelta(minutes=5)
    bad_id = record(line.msisdn, "sms", 1, at, rid="")
    bad_id.record_id = "has spaces"
    records = [
        record("+79990009999", "sms", 1, at, rid="stranger"),
        record(line.msisdn, "voice", 0, at, rid="zero"),
        record(line.msisdn, "sms", 1, start - timedelta(days=400), rid="before-the-line"),
        bad_id,
    ]
    summary = await rate(harness, records, batch_id="batch-bad")
    assert (summary.rated, summary.rejected) == (0, 4)
    rows = await stored(harness)
    reasons = {rid: row["reason"] for rid, row in rows.items()}
    assert reasons["stranger"] == "UNKNOWN_LINE"
    assert reasons["zero"] == "INVALID_QUANTITY"
    assert reasons["before-the-line"] == "UNKNOWN_LINE"
    (invalid,) = [rid for rid in reasons if rid.startswith("invalid:")]
    assert reasons[invalid] == "INVALID_RECORD_ID"
    assert all(row["outcome"] == "rejected" and row["charged"] == 0 for row in rows.values())
    assert (await harness.account(line.account.id)).balance == 0
    listed, token = await harness.billing.rater.rejected(page_size=3, page_token="")
    rest, last = await harness.billing.rater.rejected(page_size=3, page_token=token)
    assert token and not last and len(listed) + len(rest) == 4
    # The same batch again keeps the malformed record once, under the same id.
    assert (await rate(harness, records, batch_id="batch-bad")).duplicate == 4


async def test_a_tariff_change_from_a_date_prices_later_records_at_the_new_tariff(harness: Harness) -> None:
    line, start = await setup(harness)
    changed_at = start + timedelta(hours=10)
    await line.change(changed_at, tariff="BIZ-M")
    before = record(line.msisdn, "voice", 60, changed_at - timedelta(minutes=1), zone="on_net", rid="before")
    after = record(line.msisdn, "voice", 60, changed_at + timedelta(minutes=1), zone="on_net", rid="after")
    # Use up the allowance first so the per-minute prices show.
    await rate(harness, [record(line.msisdn, "voice", 300 * 60, start + timedelta(minutes=1), rid="fill")])
    await rate(harness, [after, before])  # arriving out of order changes nothing
    rows = await stored(harness)
    assert (rows["before"]["tariff_code"], rows["before"]["charged"]) == ("BIZ-S", 150)
    # BIZ-M has its own allowance, shared in the period with what was used: 300 of its 1000 minutes are gone.
    assert (rows["after"]["tariff_code"], rows["after"]["charged"], rows["after"]["included_units"]) == (
        "BIZ-M",
        0,
        1,
    )


async def test_a_record_is_charged_to_the_account_the_line_had_when_it_started(harness: Harness) -> None:
    line, start = await setup(harness)
    first = line.account
    second = await harness.personal()
    moved_at = start + timedelta(hours=2)
    await line.change(moved_at, account=second)
    roaming = record(line.msisdn, "data", 2 << 20, moved_at - timedelta(minutes=30), country="KZ", rid="old")
    later = record(line.msisdn, "data", 2 << 20, moved_at + timedelta(minutes=30), country="KZ", rid="new")
    summary = await rate(harness, [later, roaming])
    assert summary.charged == {"RUB": 2 * 2 * 9900}
    assert (await harness.account(first.id)).balance == -2 * 9900
    assert (await harness.account(second.id)).balance == -2 * 9900


async def test_a_terminated_line_makes_no_charge_and_its_number_may_serve_another(harness: Harness) -> None:
    line, start = await setup(harness)
    ended = start + timedelta(hours=1)
    await line.change(ended, state="terminated")
    successor = Line(harness, await harness.personal(), line.msisdn)
    await successor.change(ended + timedelta(hours=1))
    records = [
        record(line.msisdn, "sms", 1, ended + timedelta(minutes=30), zone="international", rid="gap"),
        record(line.msisdn, "sms", 1, ended + timedelta(hours=2), zone="international", rid="successor"),
    ]
    await rate(harness, records)
    rows = await stored(harness)
    assert rows["gap"]["reason"] == "LINE_TERMINATED"
    assert (rows["successor"]["line_id"], rows["successor"]["charged"]) == (successor.line_id, 900)
    assert (await harness.account(successor.account.id)).balance == -900


async def test_the_consumer_rates_a_batch_once_whatever_its_deliveries(harness: Harness) -> None:
    line, start = await setup(harness)
    await harness.billing.catalogue.reload()
    batch = nev.UsageRecords(
        records=[record(line.msisdn, "voice", 61, start + timedelta(minutes=m), zone="international") for m in range(3)]
    )
    handle = usage_handler(harness.billing.rater)
    event = Event("netsim-batch-1", NetsimSubjects.USAGE_RECORDED, batch.SerializeToString(), {}, "", 1)
    for _ in range(2):
        async with harness.db.transaction() as session:
            await handle(session, event)
    assert (await harness.account(line.account.id)).balance == -3 * 2 * 4900
    usage = await harness.billing.rater.line_usage(await harness.billing.rater.line(line.line_id), "RUB")
    assert usage.period == period_of(harness.billing.runtime.clock.now())
    voice = next(t for t in usage.totals if t.kind == "voice")
    assert (voice.records, voice.units, voice.charged) == (3, 6, 3 * 2 * 4900)
    assert len(usage.last_records) == 3
    assert usage.last_records[0].started_at >= usage.last_records[-1].started_at


async def test_batches_rated_together_are_charged_as_each_alone_would_be_and_once(harness: Harness) -> None:
    line, start = await setup(harness)
    at = start + timedelta(minutes=5)
    first = [record(line.msisdn, "voice", 60 * 200, at, rid="g-call-1"), record(line.msisdn, "sms", 1, at, rid="g-sms")]
    second = [
        record(line.msisdn, "voice", 60 * 200, at + timedelta(minutes=1), rid="g-call-2"),  # past the 300 minutes
        record(line.msisdn, "voice", 60, at, rid="g-call-1"),  # the same id again, in another batch: once
        net.UsageRecord(record_id="not an id!", msisdn=line.msisdn),
    ]
    before = (await harness.account(line.account.id)).balance
    await harness.billing.catalogue.reload()
    async with harness.db.transaction() as session:
        summary = await harness.billing.rater.rate_batches(session, [("batch-a", first), ("batch-b", second)])
    assert (summary.rated, summary.rejected, summary.duplicate) == (3, 1, 1)
    assert summary.charged == {"RUB": 100 * 250}  # 400 minutes, 300 included, 100 at 2.50 (the SMS is included)
    assert before - (await harness.account(line.account.id)).balance == 100 * 250
    rows = await stored(harness)
    invalid = [rid for rid in rows if rid.startswith("invalid:")]
    assert len(invalid) == 1 and rows[invalid[0]]["reason"] == "INVALID_RECORD_ID"
    # The bad record keeps the id it would have alone in its own batch: coming again alone, it is a duplicate.
    again = await rate(harness, second, "batch-b")
    assert (again.rated, again.rejected, again.duplicate) == (0, 0, 3)
    assert before - (await harness.account(line.account.id)).balance == 100 * 250
