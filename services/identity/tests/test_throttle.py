"""Failed sign-ins are throttled per number and client address, so that no one can lock the owner out.

An attacker failing from one address waits longer and longer; the number's
owner signs in from another address with the right password or a code. A
ceiling of 100 consecutive failures per number (NIST SP 800-63B §5.2.2) closes
a factor for addresses it binds until the number signs in another way.
"""

from __future__ import annotations

import asyncio

import pytest

from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import DomainError, PermissionDenied, ResourceExhausted, Unauthenticated

from .conftest import PASSWORD, PHONE, Harness

pytestmark = pytest.mark.usefixtures("manager")

WRONG = "Wrong-passw0rd-1"
ATTACKER = CallContext(client_address="203.0.113.66", user_agent="attacker")
OWNER = CallContext(client_address="198.51.100.20", user_agent="owner")
UNKNOWN_PHONE = "+79995550000"


async def password(h: Harness, call: CallContext, secret: str = WRONG, phone: str = PHONE) -> DomainError | None:
    """Sign in with a password; the error it was refused with, or None when it worked."""
    try:
        tokens = await h.identity.sign_in.password(phone=phone, password=secret, call=call)
    except DomainError as err:
        return err
    assert tokens.access_token
    return None


async def code_sign_in(h: Harness, call: CallContext, phone: str = PHONE) -> DomainError | None:
    issued = await h.identity.sign_in.start_otp(phone=phone, channel="sms", purpose="sign_in", call=call)
    code = await h.last_code(phone)
    try:
        await h.identity.sign_in.verify_otp(challenge_id=issued.challenge_id, code=code, call=call)
    except DomainError as err:
        return err
    return None


def throttled(err: DomainError | None, scope: str) -> ResourceExhausted:
    assert isinstance(err, ResourceExhausted), err
    assert err.reason == "SIGN_IN_THROTTLED"
    assert err.metadata["scope"] == scope
    assert err.retry_after_seconds is not None and err.retry_after_seconds >= 1
    return err


async def fail_for_long(h: Harness, call: CallContext) -> None:
    """From 5 failures, fail on until the address waits half a minute (the clock moves past the shorter waits)."""
    for wait in (2, 4, 8, 16):
        h.advance(wait)
        assert isinstance(await password(h, call), Unauthenticated)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_wrong_passwords_from_one_address_do_not_lock_out_another(harness: Harness) -> None:
    answers = [await password(harness, ATTACKER) for _ in range(12)]
    assert all(isinstance(a, Unauthenticated) for a in answers[:5])
    for answer in answers[5:]:
        throttled(answer, "client")
    await fail_for_long(harness, ATTACKER)
    # the attacker's address is refused without its guess being checked, right or wrong
    throttled(await password(harness, ATTACKER, PASSWORD), "client")
    assert await password(harness, OWNER, PASSWORD) is None
    assert await code_sign_in(harness, OWNER) is None
    # the owner's sign-in did not free the attacker's address
    throttled(await password(harness, ATTACKER, PASSWORD), "client")


async def test_the_wait_doubles_up_to_the_cap(harness: Harness) -> None:
    for _ in range(5):
        assert isinstance(await password(harness, ATTACKER), Unauthenticated)
    waits = []
    for _ in range(12):
        wait = throttled(await password(harness, ATTACKER), "client").retry_after_seconds
        assert wait is not None
        waits.append(wait)
        harness.advance(wait - 0.5)
        throttled(await password(harness, ATTACKER), "client")
        harness.advance(0.5)
        assert isinstance(await password(harness, ATTACKER), Unauthenticated)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


async def test_an_address_is_forgiven_when_the_number_signs_in_from_it_or_after_a_day(harness: Harness) -> None:
    for _ in range(5):
        assert isinstance(await password(harness, OWNER), Unauthenticated)
    throttled(await password(harness, OWNER, PASSWORD), "client")
    harness.advance(2)
    assert await password(harness, OWNER, PASSWORD) is None
    for _ in range(5):
        assert isinstance(await password(harness, OWNER), Unauthenticated)
    harness.advance(24 * 3600 + 1)
    for _ in range(5):
        assert isinstance(await password(harness, OWNER), Unauthenticated)
    throttled(await password(harness, OWNER), "client")


async def test_unknown_numbers_are_throttled_alike(harness: Harness) -> None:
    answers = []
    for phone in (PHONE, UNKNOWN_PHONE):
        for _ in range(5):
            err = await password(harness, ATTACKER, phone=phone)
            assert isinstance(err, Unauthenticated) and err.reason == "BAD_CREDENTIALS"
        err = throttled(await password(harness, ATTACKER, phone=phone), "client")
        answers.append((err.message, err.metadata, err.retry_after_seconds))
    assert answers[0] == answers[1]


async def test_a_hundred_failures_close_password_sign_in_until_a_code_sign_in(harness: Harness) -> None:
    for n in range(20):
        attacker = CallContext(client_address=f"203.0.113.{n}")
        for _ in range(5):
            assert isinstance(await password(harness, attacker), Unauthenticated)
    # every address now, the owner's too, right password or not
    throttled(await password(harness, OWNER, PASSWORD), "account")
    throttled(await password(harness, CallContext(client_address="192.0.2.1")), "account")
    # the second factor still works, from anywhere, and reopens password sign-in
    assert await code_sign_in(harness, OWNER) is None
    assert await password(harness, CallContext(client_address="192.0.2.1"), PASSWORD) is None


async def test_the_ceiling_counts_consecutive_failures(harness: Harness) -> None:
    for n in range(19):
        attacker = CallContext(client_address=f"203.0.113.{n}")
        for _ in range(5):
            assert isinstance(await password(harness, attacker), Unauthenticated)
    assert await password(harness, OWNER, PASSWORD) is None
    for n in range(19, 21):
        attacker = CallContext(client_address=f"203.0.113.{n}")
        for _ in range(5):
            assert isinstance(await password(harness, attacker), Unauthenticated)
    assert await password(harness, OWNER, PASSWORD) is None


async def test_side_by_side_guesses_from_one_address_are_counted_one_after_another(harness: Harness) -> None:
    answers = await asyncio.gather(*(password(harness, ATTACKER) for _ in range(10)))
    assert sum(isinstance(a, Unauthenticated) for a in answers) == 5
    assert sum(isinstance(a, ResourceExhausted) for a in answers) == 5
    from identity.signins.models import SignInThrottle

    async with harness.db.sessions() as session:
        row = await session.get(SignInThrottle, (PHONE, "password", ATTACKER.client_address))
    assert row is not None and row.failures == 5


async def test_wrong_codes_from_one_address_do_not_block_codes_from_another(harness: Harness) -> None:
    sign_in = harness.identity.sign_in
    first = await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=ATTACKER)
    guess = wrong_code(await harness.last_code(PHONE))
    for _ in range(5):
        with pytest.raises((Unauthenticated, PermissionDenied)):
            await sign_in.verify_otp(challenge_id=first.challenge_id, code=guess, call=ATTACKER)
    # the owner asks for a code, then the attacker asks again (which replaces only the attacker's own code)
    mine = await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=OWNER)
    code = await harness.last_code(PHONE)
    again = await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=ATTACKER)
    with pytest.raises(PermissionDenied) as locked:
        await sign_in.verify_otp(challenge_id=again.challenge_id, code=guess, call=ATTACKER)
    assert locked.value.reason == "OTP_LOCKED"
    for _ in range(3):
        await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=ATTACKER)
    with pytest.raises(ResourceExhausted) as limited:
        await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=ATTACKER)
    assert limited.value.metadata["scope"] == "phone_client"
    tokens = await sign_in.verify_otp(challenge_id=mine.challenge_id, code=code, call=OWNER)
    assert tokens.access_token
    assert await code_sign_in(harness, OWNER) is None


async def test_the_send_ceiling_spares_addresses_the_number_signed_in_from(harness: Harness) -> None:
    assert await code_sign_in(harness, OWNER) is None
    refused = None
    for n in range(25):
        try:
            await harness.identity.sign_in.start_otp(
                phone=PHONE, channel="sms", purpose="sign_in", call=CallContext(client_address=f"203.0.113.{n}")
            )
        except ResourceExhausted as err:
            refused = (n, err.metadata["scope"])
            break
    assert refused == (19, "phone")  # 20 codes to the number in 15 minutes, the owner's one included
    assert await code_sign_in(harness, OWNER) is None


async def test_a_hundred_wrong_codes_bind_only_addresses_the_number_never_signed_in_from(harness: Harness) -> None:
    sign_in = harness.identity.sign_in
    assert await code_sign_in(harness, OWNER) is None
    for n in range(20):
        attacker = CallContext(client_address=f"203.0.113.{n}")
        if n == 19:
            harness.advance(901)  # past the send ceiling's window
        issued = await sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=attacker)
        guess = wrong_code(await harness.last_code(PHONE))
        for _ in range(5):
            with pytest.raises((Unauthenticated, PermissionDenied)):
                await sign_in.verify_otp(challenge_id=issued.challenge_id, code=guess, call=attacker)
    newcomer = CallContext(client_address="192.0.2.1")
    err = throttled(await code_sign_in(harness, newcomer), "account")
    assert err.metadata["factor"] == "code"
    # the owner's usual address still signs in by code, and that clears the ceiling
    assert await code_sign_in(harness, OWNER) is None
    assert await code_sign_in(harness, newcomer) is None
