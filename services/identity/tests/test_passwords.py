"""Password rules, hashing, sign-in by password, change and reset (ID-2, ID-5, ID-6)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from identity.users.models import User
from identity.users.passwords import PasswordPolicy
from simfleet_runtime.context import CallContext
from simfleet_runtime.errors import InvalidArgument, PermissionDenied, Unauthenticated
from simfleet_runtime.ids import new_id

from .conftest import CALL, CUSTOMER, PASSWORD, PHONE, Harness

POLICY = PasswordPolicy()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1", "at least 10"),
        ("onlyletterslong", "digit"),
        ("1234567890123", "letter"),
        ("aaaaaaa1111", "5 different"),
        ("Password123", "too common"),
        ("x9990000001yz", "phone number"),
        ("A1" + "b" * 130, "at most 128"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    assert any(problem in p for p in POLICY.problems(password, phone=PHONE))
    with pytest.raises(InvalidArgument) as err:
        POLICY.check(password, phone=PHONE)
    assert err.value.reason == "PASSWORD_TOO_WEAK" and "new_password" in err.value.field_violations


@pytest.mark.parametrize("password", ["Demo-Passw0rd-2026", "correct horse 7 battery", "Пароль-надёжный-42"])
def test_good_passwords_pass(password: str) -> None:
    assert POLICY.problems(password, phone=PHONE) == []


async def test_passwords_are_stored_as_argon2id(harness: Harness, manager: User) -> None:
    assert manager.password_hash is not None and manager.password_hash.startswith("$argon2id$")
    assert PASSWORD not in manager.password_hash


@pytest.mark.usefixtures("manager")
async def test_wrong_password_and_unknown_number_answer_alike(harness: Harness) -> None:
    errors = []
    for phone, password in ((PHONE, "Wrong-passw0rd"), ("+79995550000", PASSWORD)):
        with pytest.raises(Unauthenticated) as err:
            await harness.identity.sign_in.password(phone=phone, password=password, call=CALL)
        errors.append((err.value.reason, err.value.message))
    assert errors[0] == errors[1] == ("BAD_CREDENTIALS", "the phone number or the password is wrong")


async def test_change_password_needs_the_current_one_and_ends_other_sessions(harness: Harness, manager: User) -> None:
    other = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    mine = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    with pytest.raises(InvalidArgument) as wrong:
        await harness.identity.users.change_password(
            user_id=manager.id, session_id=mine.session_id, current_password="nope", new_password="New-passw0rd-1"
        )
    assert wrong.value.reason == "PASSWORD_WRONG"
    with pytest.raises(InvalidArgument):
        await harness.identity.users.change_password(
            user_id=manager.id, session_id=mine.session_id, current_password=PASSWORD, new_password=PASSWORD
        )
    await harness.identity.users.change_password(
        user_id=manager.id, session_id=mine.session_id, current_password=PASSWORD, new_password="New-passw0rd-1"
    )
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(other.refresh_token)
    assert await harness.identity.sessions.refresh(mine.refresh_token)
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    assert await harness.identity.sign_in.password(phone=PHONE, password="New-passw0rd-1", call=CALL)


async def test_forgotten_password_reset_by_code(harness: Harness, manager: User) -> None:
    old_session = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    issued = await harness.identity.sign_in.start_otp(
        phone=PHONE, channel="sms", purpose="password_reset", call=CallContext(client_address="198.51.100.9")
    )
    code = await harness.last_code(PHONE)
    assert "password reset code" in (await harness.sms_to(PHONE))[-1]
    with pytest.raises(InvalidArgument):  # a weak password keeps the code usable
        await harness.identity.sign_in.confirm_password_reset(
            challenge_id=issued.challenge_id, code=code, new_password="weak", call=CALL
        )
    # a reset code does not sign in by itself
    with pytest.raises(Unauthenticated):
        await harness.identity.sign_in.verify_otp(challenge_id=issued.challenge_id, code=code, call=CALL)
    tokens = await harness.identity.sign_in.confirm_password_reset(
        challenge_id=issued.challenge_id, code=code, new_password="Reset-passw0rd-7", call=CALL
    )
    assert tokens.access_token
    with pytest.raises(Unauthenticated):
        await harness.identity.sessions.refresh(old_session.refresh_token)
    assert await harness.identity.sign_in.password(phone=PHONE, password="Reset-passw0rd-7", call=CALL)
    del manager


async def test_a_first_password_needs_a_fresh_code_sign_in(harness: Harness) -> None:
    """An invited user (no password yet) proves it is them with a recent code, not just any open session."""
    user = await harness.identity.users.create(
        customer_id=CUSTOMER, phone="+79990000077", email="first@demo.example", display_name="First", invite=True
    )
    now = harness.identity.runtime.clock.now()

    async def first_password(method: str, signed_in_at: datetime) -> None:
        await harness.identity.users.change_password(
            user_id=user.id,
            session_id=new_id(),
            current_password="",
            new_password="First-Passw0rd-2026",
            signed_in_by=method,
            signed_in_at=signed_in_at,
        )

    with pytest.raises(PermissionDenied) as stale:
        await first_password("otp_sms", now - timedelta(minutes=11))
    assert stale.value.reason == "FRESH_SIGN_IN_REQUIRED"
    with pytest.raises(PermissionDenied):
        await first_password("password", now)
    with pytest.raises(PermissionDenied):  # nothing said how the session began
        await harness.identity.users.change_password(
            user_id=user.id, session_id=new_id(), current_password="", new_password="First-Passw0rd-2026"
        )
    await first_password("otp_email", now - timedelta(minutes=2))
    assert await harness.identity.sign_in.password(phone="+79990000077", password="First-Passw0rd-2026", call=CALL)
