"""The HLR's provisioning rules, item by item, on each database backend (no NATS: the use case itself)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from netsim.hlr.faults import TIMEOUT_REASON, FaultInjector, Faults
from netsim.hlr.models import AppliedItem, Subscriber
from netsim.hlr.service import Answer, provision
from netsim.models import metadata
from simfleet.netsim.v1 import hlr_pb2
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.validation import luhn_ok

A = hlr_pb2.ProvisioningAction
F = hlr_pb2.ProvisioningFailure
IMSI = "250010000000001"
OTHER_IMSI = "250010000000002"
MSISDN = "+79990000101"
OTHER_MSISDN = "+79990000102"


def iccid(n: int) -> str:
    """A valid ICCID (19 digits, Luhn) numbered ``n``."""
    body = f"897010{n:012d}"
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def item(
    action: hlr_pb2.ProvisioningAction.ValueType,
    imsi: str = IMSI,
    *,
    item_id: str | None = None,
    msisdn: str = "",
    iccid_: str = "",
    **params: str,
) -> hlr_pb2.ProvisioningItem:
    return hlr_pb2.ProvisioningItem(
        item_id=item_id or new_id(), action=action, imsi=imsi, msisdn=msisdn, iccid=iccid_, params=params
    )


def register(
    imsi: str = IMSI, msisdn: str = MSISDN, sim: int = 1, *, state: str = "active", **params: str
) -> hlr_pb2.ProvisioningItem:
    return item(A.PROVISIONING_ACTION_REGISTER, imsi, msisdn=msisdn, iccid_=iccid(sim), state=state, **params)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, pool_size=2)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def apply(
    db: Database, *items: hlr_pb2.ProvisioningItem, faults: FaultInjector | None = None
) -> list[hlr_pb2.ItemResult]:
    return [a.result for a in await answers(db, *items, faults=faults)]


async def answers(db: Database, *items: hlr_pb2.ProvisioningItem, faults: FaultInjector | None = None) -> list[Answer]:
    command = hlr_pb2.ProvisionCommand(command_id=new_id(), items=items)
    async with db.transaction() as session:
        return await provision(session, command, faults=faults or FaultInjector(), clock=Clock())


async def subscriber(db: Database, imsi: str = IMSI) -> Subscriber | None:
    async with db.sessions() as session:
        return await session.get(Subscriber, imsi)


async def the_subscriber(db: Database, imsi: str = IMSI) -> Subscriber:
    found = await subscriber(db, imsi)
    assert found is not None, f"no subscriber {imsi}"
    return found


def failed(result: hlr_pb2.ItemResult, failure: hlr_pb2.ProvisioningFailure.ValueType, *words: str) -> None:
    assert not result.ok, result
    assert result.failure == failure, result
    for word in words:
        assert word in result.reason, result.reason


def ok(*results: hlr_pb2.ItemResult) -> None:
    for result in results:
        assert result.ok, result
        assert result.failure == F.PROVISIONING_FAILURE_UNSPECIFIED
        assert result.reason == ""
        assert result.applied_at.seconds > 0


async def test_register_sets_barring_by_state_and_refreshes_an_existing_subscriber(db: Database) -> None:
    ok(
        *await apply(
            db,
            register(IMSI, MSISDN, 1, state="active"),
            register(OTHER_IMSI, OTHER_MSISDN, 2, state="ready"),
            register("250010000000003", "+79990000103", 3, state="blocked", block_type="financial"),
            register("250010000000004", "", 4, state=""),  # no state: barred until activated; no number: data only
        )
    )
    active = await the_subscriber(db)
    assert (active.msisdn, active.iccid, active.barrings, active.apns, active.forwarding, active.version) == (
        MSISDN,
        iccid(1),
        [],
        [],
        {},
        0,
    )
    assert active.registered_at == active.updated_at
    assert (await the_subscriber(db, OTHER_IMSI)).barrings == ["not_activated"]
    assert (await the_subscriber(db, "250010000000003")).barrings == ["financial"]
    data_only = await the_subscriber(db, "250010000000004")
    assert (data_only.msisdn, data_only.barrings) == (None, ["not_activated"])

    # A refresh: new number and state; the APN profile stays.
    ok(*await apply(db, item(A.PROVISIONING_ACTION_ADD_APN, apn="internet")))
    ok(*await apply(db, register(IMSI, "+79990000109", 1, state="ready")))
    refreshed = await the_subscriber(db)
    assert (refreshed.msisdn, refreshed.barrings, refreshed.apns, refreshed.version) == (
        "+79990000109",
        ["not_activated"],
        ["internet"],
        2,
    )
    assert refreshed.registered_at == active.registered_at < refreshed.updated_at


async def test_register_refuses_a_number_or_sim_of_another_subscriber_and_bad_parameters(db: Database) -> None:
    ok(*await apply(db, register(IMSI, MSISDN, 1)))
    results = await apply(
        db,
        register(OTHER_IMSI, MSISDN, 2),
        register(OTHER_IMSI, OTHER_MSISDN, 1),
        register(OTHER_IMSI, OTHER_MSISDN, 2, state="sleeping"),
        register(OTHER_IMSI, OTHER_MSISDN, 2, state="blocked"),
        register(OTHER_IMSI, OTHER_MSISDN, 2, state="blocked", block_type="angry"),
        item(A.PROVISIONING_ACTION_REGISTER, OTHER_IMSI, msisdn=OTHER_MSISDN, iccid_="8970100000000000000"),
        item(A.PROVISIONING_ACTION_REGISTER, OTHER_IMSI, msisdn="12345", iccid_=iccid(2)),
        register("25001", OTHER_MSISDN, 2),
        item(A.PROVISIONING_ACTION_UNSPECIFIED, OTHER_IMSI),
        item(99, OTHER_IMSI),  # type: ignore[arg-type]
    )
    failed(results[0], F.PROVISIONING_FAILURE_NUMBER_IN_USE, f"the number {MSISDN} is in use")
    failed(results[1], F.PROVISIONING_FAILURE_SIM_IN_USE, iccid(1))
    failed(results[2], F.PROVISIONING_FAILURE_REJECTED, "unknown state 'sleeping'")
    failed(results[3], F.PROVISIONING_FAILURE_REJECTED, "unknown block type ''")
    failed(results[4], F.PROVISIONING_FAILURE_REJECTED, "unknown block type 'angry'", "lost_or_stolen")
    failed(results[5], F.PROVISIONING_FAILURE_REJECTED, "ICCID", "check digit")
    failed(results[6], F.PROVISIONING_FAILURE_REJECTED, "E.164")
    failed(results[7], F.PROVISIONING_FAILURE_REJECTED, "15 digits")
    failed(results[8], F.PROVISIONING_FAILURE_REJECTED, "unknown provisioning action")
    failed(results[9], F.PROVISIONING_FAILURE_REJECTED, "unknown provisioning action 99")
    assert await subscriber(db, OTHER_IMSI) is None
    assert (await the_subscriber(db)).version == 0


async def test_activate_bar_and_unbar(db: Database) -> None:
    ok(*await apply(db, register(state="ready")))
    ok(*await apply(db, item(A.PROVISIONING_ACTION_ACTIVATE)))
    assert (await the_subscriber(db)).barrings == []
    ok(
        *await apply(
            db,
            item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"),
            item(A.PROVISIONING_ACTION_BAR, block_type="lost_or_stolen"),
        )
    )
    assert (await the_subscriber(db)).barrings == ["voluntary", "lost_or_stolen"]
    refused = await apply(
        db,
        item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"),
        item(A.PROVISIONING_ACTION_BAR),
        item(A.PROVISIONING_ACTION_BAR, block_type="not_activated"),
        item(A.PROVISIONING_ACTION_UNBAR, block_type="financial"),
        item(A.PROVISIONING_ACTION_UNBAR, block_type="whatever"),
    )
    failed(refused[0], F.PROVISIONING_FAILURE_REJECTED, "already barred (voluntary)")
    failed(refused[1], F.PROVISIONING_FAILURE_REJECTED, "unknown block type ''")
    failed(refused[2], F.PROVISIONING_FAILURE_REJECTED, "unknown block type 'not_activated'")
    failed(refused[3], F.PROVISIONING_FAILURE_REJECTED, "no financial barring is in force")
    failed(refused[4], F.PROVISIONING_FAILURE_REJECTED, "unknown block type 'whatever'")
    ok(*await apply(db, item(A.PROVISIONING_ACTION_UNBAR, block_type="voluntary")))
    after = await the_subscriber(db)
    assert after.barrings == ["lost_or_stolen"]
    assert after.version == 4  # activate, two bars, one unbar: the refusals changed nothing
    ok(*await apply(db, item(A.PROVISIONING_ACTION_ACTIVATE)))
    assert (await the_subscriber(db)).barrings == []


async def test_swap_sim_moves_the_subscription_keeping_number_barring_apns_and_forwarding(db: Database) -> None:
    ok(
        *await apply(
            db,
            register(IMSI, MSISDN, 1, state="blocked", block_type="lost_or_stolen"),
            item(A.PROVISIONING_ACTION_ADD_APN, apn="corp.example.ru"),
            item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="busy", target="+79990000200"),
            register(OTHER_IMSI, OTHER_MSISDN, 2),
        )
    )
    refused = await apply(
        db,
        item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=iccid(2), new_imsi="250010000000009"),
        item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=iccid(3), new_imsi=OTHER_IMSI),
        item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=iccid(1)),
        item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid="89701"),
        item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=iccid(3), new_imsi="1234"),
        item(A.PROVISIONING_ACTION_SWAP_SIM, "250010000000008", new_iccid=iccid(3)),
    )
    failed(refused[0], F.PROVISIONING_FAILURE_SIM_IN_USE, f"the SIM {iccid(2)} is in use by another subscriber")
    failed(refused[1], F.PROVISIONING_FAILURE_SIM_IN_USE, f"the IMSI {OTHER_IMSI} is in use")
    failed(refused[2], F.PROVISIONING_FAILURE_REJECTED, "already uses the SIM")
    failed(refused[3], F.PROVISIONING_FAILURE_REJECTED, "new_iccid")
    failed(refused[4], F.PROVISIONING_FAILURE_REJECTED, "new_imsi")
    failed(refused[5], F.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER, "no subscriber has the IMSI 250010000000008")
    before = await the_subscriber(db)

    new_imsi = "250010000000009"
    ok(*await apply(db, item(A.PROVISIONING_ACTION_SWAP_SIM, new_iccid=iccid(3), new_imsi=new_imsi)))
    assert await subscriber(db, IMSI) is None
    moved = await the_subscriber(db, new_imsi)
    assert (moved.iccid, moved.msisdn, moved.barrings, moved.apns, moved.forwarding) == (
        iccid(3),
        MSISDN,
        ["lost_or_stolen"],
        ["corp.example.ru"],
        {"busy": "+79990000200"},
    )
    assert moved.version == before.version + 1
    assert moved.registered_at == before.registered_at
    # The old SIM is free again; a swap without a new IMSI keeps it.
    ok(*await apply(db, item(A.PROVISIONING_ACTION_SWAP_SIM, new_imsi, new_iccid=iccid(1))))
    assert (await the_subscriber(db, new_imsi)).iccid == iccid(1)


async def test_change_msisdn(db: Database) -> None:
    ok(*await apply(db, register(IMSI, MSISDN, 1), register(OTHER_IMSI, OTHER_MSISDN, 2)))
    refused = await apply(
        db,
        item(A.PROVISIONING_ACTION_CHANGE_MSISDN, new_msisdn=OTHER_MSISDN),
        item(A.PROVISIONING_ACTION_CHANGE_MSISDN, new_msisdn=MSISDN),
        item(A.PROVISIONING_ACTION_CHANGE_MSISDN),
    )
    failed(refused[0], F.PROVISIONING_FAILURE_NUMBER_IN_USE, f"the number {OTHER_MSISDN} is in use")
    failed(refused[1], F.PROVISIONING_FAILURE_REJECTED, "already has the number")
    failed(refused[2], F.PROVISIONING_FAILURE_REJECTED, "new_msisdn")
    ok(*await apply(db, item(A.PROVISIONING_ACTION_CHANGE_MSISDN, new_msisdn="+7 999 000-01-99")))
    changed = await the_subscriber(db)
    assert (changed.msisdn, changed.version) == ("+79990000199", 1)
    # The old number is free for another subscriber.
    ok(*await apply(db, item(A.PROVISIONING_ACTION_CHANGE_MSISDN, OTHER_IMSI, new_msisdn=MSISDN)))


async def test_apns_and_forwarding(db: Database) -> None:
    ok(*await apply(db, register()))
    ok(
        *await apply(
            db,
            item(A.PROVISIONING_ACTION_ADD_APN, apn="internet"),
            item(A.PROVISIONING_ACTION_ADD_APN, apn="Corp.Example.RU"),
            item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="busy", target="+79990000200"),
            item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="no_answer", target="+79990000201"),
            item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="busy", target="+79990000202"),
        )
    )
    profile = await the_subscriber(db)
    assert profile.apns == ["internet", "corp.example.ru"]
    assert profile.forwarding == {"busy": "+79990000202", "no_answer": "+79990000201"}
    refused = await apply(
        db,
        item(A.PROVISIONING_ACTION_ADD_APN, apn="internet"),
        item(A.PROVISIONING_ACTION_ADD_APN, apn="not an apn!"),
        item(A.PROVISIONING_ACTION_REMOVE_APN, apn="mms"),
        item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="sometimes", target="+79990000200"),
        item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="busy", target="+4915112345678"),
        item(A.PROVISIONING_ACTION_SET_FORWARDING, condition="busy", target="nobody"),
        item(A.PROVISIONING_ACTION_CLEAR_FORWARDING, condition="unreachable"),
        item(A.PROVISIONING_ACTION_CLEAR_FORWARDING),
    )
    failed(refused[0], F.PROVISIONING_FAILURE_REJECTED, "the APN internet is already")
    failed(refused[1], F.PROVISIONING_FAILURE_REJECTED, "APN", "labels")
    failed(refused[2], F.PROVISIONING_FAILURE_REJECTED, "the APN mms is not")
    failed(refused[3], F.PROVISIONING_FAILURE_REJECTED, "unknown forwarding condition 'sometimes'")
    failed(refused[4], F.PROVISIONING_FAILURE_REJECTED, "+7")
    failed(refused[5], F.PROVISIONING_FAILURE_REJECTED, "E.164")
    failed(refused[6], F.PROVISIONING_FAILURE_REJECTED, "no forwarding is set for unreachable")
    failed(refused[7], F.PROVISIONING_FAILURE_REJECTED, "unknown forwarding condition ''")
    ok(
        *await apply(
            db,
            item(A.PROVISIONING_ACTION_REMOVE_APN, apn="internet"),
            item(A.PROVISIONING_ACTION_CLEAR_FORWARDING, condition="busy"),
        )
    )
    after = await the_subscriber(db)
    assert (after.apns, after.forwarding, after.version) == (
        ["corp.example.ru"],
        {"no_answer": "+79990000201"},
        7,
    )


@pytest.mark.parametrize(
    "action",
    [a for a in A.values() if a not in (A.PROVISIONING_ACTION_UNSPECIFIED, A.PROVISIONING_ACTION_REGISTER)],
)
async def test_every_action_on_an_unknown_imsi_is_unknown_subscriber(
    db: Database, action: hlr_pb2.ProvisioningAction.ValueType
) -> None:
    (result,) = await apply(db, item(action, block_type="voluntary", apn="internet", condition="busy"))
    failed(result, F.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER, f"no subscriber has the IMSI {IMSI}")


async def test_deregister_removes_the_subscriber_and_frees_its_number_and_sim(db: Database) -> None:
    ok(*await apply(db, register()))
    ok(*await apply(db, item(A.PROVISIONING_ACTION_DEREGISTER)))
    assert await subscriber(db) is None
    (again,) = await apply(db, item(A.PROVISIONING_ACTION_DEREGISTER))
    failed(again, F.PROVISIONING_FAILURE_UNKNOWN_SUBSCRIBER)
    ok(*await apply(db, register(OTHER_IMSI, MSISDN, 1)))
    # And within one command: deregistered, then registered again from scratch.
    ok(*await apply(db, item(A.PROVISIONING_ACTION_DEREGISTER, OTHER_IMSI), register(OTHER_IMSI, MSISDN, 1)))
    assert (await the_subscriber(db, OTHER_IMSI)).version == 0


async def test_a_repeated_item_id_gets_its_first_answer_and_changes_nothing(db: Database) -> None:
    ok(*await apply(db, register()))
    bar = item(A.PROVISIONING_ACTION_BAR, item_id="item-bar-1", block_type="voluntary")
    first = await answers(db, bar)
    version = (await the_subscriber(db)).version
    # Again, later, in another command; and twice within one command.
    again = await answers(db, bar, item(A.PROVISIONING_ACTION_UNBAR, block_type="voluntary"), bar)
    assert [a.duplicate for a in first] == [False]
    assert [a.duplicate for a in again] == [True, False, True]
    assert again[0].result == first[0].result  # applied_at included: the stored answer, not a new one
    assert again[2].result == first[0].result
    assert again[0].action == "bar"
    after = await the_subscriber(db)
    assert after.barrings == [] and after.version == version + 1  # only the unbar applied

    # A failed item is answered the same way the second time.
    unknown = item(A.PROVISIONING_ACTION_ACTIVATE, OTHER_IMSI, item_id="item-unknown-1")
    (failed_once,) = await apply(db, unknown)
    ok(*await apply(db, register(OTHER_IMSI, OTHER_MSISDN, 2, state="ready")))
    (failed_twice,) = await apply(db, unknown)
    assert failed_twice == failed_once
    assert (await the_subscriber(db, OTHER_IMSI)).barrings == ["not_activated"]

    async with db.sessions() as session:
        record = await session.get(AppliedItem, "item-unknown-1")
        assert record is not None
        assert (record.imsi, record.action, record.ok, record.failure) == (
            OTHER_IMSI,
            "activate",
            False,
            "unknown_subscriber",
        )
        assert record.reason == failed_once.reason
        count = await session.scalar(sa.select(sa.func.count()).select_from(AppliedItem))
    assert count == 5  # two registers, bar, unbar, the unknown one


async def test_an_item_without_an_id_is_rejected_and_not_recorded(db: Database) -> None:
    ok(*await apply(db, register()))
    results = await apply(db, item(A.PROVISIONING_ACTION_BAR, item_id=" ", block_type="voluntary"))
    failed(results[0], F.PROVISIONING_FAILURE_REJECTED, "no item_id")
    results = await apply(db, item(A.PROVISIONING_ACTION_BAR, item_id="x" * 101, block_type="voluntary"))
    failed(results[0], F.PROVISIONING_FAILURE_REJECTED, "no item_id")
    assert (await the_subscriber(db)).barrings == []
    async with db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(AppliedItem)) == 1


async def test_faults_fail_exactly_the_failing_numbers_or_every_item_at_rate_one(db: Database) -> None:
    faults = FaultInjector(Faults(failing_msisdns=(OTHER_MSISDN,)))
    results = await apply(db, register(IMSI, MSISDN, 1), register(OTHER_IMSI, OTHER_MSISDN, 2), faults=faults)
    ok(results[0])
    failed(results[1], F.PROVISIONING_FAILURE_SYSTEM_FAILURE, OTHER_MSISDN)
    assert await subscriber(db, OTHER_IMSI) is None
    # A number that fails makes every item of its subscriber fail, whatever the item names.
    faults.set(Faults(failing_msisdns=(MSISDN,)))
    (bar,) = await apply(db, item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"), faults=faults)
    failed(bar, F.PROVISIONING_FAILURE_SYSTEM_FAILURE, MSISDN)

    faults.set(Faults(failure_rate=1.0))
    results = await apply(
        db,
        item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"),
        item(A.PROVISIONING_ACTION_ADD_APN, apn="internet"),
        faults=faults,
    )
    for result in results:
        failed(result, F.PROVISIONING_FAILURE_SYSTEM_FAILURE)
        assert result.reason == TIMEOUT_REASON
    assert (await the_subscriber(db)).version == 0

    faults.set(Faults())
    ok(*await apply(db, item(A.PROVISIONING_ACTION_BAR, block_type="voluntary"), faults=faults))


async def test_a_seeded_failure_rate_repeats_and_fails_about_its_share(db: Database) -> None:
    ok(*await apply(db, register()))

    async def pattern(seed: int) -> list[bool]:
        faults = FaultInjector(Faults(failure_rate=0.5), seed=seed)
        # BAR then UNBAR, over and over: each applied one succeeds, each failed one changes nothing.
        results = []
        for n in range(20):
            action = A.PROVISIONING_ACTION_BAR if n % 2 == 0 else A.PROVISIONING_ACTION_UNBAR
            (result,) = await apply(db, item(action, block_type="scheduled"), faults=faults)
            if not result.ok and result.failure == F.PROVISIONING_FAILURE_SYSTEM_FAILURE:
                results.append(False)
            else:
                results.append(True)
        await _clear(db)
        return results

    first = await pattern(7)
    assert first == await pattern(7)
    assert 3 <= first.count(False) <= 17


async def _clear(db: Database) -> None:
    async with db.transaction() as session:
        subscriber = await session.get(Subscriber, IMSI)
        assert subscriber is not None
        subscriber.barrings = []


async def test_register_gives_services_and_set_services_replaces_them_once(db: Database) -> None:
    ok(
        *await apply(
            db,
            register(IMSI, MSISDN, 1),  # none given: the default ones
            register(OTHER_IMSI, OTHER_MSISDN, 2, services="data, voice,roaming,data"),
            register("250010000000003", "+79990000103", 3, services=""),  # given empty: none
        )
    )
    assert (await the_subscriber(db)).services is None
    assert (await the_subscriber(db, OTHER_IMSI)).services == ["voice", "data", "roaming"]
    assert (await the_subscriber(db, "250010000000003")).services == []

    once = item(A.PROVISIONING_ACTION_SET_SERVICES, services="voice,sms,data,international")
    first, again = await answers(db, once, once)
    ok(first.result)
    assert again.duplicate and again.result == first.result
    changed = await the_subscriber(db)
    assert (changed.services, changed.version) == (["voice", "sms", "data", "international"], 1)

    # A refresh without services keeps them; with them, replaces them.
    ok(*await apply(db, register(IMSI, MSISDN, 1), register(OTHER_IMSI, OTHER_MSISDN, 2, services="sms")))
    assert (await the_subscriber(db)).services == ["voice", "sms", "data", "international"]
    assert (await the_subscriber(db, OTHER_IMSI)).services == ["sms"]


async def test_unknown_or_missing_services_fail_the_item_and_change_nothing(db: Database) -> None:
    ok(*await apply(db, register(IMSI, MSISDN, 1, services="voice")))
    unknown, missing, on_register = await apply(
        db,
        item(A.PROVISIONING_ACTION_SET_SERVICES, services="voice,5g,fax"),
        item(A.PROVISIONING_ACTION_SET_SERVICES),
        register(OTHER_IMSI, OTHER_MSISDN, 2, services="telepathy"),
    )
    failed(unknown, F.PROVISIONING_FAILURE_REJECTED, "unknown service", "'5g'", "'fax'", "roaming")
    failed(missing, F.PROVISIONING_FAILURE_REJECTED, 'params["services"]')
    failed(on_register, F.PROVISIONING_FAILURE_REJECTED, "unknown service", "'telepathy'")
    kept = await the_subscriber(db)
    assert (kept.services, kept.version) == (["voice"], 0)
    assert await subscriber(db, OTHER_IMSI) is None
