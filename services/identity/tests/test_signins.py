"""The sign-ins package's history: what an attempt records and announces, which addresses count as known, pages.

Throttling (signins/throttle.py) is test_throttle.py's; that the flows record each attempt is test_auth.py's
and test_sessions.py's. Here SignInHistory is driven directly, and ThrottlePolicy's arithmetic on its own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from identity.signins.models import BAD_CREDENTIALS, PASSWORD, SUCCEEDED
from identity.signins.throttle import ThrottlePolicy, client_key
from identity.users.models import User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import InvalidArgument
from simfleet_subjects import IdentitySubjects

from .conftest import CALL, CUSTOMER, PHONE, Harness

HOME = CallContext(client_address="198.51.100.7", user_agent="home")
ELSEWHERE = CallContext(client_address="203.0.113.9", user_agent="elsewhere")


def sign_ins(method: str, result: str) -> float:
    return REGISTRY.get_sample_value("simfleet_identity_sign_ins_total", {"method": method, "result": result}) or 0.0


async def record(
    h: Harness, user: User | None, *, result: str = SUCCEEDED, call: CallContext = HOME, phone: str = PHONE
) -> str:
    async with h.db.transaction() as session:
        attempt_id = await h.identity.history.record(
            session, phone=phone, user=user, method=PASSWORD, result=result, call=call
        )
    return attempt_id


async def known(h: Harness, client: str, since: timedelta = timedelta(days=30), phone: str = PHONE) -> bool:
    async with h.db.sessions() as session:
        return await h.identity.history.signed_in_from(session, phone=phone, client=client, since=since)


async def test_an_attempt_is_kept_counted_and_announced_under_its_own_id(harness: Harness, manager: User) -> None:
    before = sign_ins(PASSWORD, SUCCEEDED)
    attempt_id = await record(harness, manager)
    (row,), _ = await harness.identity.history.list_for_user(user_id=manager.id, page_size=10, page_token="")
    assert (row.id, row.user_id, row.customer_id, row.phone, row.method, row.result) == (
        attempt_id,
        manager.id,
        CUSTOMER,
        PHONE,
        PASSWORD,
        SUCCEEDED,
    )
    assert (row.client_address, row.user_agent) == ("198.51.100.7", "home")
    assert sign_ins(PASSWORD, SUCCEEDED) == before + 1
    (announced,) = [ev.SignInRecorded.FromString(p) for p in await harness.outbox(IdentitySubjects.SIGN_IN_RECORDED)]
    assert (announced.attempt_id, announced.user_id, announced.customer_id, announced.result) == (
        attempt_id,
        manager.id,
        CUSTOMER,
        SUCCEEDED,
    )
    assert (announced.client_address, announced.user_agent) == ("198.51.100.7", "home")


async def test_an_attempt_on_a_number_that_is_no_user_belongs_to_no_one(harness: Harness) -> None:
    await record(harness, None, result=BAD_CREDENTIALS, phone="+79995550000")
    (announced,) = [ev.SignInRecorded.FromString(p) for p in await harness.outbox(IdentitySubjects.SIGN_IN_RECORDED)]
    assert (announced.user_id, announced.customer_id, announced.result) == ("", "", BAD_CREDENTIALS)


async def test_only_a_recent_success_from_the_address_makes_it_known(harness: Harness, manager: User) -> None:
    await record(harness, manager, result=BAD_CREDENTIALS)
    assert not await known(harness, HOME.client_address)
    await record(harness, manager)
    assert await known(harness, HOME.client_address)
    assert not await known(harness, ELSEWHERE.client_address)
    assert not await known(harness, HOME.client_address, phone="+79990000002")  # another number's address
    harness.advance(3600)
    assert not await known(harness, HOME.client_address, since=timedelta(minutes=59))
    assert await known(harness, HOME.client_address, since=timedelta(minutes=61))


async def test_a_users_history_is_theirs_alone_newest_first(harness: Harness, manager: User) -> None:
    other = await harness.identity.users.create(
        customer_id=CUSTOMER, phone="+79990000002", email="other@demo.example", display_name="Other"
    )
    mine = []
    for result in (SUCCEEDED, BAD_CREDENTIALS, SUCCEEDED):
        mine.append(await record(harness, manager, result=result))
        harness.advance(1)
    await record(harness, other, phone=other.phone)
    rows, end = await harness.identity.history.list_for_user(user_id=manager.id, page_size=0, page_token="")
    assert [r.id for r in rows] == mine[::-1] and end == ""


async def test_pages_of_the_history_follow_on_and_a_bad_token_is_refused(harness: Harness, manager: User) -> None:
    for _ in range(3):
        await record(harness, manager, call=CALL)
        harness.advance(1)
    history = harness.identity.history
    first, token = await history.list_for_user(user_id=manager.id, page_size=2, page_token="")
    rest, end = await history.list_for_user(user_id=manager.id, page_size=2, page_token=token)
    assert len(first) == 2 and len(rest) == 1 and end == ""
    assert first[0].occurred_at > first[1].occurred_at > rest[0].occurred_at
    with pytest.raises(InvalidArgument) as foreign:
        await history.list_for_user(user_id=manager.id, page_size=2, page_token="not-a-token")
    assert foreign.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("size", [-1, 201])
async def test_a_page_size_out_of_range_is_refused(harness: Harness, manager: User, size: int) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await harness.identity.history.list_for_user(user_id=manager.id, page_size=size, page_token="")
    assert refused.value.reason == "INVALID_PAGE_SIZE"


POLICY = ThrottlePolicy(
    free_failures=5,
    backoff_base=timedelta(seconds=2),
    backoff_cap=timedelta(minutes=15),
    client_memory=timedelta(days=1),
    account_limit=100,
)


def test_the_first_failures_cost_no_wait_and_the_rest_double_up_to_the_cap() -> None:
    assert [POLICY.wait_after(n) for n in range(5)] == [None] * 5
    assert [POLICY.wait_after(n).total_seconds() for n in range(5, 10)] == [2, 4, 8, 16, 32]  # type: ignore[union-attr]
    assert POLICY.wait_after(14) == timedelta(minutes=15)
    assert POLICY.wait_after(10_000) == timedelta(minutes=15)  # no overflow however long it goes on


def test_a_client_without_an_address_is_throttled_as_one() -> None:
    assert client_key("") == "unknown"
    assert client_key("203.0.113.9") == "203.0.113.9"
