"""Creating users and changing their passwords."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from identity.audit_commands import PASSWORD_CHANGE
from identity.grants import service as grants
from identity.grants.roles import OPERATOR_ROLES
from identity.notifications.service import Notifier
from identity.sessions.service import SessionService
from identity.signins.models import OTP_EMAIL, OTP_SMS, SUCCEEDED, SignInAttempt
from identity.users.models import ACTIVE, MEMBER_COLUMNS, USERS, Member, User
from identity.users.passwords import PasswordHashing, PasswordPolicy
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.audit import Actor, AuditTrail, obj
from simfleet_runtime.authz import Grant
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database
from simfleet_runtime.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from simfleet_runtime.idempotency import check_same_request, fingerprint
from simfleet_runtime.ids import is_id, new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_runtime.validation import normalize_email, normalize_msisdn, text_problem
from simfleet_subjects import IdentitySubjects

CODE_METHODS = frozenset({OTP_SMS, OTP_EMAIL})
FIRST_PASSWORD_WINDOW = timedelta(minutes=10)
"""How recent the code sign-in must be that sets a user's first password."""


_WITH_MEMBERSHIPS = (
    sa.select(*User.__table__.c)
    .where(
        User.phone == sa.select(User.phone).where(User.id == sa.bindparam("user_id")).scalar_subquery(),
        sa.or_(User.id == sa.bindparam("user_id"), User.status == ACTIVE),
    )
    .order_by(User.created_at, User.id)
)
"""A user and every active user with the same number (its memberships), oldest first."""

_MEMBERS = (
    sa.select(*MEMBER_COLUMNS).where(USERS.c.phone == sa.bindparam("phone")).order_by(USERS.c.created_at, USERS.c.id)
)
"""A number's users, oldest first (pure Core: no ORM compile or identity map on the sign-in path)."""
_MEMBER_OF_CUSTOMER = _MEMBERS.where(USERS.c.customer_id == sa.bindparam("customer_id"))
_MEMBER_BY_ID = sa.select(*MEMBER_COLUMNS).where(USERS.c.id == sa.bindparam("id"))
_MEMBER_BY_ID_LOCKED = _MEMBER_BY_ID.with_for_update()


class UserService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        hashing: PasswordHashing,
        policy: PasswordPolicy,
        sessions: SessionService,
        notifier: Notifier,
        invitation_text: str,
        audit: AuditTrail | None = None,
    ) -> None:
        self._audit = audit
        self._db = db
        self._clock = clock
        self._outbox = outbox
        self._hashing = hashing
        self._policy = policy
        self._sessions = sessions
        self._notifier = notifier
        self._invitation = invitation_text

    async def member(self, session: AsyncSession, phone: str, *, customer_id: str = "") -> Member | None:
        """The user a sign-in with ``phone`` enters: the number's membership of ``customer_id``.

        Without a customer: the number's only user; for a number that is a user
        of several customers, the active one it last signed in to, else its
        oldest active one (else its oldest). ``None`` for a number that is no
        user (of that customer). Read with statements built once (every sign-in asks).
        """
        if customer_id:
            result = await session.execute(_MEMBER_OF_CUSTOMER, {"phone": phone, "customer_id": customer_id})
        else:
            result = await session.execute(_MEMBERS, {"phone": phone})
        users = [Member(*row) for row in result]
        if len(users) <= 1:
            return users[0] if users else None
        active = [u for u in users if u.active] or users
        last = await session.scalar(
            sa.select(SignInAttempt.user_id)
            .where(
                SignInAttempt.phone == phone,
                SignInAttempt.result == SUCCEEDED,
                SignInAttempt.user_id.in_([u.id for u in active]),
            )
            .order_by(SignInAttempt.occurred_at.desc(), SignInAttempt.id.desc())
            .limit(1)
        )
        return next((u for u in active if u.id == last), active[0])

    @staticmethod
    async def member_by_id(session: AsyncSession, user_id: str, *, lock: bool = False) -> Member | None:
        """A user as a sign-in reads it; ``lock`` holds the row until the transaction ends."""
        row = (await session.execute(_MEMBER_BY_ID_LOCKED if lock else _MEMBER_BY_ID, {"id": user_id})).first()
        return Member(*row) if row is not None else None

    async def with_memberships(self, user_id: str) -> list[User]:
        """The user, then the other active users with their phone number, by age: one statement.

        A number may be a user of several customers (``member``); the profile lists them all. Read on the
        driver (every ``GET /v1/me``): the users come back as their columns, not as objects of a session.
        """
        users: list[User] = await self._db.direct.all(_WITH_MEMBERSHIPS, {"user_id": user_id})
        own = next((u for u in users if u.id == user_id), None)
        if own is None:
            raise NotFound("the user does not exist", reason="USER_NOT_FOUND")
        return [own, *(u for u in users if u.id != user_id)]

    async def get(self, user_id: str) -> User:
        async with self._db.sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise NotFound("the user does not exist", reason="USER_NOT_FOUND")
        return user

    async def create(
        self,
        *,
        customer_id: str,
        phone: str,
        email: str,
        display_name: str,
        password: str = "",
        request_id: str = "",
        grant_specs: Sequence[tuple[str, str]] = (),
        invite: bool = False,
        granted_by: str = "operator",
        operator_role: str | None = None,
        audited: tuple[str, Actor | None] | None = None,
    ) -> User:
        """A new user with their grants; the same ``request_id`` again returns the same user.

        With ``operator_role`` the user is operator staff: no customer, no grants. ``audited`` is the
        command's action and actor (None: the current call's) whose audit event is written with the user.
        """
        phone = normalize_msisdn(phone)
        email = normalize_email(email)
        name_problem = text_problem(display_name)
        display_name = unicodedata.normalize("NFC", display_name.strip())
        customer_id = customer_id.strip()
        violations = {}
        if name_problem:
            violations["display_name"] = name_problem
        elif not 1 <= len(display_name) <= 200:
            violations["display_name"] = "1 to 200 characters"
        if operator_role is None and not 1 <= len(customer_id) <= 64:
            violations["customer_id"] = "1 to 64 characters"
        if operator_role is not None and (customer_id or grant_specs or operator_role not in OPERATOR_ROLES):
            violations["role"] = f"one of {', '.join(OPERATOR_ROLES)}, with no customer and no grants"
        if len(request_id) > 160:
            violations["request_id"] = "at most 160 characters"
        if violations:
            raise InvalidArgument("the user is not valid", field_violations=violations)
        grants.check_specs(grant_specs)
        request_fingerprint = None
        if request_id:
            # What the key is used for; the password is left out (a fingerprint must not hash it).
            content = {
                "customer_id": customer_id,
                "phone": phone,
                "email": email,
                "display_name": display_name,
                "grants": sorted(grant_specs),
                "invite": invite,
                "operator_role": operator_role,
            }
            request_fingerprint = fingerprint("CreateUser", content)
            earlier = await self._by_request(request_id)
            if earlier is not None:
                return self._same_request(earlier, request_fingerprint, phone=phone, customer_id=customer_id)
        password_hash = None
        if password:
            self._policy.check(password, phone=phone, field="password")
            password_hash = await self._hashing.hash(password)
        now = self._clock.now()
        user = User(
            id=new_id(),
            customer_id=customer_id,
            phone=phone,
            email=email,
            display_name=display_name,
            status=ACTIVE,
            password_hash=password_hash,
            password_changed_at=now if password_hash else None,
            request_id=request_id or None,
            request_fingerprint=request_fingerprint,
            operator_role=operator_role,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._db.transaction() as session:
                # Only a number of the same customer is refused: another customer's
                # user with this number is none of the inviter's business.
                if await self.member(session, phone, customer_id=customer_id) is not None:
                    raise AlreadyExists("this phone number is already a user of the customer", reason="PHONE_TAKEN")
                session.add(user)
                await session.flush()
                records = await grants.add(
                    session,
                    user_id=user.id,
                    customer_id=customer_id,
                    specs=grant_specs,
                    granted_by=granted_by,
                    now=now,
                )
                await self._outbox.add(
                    session,
                    IdentitySubjects.USER_CREATED,
                    ev.UserCreated(
                        user_id=user.id,
                        customer_id=customer_id,
                        phone=phone,
                        email=email,
                        occurred_at=timestamp(now),
                    ),
                    tenant=customer_id,
                )
                if invite:
                    await self._notifier.sms(session, to=phone, text=self._invitation, tenant=customer_id)
                if audited is not None and self._audit is not None:
                    action, actor = audited
                    objects = [obj("user", user.id), *(obj("grant", r.id, r.node_id) for r in records)]
                    if actor is not None:
                        await self._audit.add(session, action, objects, actor=actor)
                    else:
                        await self._audit.add_for_caller(session, action, objects, customer=customer_id)
        except (IntegrityError, AlreadyExists) as exc:
            # The same request, sent twice at once: the other one won, by committing first (its number is
            # then taken when this one looks) or by failing this one's insert.
            if request_id:
                earlier = await self._by_request(request_id)
                if earlier is not None and request_fingerprint is not None:
                    return self._same_request(earlier, request_fingerprint, phone=phone, customer_id=customer_id)
            if isinstance(exc, AlreadyExists):
                raise
            raise AlreadyExists("this phone number is already a user of the customer", reason="PHONE_TAKEN") from exc
        return user

    async def _by_request(self, request_id: str) -> User | None:
        async with self._db.sessions() as session:
            user: User | None = await session.scalar(sa.select(User).where(User.request_id == request_id))
            return user

    @staticmethod
    def _same_request(earlier: User, request_fingerprint: str, *, phone: str, customer_id: str) -> User:
        """The user the key made, when this is the request it was used for (else 422 IDEMPOTENCY_KEY_REUSED)."""
        # Users made before fingerprints were kept are compared by who they are.
        stored = earlier.request_fingerprint
        if stored is None and (earlier.phone, earlier.customer_id) != (phone, customer_id):
            stored = "another user"
        check_same_request(stored, request_fingerprint, field="request_id")
        return earlier

    async def set_password(
        self, session: AsyncSession, *, user: User, new_password: str, reason: str, keep_session: str | None
    ) -> None:
        """Set a new password, end the user's other sessions, publish the change."""
        self._policy.check(new_password, phone=user.phone)
        if user.password_hash and await self._hashing.verify(user.password_hash, new_password):
            raise InvalidArgument(
                "the new password must differ from the current one",
                reason="PASSWORD_REUSED",
                field_violations={"new_password": "same as the current password"},
            )
        now = self._clock.now()
        user.password_hash = await self._hashing.hash(new_password)
        user.password_changed_at = now
        user.updated_at = now
        await self._sessions.revoke_all(session, user_id=user.id, reason="password_changed", keep=keep_session)
        await self._outbox.add(
            session,
            IdentitySubjects.PASSWORD_CHANGED,
            ev.PasswordChanged(
                user_id=user.id, customer_id=user.customer_id, reason=reason, occurred_at=timestamp(now)
            ),
            tenant=user.customer_id,
        )

    async def access_of(self, user_id: str, *, customer_id: str) -> tuple[User, list[Grant]]:
        """A customer's user as they are now, with the grants their next token would carry."""
        async with self._db.sessions() as session:
            user = await session.get(User, user_id) if is_id(user_id) else None
            if user is None or not customer_id or user.customer_id != customer_id:
                raise NotFound("the user does not exist", reason="USER_NOT_FOUND")
            return user, await grants.for_token(session, user.id)

    async def change_password(
        self,
        *,
        user_id: str,
        session_id: str,
        current_password: str,
        new_password: str,
        signed_in_by: str = "",
        signed_in_at: datetime | None = None,
    ) -> None:
        """A new password for the signed-in user: proven by the current one, or (a first password) by a fresh code.

        A user without a password (invited, ID-8) proves it is them with a code sign-in made at most
        ``FIRST_PASSWORD_WINDOW`` ago: a stolen or left-open session cannot set one.
        """
        async with self._db.transaction() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound("the user does not exist", reason="USER_NOT_FOUND")
            if user.password_hash is None and not (
                signed_in_by in CODE_METHODS
                and signed_in_at is not None
                and self._clock.now() - signed_in_at <= FIRST_PASSWORD_WINDOW
            ):
                minutes = int(FIRST_PASSWORD_WINDOW.total_seconds() // 60)
                raise PermissionDenied(
                    f"setting a first password needs a sign-in by one-time code within the last {minutes} minutes",
                    reason="FRESH_SIGN_IN_REQUIRED",
                )
            if user.password_hash is not None and not await self._hashing.verify(user.password_hash, current_password):
                raise InvalidArgument(
                    "the current password is wrong",
                    reason="PASSWORD_WRONG",
                    field_violations={"current_password": "does not match"},
                )
            await self.set_password(
                session, user=user, new_password=new_password, reason="change", keep_session=session_id
            )
            if self._audit is not None and user.customer_id:  # operator staff concern no customer
                await self._audit.add(session, PASSWORD_CHANGE, [], actor=Actor(user.id, user.customer_id))
