"""Token and session rules (ID-7): signed access tokens, rotating refresh tokens, idle and absolute limits."""

from __future__ import annotations

import asyncio

import jwt
import pytest

from identity.sessions.models import Session
from identity.sessions.service import ACTIVITY_RESOLUTION, Tokens
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import Unauthenticated
from simfleet_subjects import IdentitySubjects

from .conftest import CALL, CUSTOMER, PASSWORD, PHONE, Harness

pytestmark = pytest.mark.usefixtures("manager")


async def sign_in(h: Harness) -> Tokens:
    return await h.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)


def bearer(tokens: Tokens) -> CallContext:
    return CallContext(bearer_token=tokens.access_token, client_address="198.51.100.7")


async def test_access_token_is_an_eddsa_jwt_with_the_checked_claims(harness: Harness) -> None:
    tokens = await sign_in(harness)
    header = jwt.get_unverified_header(tokens.access_token)
    assert header["alg"] == "EdDSA"
    jwks = await harness.identity.keys.jwks()
    assert header["kid"] in {k["kid"] for k in jwks}
    key = jwt.PyJWK(next(k for k in jwks if k["kid"] == header["kid"]))
    claims = jwt.decode(tokens.access_token, key, algorithms=["EdDSA"], audience="simfleet", issuer="simfleet-identity")
    assert claims["cid"] == CUSTOMER
    assert claims["sid"] == tokens.session_id
    assert claims["exp"] - claims["iat"] == 600 == tokens.expires_in
    principal, _ = await harness.identity.sessions.authenticate(bearer(tokens))
    assert principal.customer_id == CUSTOMER


async def test_tampered_or_foreign_tokens_are_refused(harness: Harness) -> None:
    tokens = await sign_in(harness)
    head, body, sig = tokens.access_token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    none_alg = jwt.encode(
        jwt.decode(tokens.access_token, options={"verify_signature": False}), key=None, algorithm="none"
    )
    for token in (forged, none_alg, "not-a-token", ""):
        with pytest.raises(Unauthenticated):
            await harness.identity.sessions.authenticate(CallContext(bearer_token=token))


async def test_access_token_expires_after_ten_minutes(harness: Harness) -> None:
    tokens = await sign_in(harness)
    harness.advance(606)
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sessions.authenticate(bearer(tokens))
    assert err.value.reason == "TOKEN_EXPIRED"


async def test_refresh_rotates_and_reuse_revokes_the_session(harness: Harness) -> None:
    first = await sign_in(harness)
    second = await harness.identity.sessions.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.session_id == first.session_id
    harness.advance(11)  # past the reuse grace
    with pytest.raises(Unauthenticated) as reused:
        await harness.identity.sessions.refresh(first.refresh_token)
    assert reused.value.reason == "REFRESH_TOKEN_REUSED"
    with pytest.raises(Unauthenticated) as revoked:
        await harness.identity.sessions.refresh(second.refresh_token)
    assert revoked.value.reason == "SESSION_ENDED"
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.authenticate(bearer(second))


async def test_two_tabs_refreshing_at_once_share_one_successor(harness: Harness) -> None:
    """The same refresh token twice within seconds: the same new refresh token, the session lives on."""
    first = await sign_in(harness)
    tab_a = await harness.identity.sessions.refresh(first.refresh_token)
    tab_b = await harness.identity.sessions.refresh(first.refresh_token)
    assert tab_b.refresh_token == tab_a.refresh_token and tab_b.session_id == tab_a.session_id
    await harness.identity.sessions.authenticate(bearer(tab_b))
    # Both tabs go on with the one successor: it is spent once, and then the chain moves on.
    third = await harness.identity.sessions.refresh(tab_a.refresh_token)
    assert third.refresh_token not in (first.refresh_token, tab_a.refresh_token)
    # The first token again, its successor spent: a leak, and the session ends.
    with pytest.raises(Unauthenticated) as reused:
        await harness.identity.sessions.refresh(first.refresh_token)
    assert reused.value.reason == "REFRESH_TOKEN_REUSED"
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(third.refresh_token)


async def test_a_concurrent_refresh_is_answered_not_revoked(harness: Harness) -> None:
    first = await sign_in(harness)
    answers = await asyncio.gather(
        *(harness.identity.sessions.refresh(first.refresh_token) for _ in range(3)), return_exceptions=True
    )
    assert all(not isinstance(a, BaseException) for a in answers), answers
    assert len({a.refresh_token for a in answers if not isinstance(a, BaseException)}) == 1


async def test_twenty_idle_minutes_end_the_session(harness: Harness) -> None:
    tokens = await sign_in(harness)
    harness.advance(19 * 60)
    tokens = await harness.identity.sessions.refresh(tokens.refresh_token)  # activity keeps it alive
    harness.advance(19 * 60)
    tokens = await harness.identity.sessions.refresh(tokens.refresh_token)
    harness.advance(20 * 60 + 1)
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sessions.refresh(tokens.refresh_token)
    assert err.value.reason == "SESSION_EXPIRED"


async def last_seen(h: Harness, tokens: Tokens):  # type: ignore[no-untyped-def]
    async with h.db.sessions() as session:
        record = await session.get(Session, tokens.session_id)
    assert record is not None
    return record.last_seen_at


async def test_identity_calls_keep_the_session_alive_writing_only_stale_activity(harness: Harness) -> None:
    tokens = await sign_in(harness)
    signed_in_at = await last_seen(harness, tokens)
    harness.advance(ACTIVITY_RESOLUTION.total_seconds() / 2)
    await harness.identity.sessions.authenticate(bearer(tokens))
    assert await last_seen(harness, tokens) == signed_in_at  # a read: nothing written
    harness.advance(ACTIVITY_RESOLUTION.total_seconds() / 2)
    await harness.identity.sessions.authenticate(bearer(tokens))
    recorded = await last_seen(harness, tokens)
    assert recorded > signed_in_at  # now stale: the activity is recorded
    # An identity call is activity as a refresh is: the session outlives 20 minutes after the last refresh.
    harness.advance(9 * 60)
    tokens = await harness.identity.sessions.refresh(tokens.refresh_token)
    harness.advance(9 * 60 + 30)
    await harness.identity.sessions.authenticate(bearer(tokens))
    harness.advance(11 * 60)  # 20.5 minutes after the refresh, 11 after the call
    tokens = await harness.identity.sessions.refresh(tokens.refresh_token)
    harness.advance(20 * 60 + 1)
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sessions.refresh(tokens.refresh_token)
    assert err.value.reason == "SESSION_EXPIRED"


async def test_twelve_hours_end_the_session_whatever_happens(harness: Harness) -> None:
    tokens = await sign_in(harness)
    for _ in range(71):
        harness.advance(10 * 60)
        tokens = await harness.identity.sessions.refresh(tokens.refresh_token)
    harness.advance(10 * 60)
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sessions.refresh(tokens.refresh_token)
    assert err.value.reason == "SESSION_EXPIRED"


async def test_sign_out_ends_the_session(harness: Harness) -> None:
    tokens = await sign_in(harness)
    await harness.identity.sessions.sign_out(call=bearer(tokens), refresh_token="")
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(tokens.refresh_token)
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.authenticate(bearer(tokens))


async def test_key_rotation_keeps_old_tokens_valid_until_they_expire(harness: Harness) -> None:
    old = await sign_in(harness)
    old_kid = jwt.get_unverified_header(old.access_token)["kid"]
    new_kid = await harness.identity.keys.rotate()
    assert new_kid != old_kid
    fresh = await sign_in(harness)
    assert jwt.get_unverified_header(fresh.access_token)["kid"] == new_kid
    await harness.identity.sessions.authenticate(bearer(old))
    await harness.identity.sessions.authenticate(bearer(fresh))
    assert {old_kid, new_kid} <= {k["kid"] for k in await harness.identity.keys.jwks()}
    harness.advance(16 * 60)
    harness.identity.keys._jwks_read = 0.0  # read the table again now
    assert old_kid not in {k["kid"] for k in await harness.identity.keys.jwks()}


async def test_every_sign_in_is_recorded_for_the_notice(harness: Harness) -> None:
    await sign_in(harness)
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.password(phone=PHONE, password="Wrong-passw0rd", call=CALL)
    principal, _ = await harness.identity.sessions.authenticate(bearer(await sign_in(harness)))
    rows, _ = await harness.identity.history.list_for_user(user_id=principal.user_id, page_size=10, page_token="")
    assert [(r.method, r.result) for r in rows] == [
        ("password", "succeeded"),
        ("password", "bad_credentials"),
        ("password", "succeeded"),
    ]
    assert rows[0].client_address == "198.51.100.7" and rows[0].user_agent == "pytest"
    # A customer's user hears of each successful one from notifications (its sign_in kind, SMS by default).
    recorded = [ev.SignInRecorded.FromString(p) for p in await harness.outbox(IdentitySubjects.SIGN_IN_RECORDED)]
    assert [(r.result, r.phone) for r in recorded] == [
        ("succeeded", PHONE),
        ("bad_credentials", ""),
        ("succeeded", PHONE),
    ]
    assert not [t for t in await harness.sms_to(PHONE) if "signed in" in t]


async def test_sign_in_history_pages(harness: Harness) -> None:
    for _ in range(5):
        tokens = await sign_in(harness)
    principal, _ = await harness.identity.sessions.authenticate(bearer(tokens))
    page1, token = await harness.identity.history.list_for_user(user_id=principal.user_id, page_size=3, page_token="")
    page2, end = await harness.identity.history.list_for_user(user_id=principal.user_id, page_size=3, page_token=token)
    assert len(page1) == 3 and len(page2) == 2 and end == ""
    assert {r.id for r in page1}.isdisjoint({r.id for r in page2})
