"""The sign-in flows: one-time code, password, forgotten password.

Each flow runs in one transaction that records the attempt (and, on success,
opens the session and, for operator staff, queues the "you signed in" SMS: a
customer's user hears of the sign-in from notifications, which consumes its
``sign_in.recorded``, unless ``IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS`` is off). A refused attempt still
commits what it must keep (the counted wrong code, the counted failure, the
recorded attempt) and then raises. Failures are throttled per number and
client address, with a ceiling per number (``identity.signins.throttle``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from identity.notifications.service import Notifier
from identity.otp import models as otp_models
from identity.otp.service import Issued, OtpService
from identity.sessions.service import SessionService, Tokens
from identity.signins import models as signin
from identity.signins.service import SignInHistory
from identity.signins.throttle import CODE, PASSWORD, SignInThrottles, client_key
from identity.users.models import SignInUser, User
from identity.users.passwords import PasswordHashing
from identity.users.service import UserService
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import CallContext
from simfleet_runtime.db import Database
from simfleet_runtime.errors import (
    DomainError,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from simfleet_runtime.validation import normalize_msisdn

_RESULT_BY_REASON = {
    "OTP_EXPIRED": signin.CODE_EXPIRED,
    "OTP_LOCKED": signin.LOCKED,
}


def _channel(value: str) -> str:
    if value not in (otp_models.SMS, otp_models.EMAIL):
        raise InvalidArgument(
            "the channel must be sms or email", reason="INVALID_CHANNEL", field_violations={"channel": "sms or email"}
        )
    return value


def _customer(value: str) -> str:
    """The customer a sign-in asks to enter; empty for the number's default."""
    value = value.strip()
    if len(value) > 64 or not value.isprintable():
        raise InvalidArgument(
            "the customer is not valid",
            reason="INVALID_ARGUMENT",
            field_violations={"customer_id": "at most 64 printable characters"},
        )
    return value


class SignInService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        users: UserService,
        otp: OtpService,
        sessions: SessionService,
        history: SignInHistory,
        notifier: Notifier,
        hashing: PasswordHashing,
        throttles: SignInThrottles,
        known_client_window: timedelta,
        sign_in_sms_by_notifications: bool = True,
    ) -> None:
        self._db = db
        self._clock = clock
        self._users = users
        self._otp = otp
        self._sessions = sessions
        self._history = history
        self._notifier = notifier
        self._hashing = hashing
        self._throttles = throttles
        self._known_client_window = known_client_window
        self._sign_in_sms_by_notifications = sign_in_sms_by_notifications

    async def start_otp(
        self, *, phone: str, channel: str, purpose: str, call: CallContext, customer_id: str = ""
    ) -> Issued:
        phone = normalize_msisdn(phone)
        channel = _channel(channel)
        customer_id = _customer(customer_id)
        async with self._db.transaction() as session:
            user = await self._users.member(session, phone, customer_id=customer_id)
            known = await self._known_client(session, phone=phone, call=call)
            return await self._otp.issue(
                session, phone=phone, user=user, channel=channel, purpose=purpose, call=call, known_client=known
            )

    async def _known_client(self, session: AsyncSession, *, phone: str, call: CallContext) -> bool:
        """Whether the number signed in from the caller's address lately (an empty address is never known)."""
        if not call.client_address:
            return False
        return await self._history.signed_in_from(
            session, phone=phone, client=call.client_address, since=self._known_client_window
        )

    async def verify_otp(self, *, challenge_id: str, code: str, call: CallContext) -> Tokens:
        return await self._with_code(challenge_id=challenge_id, code=code, new_password=None, call=call)

    async def confirm_password_reset(
        self, *, challenge_id: str, code: str, new_password: str, call: CallContext
    ) -> Tokens:
        return await self._with_code(challenge_id=challenge_id, code=code, new_password=new_password, call=call)

    async def _with_code(self, *, challenge_id: str, code: str, new_password: str | None, call: CallContext) -> Tokens:
        if not (len(code) == 6 and code.isdigit()):
            raise InvalidArgument(
                "the code is 6 digits", reason="INVALID_CODE_FORMAT", field_violations={"code": "6 digits"}
            )
        purpose = otp_models.SIGN_IN if new_password is None else otp_models.PASSWORD_RESET
        await self._sessions.prepare()
        failure: DomainError | None = None
        tokens: Tokens | None = None
        client = client_key(call.client_address)
        async with self._db.transaction() as session:
            pending = await self._otp.pending(session, challenge_id)
            counted = False
            if pending is not None:
                # A number's ceiling of wrong codes binds only the addresses it has not signed in from.
                known = await self._known_client(session, phone=pending.phone, call=call)
                if self._throttles.can_refuse(factor=CODE, account_wide=not known):
                    try:
                        await self._throttles.check(
                            session, factor=CODE, phone=pending.phone, client=client, account_wide=True, lock=True
                        )
                    except ResourceExhausted as exc:
                        failure = exc
            if failure is None:
                refusal = await self._otp.verify(session, challenge=pending, code=code, purpose=purpose)
                if refusal is not None:
                    failure, counted = refusal.error, refusal.counted
            if failure is not None:
                if pending is not None:
                    if counted:
                        await self._throttles.failed(session, factor=CODE, phone=pending.phone, client=client)
                    user = await self._users.member_by_id(session, pending.user_id) if pending.user_id else None
                    result = signin.LOCKED if isinstance(failure, ResourceExhausted) else None
                    await self._history.record(
                        session,
                        phone=pending.phone,
                        user=user,
                        method=self._method(pending.channel, purpose),
                        result=result or _RESULT_BY_REASON.get(failure.reason, signin.BAD_CREDENTIALS),
                        call=call,
                    )
            else:
                assert pending is not None and pending.user_id is not None
                method = self._method(pending.channel, purpose)
                member: SignInUser | None
                if new_password is None:
                    member = await self._users.member_by_id(session, pending.user_id, lock=True)
                else:
                    member = await session.get(User, pending.user_id, with_for_update=True)
                assert member is not None
                if not member.active:
                    failure = PermissionDenied("the user is disabled", reason="USER_DISABLED")
                    await self._history.record(
                        session, phone=member.phone, user=member, method=method, result=signin.USER_DISABLED, call=call
                    )
                else:
                    if isinstance(member, User) and new_password is not None:
                        await self._users.set_password(
                            session, user=member, new_password=new_password, reason="reset", keep_session=None
                        )
                    tokens = await self._succeed(session, user=member, method=method, call=call)
        if failure is not None:
            raise failure
        assert tokens is not None
        return tokens

    @staticmethod
    def _method(channel: str, purpose: str) -> str:
        if purpose == otp_models.PASSWORD_RESET:
            return signin.PASSWORD_RESET
        return signin.OTP_EMAIL if channel == otp_models.EMAIL else signin.OTP_SMS

    async def _succeed(self, session: AsyncSession, *, user: SignInUser, method: str, call: CallContext) -> Tokens:
        await self._throttles.succeeded(session, phone=user.phone, client=client_key(call.client_address))
        await self._history.record(
            session, phone=user.phone, user=user, method=method, result=signin.SUCCEEDED, call=call
        )
        tokens = await self._sessions.open(session, user=user, method=method, call=call)
        if user.customer_id and self._sign_in_sms_by_notifications:
            return tokens  # notifications tells a customer's user (ID-7 through NO-1's sign_in kind)
        when = self._clock.now().strftime("%Y-%m-%d %H:%M UTC")
        where = f" from {call.client_address}" if call.client_address else ""
        await self._notifier.sms(
            session,
            to=user.phone,
            text=f"SIMfleet: you signed in on {when}{where}. Not you? Change your password now.",
            tenant=user.customer_id,
        )
        return tokens

    async def password(self, *, phone: str, password: str, call: CallContext, customer_id: str = "") -> Tokens:
        phone = normalize_msisdn(phone)
        customer_id = _customer(customer_id)
        if not password or len(password) > 1024:
            raise InvalidArgument("a password is required", field_violations={"password": "1 to 1024 characters"})
        await self._sessions.prepare()
        client = client_key(call.client_address)
        # The hash is checked outside the write transaction: argon2id takes tens
        # of milliseconds that must not hold the database's write lock. A
        # throttled attempt checks no password, known number or not.
        async with self._db.sessions() as session:
            refusal = await self._password_throttled(session, phone=phone, client=client, lock=False)
            known = await self._users.member(session, phone, customer_id=customer_id)
            checked_hash = known.password_hash if known else None
        matches = refusal is None and await self._hashing.verify(checked_hash, password)
        failure: DomainError | None = None
        tokens: Tokens | None = None
        async with self._db.transaction() as session:
            user = await self._users.member(session, phone, customer_id=customer_id)
            if refusal is None:
                # Failures committed while the hash was checked count too.
                refusal = await self._password_throttled(session, phone=phone, client=client, lock=True)
            if refusal is not None:
                await self._history.record(
                    session, phone=phone, user=user, method=signin.PASSWORD, result=signin.LOCKED, call=call
                )
                failure = refusal
            elif not matches or user is None or user.password_hash != checked_hash:
                await self._history.record(
                    session, phone=phone, user=user, method=signin.PASSWORD, result=signin.BAD_CREDENTIALS, call=call
                )
                await self._throttles.failed(session, factor=PASSWORD, phone=phone, client=client)
                failure = Unauthenticated("the phone number or the password is wrong", reason="BAD_CREDENTIALS")
            elif not user.active:
                await self._history.record(
                    session, phone=phone, user=user, method=signin.PASSWORD, result=signin.USER_DISABLED, call=call
                )
                await self._throttles.failed(session, factor=PASSWORD, phone=phone, client=client)
                failure = Unauthenticated("the phone number or the password is wrong", reason="BAD_CREDENTIALS")
            else:
                tokens = await self._succeed(session, user=user, method=signin.PASSWORD, call=call)
        if failure is not None:
            raise failure
        assert tokens is not None
        return tokens

    async def _password_throttled(
        self, session: AsyncSession, *, phone: str, client: str, lock: bool
    ) -> ResourceExhausted | None:
        try:
            await self._throttles.check(
                session, factor=PASSWORD, phone=phone, client=client, account_wide=True, lock=lock
            )
        except ResourceExhausted as refusal:
            return refusal
        return None
