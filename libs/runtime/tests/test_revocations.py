"""Ended sessions and disabled users are refused by every service, from identity's events over real NATS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.auth import Principal
from simfleet_runtime.errors import Unauthenticated
from simfleet_runtime.revocations import GRANTS_REVISED, SESSION_REVOKED, USER_DISABLED, USER_ENABLED, Revocations
from simfleet_runtime.testing import NatsServer, eventually


def principal(user: str, session: str, grants_version: int | None = None) -> Principal:
    claims = {} if grants_version is None else {"gv": grants_version}
    return Principal(user, "customer", session, "token", 0.0, claims)


def refused(revocations: Revocations, who: Principal) -> bool:
    try:
        revocations.check(who)
    except Unauthenticated:
        return True
    return False


async def test_revocations_before_and_after_the_start_are_both_heard(tmp_path: Path) -> None:
    with NatsServer(tmp_path / "nats") as server:
        client = await nats.connect(server.url)
        js = client.jetstream()
        await js.add_stream(name="IDENTITY", subjects=["simfleet.identity.>"])
        # Revoked before the service started: replayed from one token lifetime back.
        await js.publish(SESSION_REVOKED, ev.SessionRevoked(session_id="s-old", user_id="u1").SerializeToString())
        await js.publish("simfleet.identity.sign_in.recorded", b"not for us")

        revocations = Revocations(token_lifetime_seconds=600)
        stop = asyncio.Event()
        follower = asyncio.create_task(revocations.follow(lambda: client, stop))
        try:
            await asyncio.wait_for(revocations.ready.wait(), 10)
            await eventually(lambda: _async(refused(revocations, principal("u1", "s-old"))), what="old revocation")
            assert not refused(revocations, principal("u1", "s-live"))

            await js.publish(USER_DISABLED, ev.UserDisabled(user_id="u2").SerializeToString())
            await eventually(lambda: _async(refused(revocations, principal("u2", "any"))), what="disabled user")
            with pytest.raises(Unauthenticated) as ended:
                revocations.check(principal("u2", "any"))
            assert ended.value.reason == "SESSION_ENDED"

            await js.publish(USER_ENABLED, ev.UserEnabled(user_id="u2").SerializeToString())
            await eventually(lambda: _async(not refused(revocations, principal("u2", "new"))), what="enabled user")

            # A grant of u3's changed: tokens issued before it (version 0, or none) stop counting.
            assert not refused(revocations, principal("u3", "s3", 0))
            revised = ev.GrantsRevised(user_id="u3", grants_version=1, cause="grant_removed")
            await js.publish(GRANTS_REVISED, revised.SerializeToString())
            await eventually(lambda: _async(refused(revocations, principal("u3", "s3", 0))), what="revised grants")
            with pytest.raises(Unauthenticated) as stale:
                revocations.check(principal("u3", "s3"))
            assert stale.value.reason == "GRANTS_CHANGED"
            assert not refused(revocations, principal("u3", "s3", 1))  # the refreshed token
            assert not refused(revocations, principal("u4", "s4", 0))  # nobody else
        finally:
            stop.set()
            await follower
            await client.close()


async def test_old_entries_are_forgotten_after_a_token_lifetime() -> None:
    revocations = Revocations(token_lifetime_seconds=0, margin_seconds=0)
    revocations.session_revoked("s")
    await asyncio.sleep(0.01)
    revocations.forget_old()
    assert not refused(revocations, principal("u", "s"))


def test_a_grants_version_never_goes_back() -> None:
    revocations = Revocations()
    revocations.grants_revised("u", 3)
    revocations.grants_revised("u", 2)  # an older event heard late
    assert refused(revocations, principal("u", "s", 2))
    assert not refused(revocations, principal("u", "s", 3))
    assert refused(revocations, principal("u", "s", True))  # type: ignore[arg-type]  # not a number


async def _async(value: bool) -> bool:
    return value
