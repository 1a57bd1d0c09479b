"""CatalogueService over a real channel: options and fees, and which lines may take what, in the caller's scope."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import sqlalchemy as sa

from billing.catalogue.price_lists import option_fee_in
from billing.holds.models import HOLDS, LINE_HOLDS
from billing.ledger.service import NewAccount
from billing.lines.consumer import lines_changed_handler
from simfleet.billing.v1 import catalogue_pb2 as pb
from simfleet.billing.v1 import catalogue_pb2_grpc, usage_pb2, usage_pb2_grpc
from simfleet.events.v1 import inventory_pb2
from simfleet_runtime.authz import Grant
from simfleet_runtime.bus import Event
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp

from .test_grpc_api import OPERATOR, Running, failure, running  # type: ignore[import-not-found]  # noqa: F401

VOICE_LINE, IOT_LINE, DEBT_LINE, ELSEWHERE_LINE = "+79990000101", "+79990000102", "+79990000103", "+79990000104"
LIMITED_LINE = "+79990000105"


async def _lines(serving: Running) -> dict[str, str]:
    billing = serving.billing
    now = billing.runtime.clock.now()
    debt_account = new_id()
    ids = {number: new_id() for number in (VOICE_LINE, IOT_LINE, DEBT_LINE, ELSEWHERE_LINE, LIMITED_LINE)}
    specs = [
        (VOICE_LINE, serving.personal, serving.personal, "BIZ-S", ["voice", "sms", "data"]),
        (IOT_LINE, serving.personal, serving.personal, "IOT-S", ["sms", "data"]),
        (DEBT_LINE, serving.personal, debt_account, "BIZ-S", ["voice", "sms", "data"]),
        (ELSEWHERE_LINE, serving.elsewhere, serving.elsewhere, "BIZ-S", ["voice", "sms", "data"]),
        (LIMITED_LINE, serving.personal, serving.personal, "BIZ-S", ["voice", "sms", "data"]),
    ]
    changes = [
        inventory_pb2.LineChanged(
            line_id=ids[number],
            customer_id=serving.customer_id,
            msisdn=number,
            node_id=node,
            personal_account_id=account,
            tariff_code=tariff,
            services=services,
            state="active",
            occurred_at=timestamp(now - timedelta(hours=1)),
        )
        for number, node, account, tariff, services in specs
    ]
    async with billing.runtime.db.transaction() as session:
        await lines_changed_handler(billing.runtime.clock)(
            session,
            Event(
                new_id(),
                "simfleet.inventory.lines.changed",
                inventory_pb2.LinesChanged(lines=changes).SerializeToString(),
                {},
                "",
                1,
            ),
        )
        await session.execute(
            sa.insert(HOLDS).values(
                account_id=new_id(),
                hold_id=new_id(),
                customer_id=serving.customer_id,
                personal_account_id=debt_account,
                since=now,
            )
        )
        # A line held on its own (a spending limit reached), and one whose hold has no reasons left.
        await session.execute(
            sa.insert(LINE_HOLDS),
            [
                {
                    "line_id": ids[LIMITED_LINE],
                    "customer_id": serving.customer_id,
                    "msisdn": LIMITED_LINE,
                    "reasons": 1,
                    "changed_at": now,
                },
                {
                    "line_id": ids[VOICE_LINE],
                    "customer_id": serving.customer_id,
                    "msisdn": VOICE_LINE,
                    "reasons": 0,
                    "changed_at": now,
                },
            ],
        )
    return ids


async def test_which_lines_may_take_a_tariff_or_an_option(running: Running) -> None:  # noqa: F811
    await running.tree()
    ids = await _lines(running)
    await asyncio.wait_for(running.billing.catalogue.wait_loaded(), 10)
    reader = running.bearer(Grant(running.branch, frozenset({"lines:read"}), "custom"))
    changer = running.bearer(Grant(running.branch, frozenset({"tariffs:change"}), "custom"))
    billing_only = running.bearer(Grant(running.company, frozenset({"billing:read"}), "custom"))
    async with make_channel(running.target) as channel:
        catalogue = catalogue_pb2_grpc.CatalogueServiceStub(channel)

        to_iot = pb.CheckAvailabilityRequest(
            line_ids=[ids[VOICE_LINE], ids[IOT_LINE]], msisdns=[ELSEWHERE_LINE, "+79990009999"], tariff_code="IOT-S"
        )
        answer = await catalogue.CheckAvailability(to_iot, metadata=reader)
        got = [(a.line_id, a.msisdn, a.allowed, a.reason) for a in answer.lines]
        assert got == [
            (ids[VOICE_LINE], VOICE_LINE, False, "SERVICE_NOT_ALLOWED_ON_TARIFF"),
            (ids[IOT_LINE], IOT_LINE, True, ""),
            ("", ELSEWHERE_LINE, False, "LINE_NOT_FOUND"),  # outside the reader's branch
            ("", "+79990009999", False, "LINE_NOT_FOUND"),
        ]
        assert "voice" in answer.lines[0].message
        assert list(answer.lines[0].available_tariffs) == ["BIZ-L", "BIZ-M"]
        assert list(answer.lines[1].available_options) == ["roaming"]
        # Disconnecting voice in the same request lets the change through.
        with_disconnect = pb.CheckAvailabilityRequest(
            line_ids=[ids[VOICE_LINE]], tariff_code="IOT-S", disconnect=["voice"]
        )
        assert (await catalogue.CheckAvailability(with_disconnect, metadata=changer)).lines[0].allowed

        roaming = pb.CheckAvailabilityRequest(msisdns=[VOICE_LINE, DEBT_LINE, LIMITED_LINE], connect=["roaming"])
        answer = await catalogue.CheckAvailability(roaming, metadata=changer)
        assert [(a.allowed, a.reason) for a in answer.lines] == [
            (True, ""),
            (False, "FINANCIALLY_BLOCKED"),
            (False, "FINANCIALLY_BLOCKED"),
        ]

        # billing:read alone does not show lines.
        answer = await catalogue.CheckAvailability(roaming, metadata=billing_only)
        assert {a.reason for a in answer.lines} == {"LINE_NOT_FOUND"}

        for bad, reason in (
            (pb.CheckAvailabilityRequest(connect=["roaming"]), "NO_LINES"),
            (pb.CheckAvailabilityRequest(line_ids=[new_id()] * 1001), "TOO_MANY_LINES"),
            (pb.CheckAvailabilityRequest(line_ids=[ids[VOICE_LINE]], connect=["teleport"]), "UNKNOWN_SERVICE"),
            (
                pb.CheckAvailabilityRequest(line_ids=[ids[VOICE_LINE]], connect=["sms"], disconnect=["sms"]),
                "CONFLICTING_SERVICES",
            ),
        ):
            code, got_reason, _ = await failure(catalogue.CheckAvailability(bad, metadata=reader))
            assert (code, got_reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)

        code, _, _ = await failure(catalogue.CheckAvailability(to_iot))
        assert code == grpc.StatusCode.UNAUTHENTICATED

        # The operator key (inventory): the lines as given, for any customer.
        given = pb.CheckAvailabilityRequest(
            customer_id=running.customer_id,
            tariff_code="IOT-S",
            lines=[
                pb.LineFacts(line_id="a", tariff_code="BIZ-S", services=["voice", "sms"], state="active"),
                pb.LineFacts(line_id="b", tariff_code="BIZ-S", services=["sms"], state="active"),
                pb.LineFacts(line_id="c", tariff_code="BIZ-S", services=["sms"], state="terminated"),
            ],
        )
        answer = await catalogue.CheckAvailability(given, metadata=OPERATOR)
        assert [(a.line_id, a.allowed, a.reason) for a in answer.lines] == [
            ("a", False, "SERVICE_NOT_ALLOWED_ON_TARIFF"),
            ("b", True, ""),
            ("c", False, "LINE_TERMINATED"),
        ]
        code, reason, _ = await failure(
            catalogue.CheckAvailability(given, metadata=(("simfleet-operator-key", "wrong"),))
        )
        assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "OPERATOR_KEY_INVALID")

        options = await catalogue.ListOptions(pb.ListOptionsRequest(), metadata=reader)
        fees = {o.code: o.monthly_fee.amount for o in options.options}
        assert fees["voice"] == 0 and fees["international"] > 0 and fees["roaming"] > 0
        iot = next(t for t in options.tariffs if t.tariff_code == "IOT-S")
        assert "voice" not in iot.allowed and list(iot.included) == ["sms", "data"]

        tariffs = await usage_pb2_grpc.UsageServiceStub(channel).ListTariffs(
            usage_pb2.ListTariffsRequest(), metadata=reader
        )
        listed = {t.code: (list(t.allowed_options), list(t.included_options)) for t in tariffs.tariffs}
        assert listed["IOT-S"] == (["sms", "data", "roaming"], ["sms", "data"])


async def test_the_catalogue_answers_in_the_callers_customers_currency(running: Running) -> None:  # noqa: F811
    """A customer whose personal accounts hold rials reads the tariffs and options in IRR, priced exactly as rating
    and the monthly fees price its lines (the IRR price list); a customer with no account yet reads billing's
    default currency, RUB."""
    await running.tree()
    await running.billing.ledger.open_account(
        NewAccount(
            kind="personal",
            currency="IRR",
            customer_id=running.customer_id,
            personal_account_id=running.personal,
            settlement_method="prepaid",
        )
    )
    await asyncio.wait_for(running.billing.catalogue.wait_loaded(), 10)
    in_rials = running.bearer(Grant(running.branch, frozenset({"lines:read"}), "custom"))
    newcomer = running.bearer(Grant(new_id(), frozenset({"lines:read"}), "custom"), customer_id=new_id())
    now = running.billing.runtime.clock.now()
    book = running.billing.catalogue.book()
    async with make_channel(running.target) as channel:
        catalogue = catalogue_pb2_grpc.CatalogueServiceStub(channel)

        rials = await catalogue.GetPriceList(pb.GetPriceListRequest(), metadata=in_rials)
        assert rials.currency == "IRR" and rials.tariffs
        for listed in rials.tariffs:
            rated = book.at(listed.code, now, "IRR")  # what rating charges an IRR line by
            assert rated is not None and rated.currency == "IRR"
            assert (listed.monthly_fee.amount, listed.monthly_fee.currency, listed.monthly_fee.exponent) == (
                rated.monthly_fee,
                "IRR",
                0,
            )
            home = {(p.kind, p.zone): (p.price.amount, p.price.currency) for p in listed.home_prices}
            assert home == {
                (usage_pb2.UsageKind.Value(f"USAGE_KIND_{kind.upper()}"), zone): (price, "IRR")
                for kind, zones in rated.home.items()
                for zone, price in zones.items()
            }
            assert {p.price.currency for p in listed.roaming_prices} == {"IRR"}
        biz_s = next(t for t in rials.tariffs if t.code == "BIZ-S")
        roubles = await catalogue.GetPriceList(pb.GetPriceListRequest(), metadata=newcomer)
        assert roubles.currency == "RUB"
        biz_s_rub = next(t for t in roubles.tariffs if t.code == "BIZ-S")
        assert (biz_s_rub.monthly_fee.currency, biz_s_rub.monthly_fee.exponent) == ("RUB", 2)
        # 500 rials a rouble: a fee of N kopecks is 5 * N rials.
        assert biz_s.monthly_fee.amount == biz_s_rub.monthly_fee.amount * 5
        assert [g.name for g in rials.roaming_groups] == [g.name for g in roubles.roaming_groups]
        # UsageService.ListTariffs answers from the same price list.
        usage = usage_pb2_grpc.UsageServiceStub(channel)
        listed_in_rials = await usage.ListTariffs(usage_pb2.ListTariffsRequest(), metadata=in_rials)
        assert {t.code: t.monthly_fee.amount for t in listed_in_rials.tariffs} == {
            t.code: t.monthly_fee.amount for t in rials.tariffs
        }
        assert {t.monthly_fee.currency for t in listed_in_rials.tariffs} == {"IRR"}

        options = await catalogue.ListOptions(pb.ListOptionsRequest(), metadata=in_rials)
        assert options.currency == "IRR"
        fees = {o.code: (o.monthly_fee.amount, o.monthly_fee.currency) for o in options.options}
        # What a BIZ-S line (which does not include roaming) pays a month for it, as the fees charge it.
        assert fees["roaming"] == (option_fee_in("BIZ-S", "roaming", "IRR"), "IRR") == (24_500, "IRR")
        assert fees["international"] == (option_fee_in("BIZ-S", "international", "IRR"), "IRR")
        in_roubles = await catalogue.ListOptions(pb.ListOptionsRequest(), metadata=newcomer)
        assert in_roubles.currency == "RUB"
        assert {o.code: (o.monthly_fee.amount, o.monthly_fee.currency) for o in in_roubles.options}["roaming"] == (
            4_900,
            "RUB",
        )
