"""The auth package: SignInService's own outcomes and records, and AuthApi, its gRPC adapter.

The code rules are test_otp.py's, throttling test_throttle.py's, passwords and their reset
test_passwords.py's, the choice of membership test_memberships.py's. Here: disabled users, what every
attempt leaves in the history, the input the service refuses before anything is written, the "you signed
in" notice (identity's to operator staff, notifications' to customers' users), and what the adapter hands to
the service (a reset code is no sign-in code).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from identity.auth.grpc_api import AuthApi
from identity.signins.models import SignInAttempt
from identity.users.models import DISABLED, User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet.identity.v1 import auth_pb2 as pb
from simfleet.identity.v1 import common_pb2
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from simfleet_subjects import IdentitySubjects

from .conftest import CALL, CUSTOMER, PASSWORD, PHONE, Harness

pytestmark = pytest.mark.usefixtures("manager")


async def attempts(h: Harness) -> list[tuple[str, str, str | None]]:
    async with h.db.sessions() as session:
        rows = (await session.scalars(sa.select(SignInAttempt).order_by(SignInAttempt.id))).all()
    return [(r.method, r.result, r.user_id) for r in rows]


async def disable(h: Harness, user: User) -> None:
    async with h.db.transaction() as session:
        await session.execute(sa.update(User).where(User.id == user.id).values(status=DISABLED))


async def code(h: Harness, *, channel: str = "sms", purpose: str = "sign_in") -> str:
    issued = await h.identity.sign_in.start_otp(phone=PHONE, channel=channel, purpose=purpose, call=CALL)
    return issued.challenge_id


async def test_a_disabled_user_is_refused_a_password_sign_in_as_a_wrong_password_would_be(
    harness: Harness, manager: User
) -> None:
    await disable(harness, manager)
    with pytest.raises(Unauthenticated) as refused:
        await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    assert (refused.value.reason, refused.value.message) == (
        "BAD_CREDENTIALS",
        "the phone number or the password is wrong",
    )
    # The history says why, for the customer's managers; the caller is told nothing more.
    assert await attempts(harness) == [("password", "user_disabled", manager.id)]
    assert not [t for t in await harness.sms_to(PHONE) if "signed in" in t]


async def test_a_disabled_user_is_refused_a_code_sign_in_and_it_is_recorded(harness: Harness, manager: User) -> None:
    challenge = await code(harness)
    sent = await harness.last_code(PHONE)
    await disable(harness, manager)
    with pytest.raises(PermissionDenied) as refused:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=sent, call=CALL)
    assert refused.value.reason == "USER_DISABLED"
    assert await attempts(harness) == [("otp_sms", "user_disabled", manager.id)]


def emailed_code(body: str) -> str:
    return next(w.strip(".:") for w in body.split() if w.strip(".:").isdigit() and len(w.strip(".:")) == 6)


async def test_every_outcome_of_a_code_is_recorded_with_its_method(harness: Harness, manager: User) -> None:
    challenge = await code(harness, channel="email")
    (email,) = await harness.emails_to("manager@demo.example")
    sent = emailed_code(email.body)
    wrong = f"{(int(sent) + 1) % 1_000_000:06d}"
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=wrong, call=CALL)
    harness.advance(301)
    with pytest.raises(Unauthenticated) as expired:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=sent, call=CALL)
    assert expired.value.reason == "OTP_EXPIRED"
    reset = await code(harness, purpose="password_reset")
    await harness.identity.sign_in.confirm_password_reset(
        challenge_id=reset, code=await harness.last_code(PHONE), new_password="Reset-passw0rd-7", call=CALL
    )
    assert await attempts(harness) == [
        ("otp_email", "bad_credentials", manager.id),
        ("otp_email", "code_expired", manager.id),
        ("password_reset", "succeeded", manager.id),
    ]


async def test_a_code_for_an_unknown_challenge_is_refused_and_nothing_recorded(harness: Harness) -> None:
    for challenge in ("01M80FS1VH2MZKYX1PNS53P8ZZ", "not-an-id"):
        with pytest.raises(Unauthenticated):
            await harness.identity.sign_in.verify_otp(challenge_id=challenge, code="123456", call=CALL)
    assert await attempts(harness) == []


@pytest.mark.parametrize("sent", ["12345", "1234567", "12 456", ""])
async def test_a_code_that_is_not_six_digits_is_refused_before_anything_is_looked_up(
    harness: Harness, sent: str
) -> None:
    challenge = await code(harness)
    with pytest.raises(InvalidArgument) as refused:
        await harness.identity.sign_in.verify_otp(challenge_id=challenge, code=sent, call=CALL)
    assert refused.value.reason == "INVALID_CODE_FORMAT"
    assert await attempts(harness) == []
    # The challenge was not spent: the real code still signs in.
    assert await harness.identity.sign_in.verify_otp(
        challenge_id=challenge, code=await harness.last_code(PHONE), call=CALL
    )


@pytest.mark.parametrize("password", ["", "A1" * 513])
async def test_an_empty_or_huge_password_is_refused_and_not_counted(harness: Harness, password: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await harness.identity.sign_in.password(phone=PHONE, password=password, call=CALL)
    assert list(refused.value.field_violations) == ["password"]
    assert await attempts(harness) == []


STAFF_PHONE = "+79990009951"


async def test_operator_staff_get_the_sign_in_notice_from_identity_saying_when_and_from_where(
    harness: Harness,
) -> None:
    await harness.identity.users.create(
        customer_id="",
        phone=STAFF_PHONE,
        email="desk@simfleet.example",
        display_name="Desk",
        password=PASSWORD,
        operator_role="support",
    )
    await harness.identity.sign_in.password(phone=STAFF_PHONE, password=PASSWORD, call=CALL)
    await harness.identity.sign_in.password(phone=STAFF_PHONE, password=PASSWORD, call=CallContext(user_agent="pytest"))
    with_address, without = [t for t in await harness.sms_to(STAFF_PHONE) if "signed in" in t]
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.fullmatch(
        rf"SIMfleet: you signed in on {when} from 198\.51\.100\.7\. Not you\? Change your password now\.", with_address
    ), with_address
    assert re.fullmatch(rf"SIMfleet: you signed in on {when}\. Not you\? Change your password now\.", without), without


async def test_a_customers_user_hears_of_a_sign_in_from_notifications_not_from_identity(
    harness: Harness, manager: User
) -> None:
    await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.password(phone=PHONE, password="Wrong-passw0rd", call=CALL)
    assert not [t for t in await harness.sms_to(PHONE) if "signed in" in t]
    # What notifications tells the user from: the event names the number that signed in, a failure names none.
    recorded = [ev.SignInRecorded.FromString(p) for p in await harness.outbox(IdentitySubjects.SIGN_IN_RECORDED)]
    assert [(r.user_id, r.customer_id, r.result, r.phone) for r in recorded] == [
        (manager.id, CUSTOMER, "succeeded", PHONE),
        (manager.id, CUSTOMER, "bad_credentials", ""),
    ]


async def test_without_notifications_identity_tells_a_customers_user_itself(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS=false (the composition root passes the setting to the service)
    monkeypatch.setattr(harness.identity.sign_in, "_sign_in_sms_by_notifications", False)
    await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    assert len([t for t in await harness.sms_to(PHONE) if "signed in" in t]) == 1


class _Context:
    """What the adapter is handed as the gRPC context: it never reads it."""


@pytest.fixture
def api(harness: Harness) -> AuthApi:
    identity = harness.identity
    return AuthApi(sign_in=identity.sign_in, sessions=identity.sessions, keys=identity.keys)


@pytest.fixture
def in_call():  # type: ignore[no-untyped-def]
    token = set_current_call(CALL)
    yield CALL
    reset_current_call(token)


@pytest.mark.usefixtures("in_call")
async def test_the_adapter_signs_in_by_code_with_the_callers_channel(harness: Harness, api: AuthApi) -> None:
    started = await api.StartOtpSignIn(
        pb.StartOtpSignInRequest(phone=PHONE, channel=common_pb2.OTP_CHANNEL_EMAIL), _Context()
    )
    assert started.expires_in == 300
    assert await harness.emails_to("manager@demo.example") and not await harness.sms_to(PHONE)
    (email,) = await harness.emails_to("manager@demo.example")
    sent = emailed_code(email.body)
    verified = await api.VerifyOtp(pb.VerifyOtpRequest(challenge_id=started.challenge_id, code=sent), _Context())
    assert verified.tokens.token_type == "Bearer" and verified.tokens.access_token
    principal, _ = await harness.identity.sessions.authenticate(CallContext(bearer_token=verified.tokens.access_token))
    assert principal.user_id and verified.tokens.session_id


@pytest.mark.usefixtures("in_call")
async def test_the_adapter_refuses_an_unset_channel(api: AuthApi) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await api.StartOtpSignIn(pb.StartOtpSignInRequest(phone=PHONE), _Context())
    assert refused.value.reason == "INVALID_CHANNEL"


@pytest.mark.usefixtures("in_call")
async def test_a_reset_code_from_the_adapter_is_no_sign_in_code_and_sets_the_password(
    harness: Harness, api: AuthApi
) -> None:
    started = await api.StartPasswordReset(
        pb.StartPasswordResetRequest(phone=PHONE, channel=common_pb2.OTP_CHANNEL_SMS), _Context()
    )
    sent = await harness.last_code(PHONE)
    assert "password reset code" in (await harness.sms_to(PHONE))[-1]
    with pytest.raises(Unauthenticated):
        await api.VerifyOtp(pb.VerifyOtpRequest(challenge_id=started.challenge_id, code=sent), _Context())
    confirmed = await api.ConfirmPasswordReset(
        pb.ConfirmPasswordResetRequest(challenge_id=started.challenge_id, code=sent, new_password="Reset-passw0rd-7"),
        _Context(),
    )
    assert confirmed.tokens.access_token
    assert await harness.identity.sign_in.password(phone=PHONE, password="Reset-passw0rd-7", call=CALL)


@pytest.mark.usefixtures("in_call")
async def test_the_adapter_signs_in_by_password_refreshes_and_signs_out(harness: Harness, api: AuthApi) -> None:
    signed_in = await api.SignInWithPassword(pb.SignInWithPasswordRequest(phone=PHONE, password=PASSWORD), _Context())
    refreshed = await api.RefreshSession(
        pb.RefreshSessionRequest(refresh_token=signed_in.tokens.refresh_token), _Context()
    )
    assert refreshed.tokens.session_id == signed_in.tokens.session_id
    assert refreshed.tokens.refresh_token != signed_in.tokens.refresh_token
    await api.SignOut(pb.SignOutRequest(refresh_token=refreshed.tokens.refresh_token), _Context())
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(refreshed.tokens.refresh_token)


async def test_the_adapter_publishes_the_signing_keys(harness: Harness, api: AuthApi) -> None:
    await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)  # a key exists now
    answer = await api.GetJwks(pb.GetJwksRequest(), _Context())
    assert [(k.kid, k.kty, k.crv, k.alg, k.use) for k in answer.keys] == [
        (k["kid"], "OKP", "Ed25519", "EdDSA", "sig") for k in await harness.identity.keys.jwks()
    ]
    assert answer.keys


def test_the_adapter_serves_every_method_of_the_service() -> None:
    served = {name for name in vars(AuthApi) if name[0].isupper()}
    assert served == set(pb.DESCRIPTOR.services_by_name["AuthService"].methods_by_name)
