"""Billing says first which lines may take a tariff or a service change (SIM-6, SIM-7, SIM-14)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from inventory.operations.availability import Ask, BillingAvailability
from inventory.operations.requests import NewOperation, Target
from simfleet.billing.v1 import catalogue_pb2 as pb
from simfleet.billing.v1 import catalogue_pb2_grpc
from simfleet_runtime.context import OPERATOR_KEY

from .conftest import Harness  # type: ignore[import-not-found]
from .test_operations import items_of  # type: ignore[import-not-found]

REFUSAL = ("SERVICE_NOT_ALLOWED_ON_TARIFF", "IOT-S does not allow voice, which the line has")


async def test_a_line_billing_refuses_fails_with_its_reason_and_the_others_change(harness: Harness) -> None:
    allowed = await harness.add_lines(2, services=("sms", "data"))
    [refused] = await harness.add_lines(1, services=("voice", "sms", "data"))
    harness.availability.refusing[refused] = REFUSAL
    ops, manager, lines = harness.inventory.operations, harness.manager(), harness.inventory.lines
    operation, _ = await ops.create(
        manager,
        NewOperation(
            "change_tariff", targets=[Target(n) for n in (*allowed, refused)], params={"tariff_code": "IOT-S"}
        ),
    )
    await harness.run()
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded, done.failed) == ("completed_with_errors", 2, 1)
    items = {i.msisdn: (i.state, i.code, i.reason) for i in await items_of(harness, operation.id)}
    assert items[refused] == ("failed", *REFUSAL)
    assert (await lines.line(manager, refused)).tariff_code == "BIZ-M"
    for number in allowed:
        assert items[number][0] == "succeeded"
        assert (await lines.line(manager, number)).tariff_code == "IOT-S"
    assert {ask for _, ask in harness.availability.asked} == {Ask(tariff_code="IOT-S")}


async def test_services_are_asked_about_with_what_is_connected_and_disconnected(harness: Harness) -> None:
    [plain, blocked_for_debt] = await harness.add_lines(2, services=("voice", "sms", "data"))
    harness.availability.refusing[blocked_for_debt] = ("FINANCIALLY_BLOCKED", "the line is blocked for debt")
    ops, manager = harness.inventory.operations, harness.manager()
    operation, _ = await ops.create(
        manager,
        NewOperation(
            "set_services",
            targets=[Target(plain), Target(blocked_for_debt)],
            params={"connect": "roaming", "disconnect": "data"},
        ),
    )
    await harness.run()
    items = {i.msisdn: (i.state, i.code) for i in await items_of(harness, operation.id)}
    assert items == {plain: ("succeeded", None), blocked_for_debt: ("failed", "FINANCIALLY_BLOCKED")}
    assert {ask for _, ask in harness.availability.asked} == {Ask(connect=("roaming",), disconnect=("data",))}


async def test_while_billing_is_away_the_items_wait_and_then_run(harness: Harness) -> None:
    numbers = await harness.add_lines(2)
    harness.availability.away = True
    ops, manager = harness.inventory.operations, harness.manager()
    operation, _ = await ops.create(
        manager, NewOperation("change_tariff", targets=[Target(n) for n in numbers], params={"tariff_code": "BIZ-L"})
    )
    await harness.run(rounds=5)
    waiting = await ops.get(manager, operation.id)
    assert (waiting.state, waiting.pending, waiting.failed) == ("running", 2, 0)
    assert {i.state for i in await items_of(harness, operation.id)} == {"pending"}

    harness.availability.away = False
    await harness.run()
    done = await ops.get(manager, operation.id)
    assert (done.state, done.succeeded) == ("completed", 2)


async def test_other_operations_do_not_ask_billing(harness: Harness) -> None:
    numbers = await harness.add_lines(1)
    harness.availability.away = True
    ops, manager = harness.inventory.operations, harness.manager()
    operation, _ = await ops.create(
        manager, NewOperation("block", targets=[Target(numbers[0])], params={"block_type": "voluntary"})
    )
    await harness.run()
    assert (await ops.get(manager, operation.id)).state == "completed"


class _Billing(catalogue_pb2_grpc.CatalogueServiceServicer):
    def __init__(self) -> None:
        self.requests: list[pb.CheckAvailabilityRequest] = []

    async def CheckAvailability(
        self, request: pb.CheckAvailabilityRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckAvailabilityResponse:
        if dict(context.invocation_metadata()).get(OPERATOR_KEY) != "the-key":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "no key")
        self.requests.append(request)
        return pb.CheckAvailabilityResponse(
            lines=[
                pb.LineAvailability(
                    line_id=line.line_id,
                    msisdn=line.msisdn,
                    allowed="voice" not in line.services,
                    reason="" if "voice" not in line.services else "SERVICE_NOT_ALLOWED_ON_TARIFF",
                )
                for line in request.lines
            ]
        )


@pytest.fixture
async def billing() -> AsyncIterator[tuple[_Billing, str]]:
    server = grpc.aio.server()
    servicer = _Billing()
    catalogue_pb2_grpc.add_CatalogueServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def test_the_billing_client_sends_the_lines_as_inventory_holds_them(
    harness: Harness, billing: tuple[_Billing, str]
) -> None:
    servicer, target = billing
    voice, plain = await harness.add_lines(2, services=("sms", "data"))
    async with harness.db.sessions() as session:
        from inventory.lines.models import Line
        from inventory.operations.records import LineRow, load

        rows = {line.msisdn: line for line in await load(session, LineRow, Line.msisdn.in_([voice, plain]))}
    rows[voice].services = ["voice", "sms"]
    channel = grpc.aio.insecure_channel(target)
    try:
        client = BillingAvailability(lambda: channel, operator_key="the-key", timeout=5)
        verdicts = await client.check(harness.tree.customer, list(rows.values()), Ask(tariff_code="IOT-S"))
    finally:
        await channel.close()
    assert verdicts[rows[voice].id].allowed is False
    assert verdicts[rows[voice].id].reason == "SERVICE_NOT_ALLOWED_ON_TARIFF"
    assert verdicts[rows[plain].id].allowed is True
    [request] = servicer.requests
    assert (request.customer_id, request.tariff_code) == (harness.tree.customer, "IOT-S")
    assert {line.msisdn: list(line.services) for line in request.lines} == {
        voice: ["sms", "voice"],
        plain: ["data", "sms"],
    }
