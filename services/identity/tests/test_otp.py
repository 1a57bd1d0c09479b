"""The rules of one-time codes (DESIGN.md § Identity; ID-3, ID-4, ID-5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from identity.models import BUS
from identity.otp.models import OtpChallenge
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import InvalidArgument, PermissionDenied, ResourceExhausted, Unauthenticated

from .conftest import CALL, EMAIL, PHONE, Harness

pytestmark = pytest.mark.usefixtures("manager")


async def start(h: Harness, phone: str = PHONE, channel: str = "sms", call: CallContext = CALL) -> str:
    issued = await h.identity.sign_in.start_otp(phone=phone, channel=channel, purpose="sign_in", call=call)
    assert issued.expires_in == 300
    return issued.challenge_id


async def test_sms_code_signs_in_once(harness: Harness) -> None:
    challenge = await start(harness)
    code = await harness.last_code(PHONE)
    tokens = await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=code, call=CALL)
    assert tokens.access_token and tokens.refresh_token
    with pytest.raises(Unauthenticated) as again:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=code, call=CALL)
    assert again.value.reason == "OTP_INVALID"


async def test_code_is_stored_only_as_a_hash(harness: Harness) -> None:
    challenge = await start(harness)
    code = await harness.last_code(PHONE)
    async with harness.db.sessions() as session:
        row = await session.get(OtpChallenge, challenge)
    assert row is not None
    assert code not in row.code_hash and len(row.code_hash) == 64


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_the_message_carrying_a_code_is_sealed_in_the_outbox(harness: Harness, channel: str) -> None:
    await start(harness, channel=channel)
    async with harness.db.sessions() as session:
        rows = (await session.execute(sa.select(BUS.outbox))).mappings().all()
    if channel == "sms":
        code = await harness.last_code(PHONE)
    else:
        (email,) = await harness.emails_to(EMAIL)
        code = next(w.strip(".:") for w in email.body.split() if w.strip(".:").isdigit() and len(w.strip(".:")) == 6)
    (sealed,) = [r for r in rows if r["headers"].get("Simfleet-Sensitive")]
    assert code.encode() not in sealed["payload"]
    # An email request is identity's own work item: it stays sealed on the bus, for identity's mailer.
    assert sealed["headers"].get("Simfleet-Sealed") == ("1" if channel == "email" else None)
    assert all(code.encode() not in r["payload"] for r in rows)


async def test_email_code_goes_to_the_registered_address(harness: Harness) -> None:
    challenge = await start(harness, channel="email")
    emails = await harness.emails_to(EMAIL)
    assert len(emails) == 1
    code = next(w.strip(".:") for w in emails[0].body.split() if w.strip(".:").isdigit() and len(w.strip(".:")) == 6)
    assert await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=code, call=CALL)
    assert not [t for t in await harness.sms_to(PHONE) if "code" in t]


async def test_five_wrong_codes_lock_the_challenge(harness: Harness) -> None:
    challenge = await start(harness)
    code = await harness.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    reasons = []
    for _ in range(5):
        with pytest.raises((Unauthenticated, PermissionDenied)) as err:
            await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=wrong, call=CALL)
        reasons.append(err.value.reason)  # type: ignore[union-attr]
    assert reasons == ["OTP_INVALID"] * 4 + ["OTP_LOCKED"]
    with pytest.raises(PermissionDenied) as locked:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=code, call=CALL)
    assert locked.value.reason == "OTP_LOCKED"


async def test_a_new_code_does_not_reset_the_failure_count(harness: Harness) -> None:
    first = await start(harness)
    code = await harness.last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            await harness.identity.sign_in.verify_otp(challenge_id=first, code=wrong, call=CALL)
    second = await start(harness)
    new_code = await harness.last_code(PHONE)
    new_wrong = f"{(int(new_code) + 1) % 1_000_000:06d}"
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sign_in.verify_otp(challenge_id=second, code=new_wrong, call=CALL)
    assert err.value.metadata["attempts_left"] == "1"
    with pytest.raises(PermissionDenied):
        await harness.identity.sign_in.verify_otp(challenge_id=second, code=new_wrong, call=CALL)
    # the first code no longer works either: it was replaced
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.verify_otp(challenge_id=first, code=code, call=CALL)


async def test_code_expires_after_five_minutes(harness: Harness) -> None:
    challenge = await start(harness)
    code = await harness.last_code(PHONE)
    harness.advance(301)
    with pytest.raises(Unauthenticated) as err:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=code, call=CALL)
    assert err.value.reason == "OTP_EXPIRED"


async def test_code_is_bound_to_its_challenge(harness: Harness) -> None:
    other = await harness.identity.users.create(
        customer_id="c2", phone="+79990000002", email="second@demo.example", display_name="Second"
    )
    mine = await start(harness)
    await start(harness, phone=other.phone)
    theirs_code = await harness.last_code(other.phone)
    my_code = await harness.last_code(PHONE)
    if theirs_code != my_code:
        with pytest.raises(Unauthenticated):
            await harness.identity.sign_in.verify_otp(challenge_id=mine, code=theirs_code, call=CALL)
    assert await harness.identity.sign_in.verify_otp(challenge_id=mine, code=my_code, call=CALL)


async def test_unknown_number_gets_the_same_answer_and_no_message(harness: Harness) -> None:
    known = await harness.identity.sign_in.start_otp(phone=PHONE, channel="sms", purpose="sign_in", call=CALL)
    unknown = await harness.identity.sign_in.start_otp(
        phone="+79995550000", channel="sms", purpose="sign_in", call=CALL
    )
    assert type(known) is type(unknown)
    assert len(known.challenge_id) == len(unknown.challenge_id)
    assert known.expires_in == unknown.expires_in
    assert await harness.sms_to("+79995550000") == []
    for guess in ("000000", "123456"):
        with pytest.raises(Unauthenticated) as err:
            await harness.identity.sign_in.verify_otp(challenge_id=unknown.challenge_id, code=guess, call=CALL)
        assert err.value.reason == "OTP_INVALID"


async def test_sends_are_limited_per_number_from_one_address(harness: Harness) -> None:
    call = CallContext(client_address="203.0.113.5")
    for _ in range(5):
        await start(harness, call=call)
    with pytest.raises(ResourceExhausted) as err:
        await start(harness, call=call)
    # Until the oldest of the window's sends leaves it: the whole 15 minutes, as they were all just sent.
    assert err.value.retry_after_seconds is not None and 895 <= err.value.retry_after_seconds <= 901
    assert err.value.metadata["scope"] == "phone_client"
    await start(harness, call=CallContext(client_address="203.0.113.6"))
    harness.advance(901)
    await start(harness, call=call)


async def test_sends_are_limited_per_client_address(harness: Harness) -> None:
    call = CallContext(client_address="192.0.2.50")
    for n in range(30):
        await start(harness, phone=f"+7999777{n:04d}", call=call)
    with pytest.raises(ResourceExhausted) as err:
        await start(harness, phone="+79997779999", call=call)
    assert err.value.metadata["scope"] == "client"


async def test_the_limit_applies_to_unknown_numbers_alike(harness: Harness) -> None:
    call = CallContext(client_address="203.0.113.7")
    for _ in range(5):
        await start(harness, phone="+79995550001", call=call)
    with pytest.raises(ResourceExhausted) as err:
        await start(harness, phone="+79995550001", call=call)
    assert err.value.metadata["scope"] == "phone_client"


async def test_bad_input_is_refused_and_changes_nothing(harness: Harness) -> None:
    with pytest.raises(InvalidArgument):
        await start(harness, phone="89990000001")
    with pytest.raises(InvalidArgument):
        await start(harness, channel="pigeon")
    with pytest.raises(InvalidArgument):
        await harness.identity.sign_in.verify_otp(challenge_id="x", code="12ab56", call=CALL)
    async with harness.db.sessions() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(OtpChallenge)) == 0
