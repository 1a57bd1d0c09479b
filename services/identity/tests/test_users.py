"""The users package: creating a user (what is checked, kept and announced), reading one, changing its password.

The password rules are test_passwords.py's, a number in several customers test_memberships.py's, grants and
the idempotency key's reuse test_grants.py's; here: what creation normalises and refuses, its event, keys kept
from before fingerprints, side-by-side creations, and the password-change event.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from identity.users.models import User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.errors import AlreadyExists, InvalidArgument, NotFound
from simfleet_subjects import IdentitySubjects

from .conftest import CALL, CUSTOMER, PASSWORD, PHONE, Harness

NEW_PHONE = "+79990000201"


async def create(h: Harness, **overrides: object) -> User:
    values: dict[str, object] = {
        "customer_id": CUSTOMER,
        "phone": NEW_PHONE,
        "email": "fleet@demo.example",
        "display_name": "Fleet Coordinator",
    }
    values.update(overrides)
    return await h.identity.users.create(**values)  # type: ignore[arg-type]


async def count_users(h: Harness) -> int:
    async with h.db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)


async def test_creation_normalises_what_it_keeps_and_announces_the_user(harness: Harness) -> None:
    user = await create(
        harness,
        customer_id=f"  {CUSTOMER} ",
        phone="+7 (999) 000-02-01",
        email="Fleet@Demo.Example",
        display_name="  Cafe\u0301 Team ",
    )
    assert (user.customer_id, user.phone, user.email) == (CUSTOMER, NEW_PHONE, "fleet@demo.example")
    assert user.display_name == "Caf\u00e9 Team"  # trimmed, composed (NFC)
    assert user.active and user.password_hash is None and user.password_changed_at is None
    assert user.created_at == user.updated_at
    stored = await harness.identity.users.get(user.id)
    assert (stored.phone, stored.display_name) == (NEW_PHONE, "Caf\u00e9 Team")
    (created,) = [ev.UserCreated.FromString(p) for p in await harness.outbox(IdentitySubjects.USER_CREATED)]
    assert (created.user_id, created.customer_id, created.phone, created.email) == (
        user.id,
        CUSTOMER,
        NEW_PHONE,
        "fleet@demo.example",
    )


async def test_a_password_given_at_creation_is_checked_under_its_own_name_and_dated(harness: Harness) -> None:
    with pytest.raises(InvalidArgument) as weak:
        await create(harness, password="short1")
    assert weak.value.reason == "PASSWORD_TOO_WEAK" and list(weak.value.field_violations) == ["password"]
    assert await count_users(harness) == 0
    user = await create(harness, password=PASSWORD)
    assert user.password_changed_at == user.created_at


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"display_name": "   "}, {"display_name"}),
        ({"display_name": "x" * 201}, {"display_name"}),
        ({"customer_id": ""}, {"customer_id"}),
        ({"customer_id": "c" * 65}, {"customer_id"}),
        ({"request_id": "r" * 161}, {"request_id"}),
        ({"operator_role": "support"}, {"role"}),  # staff belong to no customer
        ({"customer_id": "", "display_name": ""}, {"display_name", "customer_id"}),
    ],
)
async def test_an_invalid_user_is_refused_with_every_field_named_and_nothing_kept(
    harness: Harness, overrides: dict[str, object], fields: set[str]
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await create(harness, **overrides)
    assert set(refused.value.field_violations) == fields
    assert await count_users(harness) == 0
    assert await harness.outbox(IdentitySubjects.USER_CREATED) == []


@pytest.mark.parametrize(("phone", "email"), [("89990000201", "fleet@demo.example"), (NEW_PHONE, "not-an-email")])
async def test_a_number_or_address_that_is_not_one_is_refused(harness: Harness, phone: str, email: str) -> None:
    with pytest.raises(InvalidArgument):
        await create(harness, phone=phone, email=email)
    assert await count_users(harness) == 0


async def test_a_key_kept_from_before_fingerprints_is_compared_by_who_the_user_is(harness: Harness) -> None:
    first = await create(harness, request_id="legacy-key")
    async with harness.db.transaction() as session:
        await session.execute(sa.update(User).where(User.id == first.id).values(request_fingerprint=None))
    # The same person under the same key: the same user, whatever else the retry says.
    again = await create(harness, request_id="legacy-key", display_name="Renamed Since")
    assert again.id == first.id
    with pytest.raises(InvalidArgument) as reused:
        await create(harness, request_id="legacy-key", phone="+79990000202")
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    assert await count_users(harness) == 1


async def test_the_same_creation_sent_twice_at_once_makes_one_user(harness: Harness) -> None:
    answers = await asyncio.gather(
        create(harness, request_id="twice-at-once", invite=True),
        create(harness, request_id="twice-at-once", invite=True),
        return_exceptions=True,
    )
    assert all(isinstance(a, User) for a in answers), answers
    assert len({a.id for a in answers if isinstance(a, User)}) == 1
    assert await count_users(harness) == 1
    assert len(await harness.sms_to(NEW_PHONE)) == 1  # one invitation


async def test_two_creations_of_one_number_at_once_make_one_user_and_a_conflict(harness: Harness) -> None:
    answers = await asyncio.gather(create(harness), create(harness, email="other@demo.example"), return_exceptions=True)
    assert sorted(type(a).__name__ for a in answers) == ["AlreadyExists", "User"]
    conflict = next(a for a in answers if isinstance(a, AlreadyExists))
    assert conflict.reason == "PHONE_TAKEN"
    assert await count_users(harness) == 1


async def test_an_unknown_user_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound) as missing:
        await harness.identity.users.get("01M80FS1VH2MZKYX1PNS53P8ZZ")
    assert missing.value.reason == "USER_NOT_FOUND"
    with pytest.raises(NotFound):
        await harness.identity.users.change_password(
            user_id="01M80FS1VH2MZKYX1PNS53P8ZZ",
            session_id="",
            current_password=PASSWORD,
            new_password="New-passw0rd-1",
        )


async def test_a_password_change_is_announced_and_reuse_is_named(harness: Harness, manager: User) -> None:
    tokens = await harness.identity.sign_in.password(phone=PHONE, password=PASSWORD, call=CALL)
    with pytest.raises(InvalidArgument) as same:
        await harness.identity.users.change_password(
            user_id=manager.id, session_id=tokens.session_id, current_password=PASSWORD, new_password=PASSWORD
        )
    assert (same.value.reason, list(same.value.field_violations)) == ("PASSWORD_REUSED", ["new_password"])
    assert await harness.outbox(IdentitySubjects.PASSWORD_CHANGED) == []
    harness.advance(60)
    await harness.identity.users.change_password(
        user_id=manager.id, session_id=tokens.session_id, current_password=PASSWORD, new_password="New-passw0rd-1"
    )
    (changed,) = [ev.PasswordChanged.FromString(p) for p in await harness.outbox(IdentitySubjects.PASSWORD_CHANGED)]
    assert (changed.user_id, changed.customer_id, changed.reason) == (manager.id, CUSTOMER, "change")
    stored = await harness.identity.users.get(manager.id)
    assert manager.password_changed_at is not None and stored.password_changed_at is not None
    assert stored.password_changed_at == stored.updated_at
    assert stored.password_changed_at - manager.password_changed_at >= timedelta(seconds=60)


async def test_operator_staff_change_their_password_with_no_customers_action_history(harness: Harness) -> None:
    staff = await create(harness, customer_id="", operator_role="support", password=PASSWORD)
    tokens = await harness.identity.sign_in.password(phone=NEW_PHONE, password=PASSWORD, call=CALL)
    await harness.identity.users.change_password(
        user_id=staff.id, session_id=tokens.session_id, current_password=PASSWORD, new_password="New-passw0rd-1"
    )
    assert await harness.outbox("simfleet.identity.audit.recorded") == []
    (changed,) = await harness.outbox(IdentitySubjects.PASSWORD_CHANGED)
    assert ev.PasswordChanged.FromString(changed).customer_id == ""
