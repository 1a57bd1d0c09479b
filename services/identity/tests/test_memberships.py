"""A phone number may be a user of several customers; a sign-in enters one of them.

Inviting a number that another customer already has must neither fail nor say
so (issue 10: the 409 revealed the other customer's user). Each membership has
its own grants, password and email; the sign-in picks the asked customer, else
the one the number last signed in to.
"""

from __future__ import annotations

import jwt
import pytest
import sqlalchemy as sa

from identity.sessions.service import Tokens
from identity.users.models import DISABLED, User
from simfleet_runtime.errors import AlreadyExists, InvalidArgument, NotFound, Unauthenticated

from .conftest import CALL, CUSTOMER, PASSWORD, PHONE, Harness

OTHER = "01M80FS1VH2MZKYX1PNS53P8M3"
OTHER_PASSWORD = "Other-Passw0rd-2026"


def customer_of(tokens: Tokens) -> str:
    claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
    customer: str = claims["cid"]
    return customer


async def code_sign_in(h: Harness, *, customer_id: str = "", channel: str = "sms") -> Tokens:
    issued = await h.identity.sign_in.start_otp(
        phone=PHONE, channel=channel, purpose="sign_in", call=CALL, customer_id=customer_id
    )
    return await h.identity.sign_in.verify_otp(
        challenge_id=issued.challenge_id, code=await h.last_code(PHONE), call=CALL
    )


@pytest.fixture
async def both(harness: Harness):  # type: ignore[no-untyped-def]
    first = await harness.identity.users.create(
        customer_id=CUSTOMER, phone=PHONE, email="first@demo.example", display_name="First", password=PASSWORD
    )
    harness.advance(1)
    second = await harness.identity.users.create(
        customer_id=OTHER,
        phone=PHONE,
        email="second@demo.example",
        display_name="Second",
        password=OTHER_PASSWORD,
        invite=True,
    )
    return first, second


async def test_another_customer_can_invite_a_number_and_the_same_customer_cannot(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    first, second = both
    assert first.id != second.id and second.customer_id == OTHER
    assert any("sign in" in t for t in await harness.sms_to(PHONE))  # the invitation went out
    with pytest.raises(AlreadyExists) as taken:
        await harness.identity.users.create(
            customer_id=OTHER, phone=PHONE, email="again@demo.example", display_name="Again"
        )
    assert taken.value.reason == "PHONE_TAKEN"


async def test_a_sign_in_enters_the_asked_customer_else_the_last_one(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    assert customer_of(await code_sign_in(harness)) == CUSTOMER  # never signed in: the oldest
    assert customer_of(await code_sign_in(harness, customer_id=OTHER)) == OTHER
    assert customer_of(await code_sign_in(harness)) == OTHER  # the last one entered
    password = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL, customer_id=CUSTOMER)
    assert customer_of(password) == CUSTOMER
    assert customer_of(await code_sign_in(harness)) == CUSTOMER


async def test_each_membership_keeps_its_own_password(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    other = await harness.identity.sign_in.password(phone=PHONE, password=OTHER_PASSWORD, call=CALL, customer_id=OTHER)
    assert customer_of(other) == OTHER
    with pytest.raises(Unauthenticated) as wrong:
        await harness.identity.sign_in.password(phone=PHONE, password=OTHER_PASSWORD, call=CALL, customer_id=CUSTOMER)
    assert wrong.value.reason == "BAD_CREDENTIALS"


async def test_a_customer_the_number_is_not_a_user_of_is_an_unknown_number(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    sent = len(await harness.sms_to(PHONE))
    issued = await harness.identity.sign_in.start_otp(
        phone=PHONE, channel="sms", purpose="sign_in", call=CALL, customer_id="01M80FS1VH2MZKYX1PNS53P8M4"
    )
    assert issued.challenge_id and issued.expires_in == 300  # the same answer as for a real user
    assert len(await harness.sms_to(PHONE)) == sent  # and no code
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.password(
            phone=PHONE, password=PASSWORD, call=CALL, customer_id="01M80FS1VH2MZKYX1PNS53P8M4"
        )
    with pytest.raises(InvalidArgument) as bad:
        await harness.identity.sign_in.start_otp(
            phone=PHONE, channel="sms", purpose="sign_in", call=CALL, customer_id="x\u202e" * 40
        )
    assert set(bad.value.field_violations) == {"customer_id"}


async def test_an_email_code_goes_to_the_chosen_membership_s_address(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    await harness.identity.sign_in.start_otp(
        phone=PHONE, channel="email", purpose="sign_in", call=CALL, customer_id=OTHER
    )
    assert await harness.emails_to("second@demo.example")
    assert not await harness.emails_to("first@demo.example")


async def test_the_profile_lists_every_active_membership_own_first(harness: Harness, both) -> None:  # type: ignore[no-untyped-def]
    first, second = both
    assert [u.id for u in await harness.identity.users.with_memberships(second.id)] == [second.id, first.id]
    assert [u.customer_id for u in await harness.identity.users.with_memberships(first.id)] == [CUSTOMER, OTHER]
    async with harness.db.transaction() as session:
        await session.execute(sa.update(User).where(User.id == first.id).values(status=DISABLED))
    # A disabled membership is no longer listed to the others, but its own profile still shows it.
    assert [u.id for u in await harness.identity.users.with_memberships(second.id)] == [second.id]
    assert [u.id for u in await harness.identity.users.with_memberships(first.id)] == [first.id, second.id]
    with pytest.raises(NotFound):
        await harness.identity.users.with_memberships("01M80FS1VH2MZKYX1PNS53P8M9")
