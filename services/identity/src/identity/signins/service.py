"""Recording and listing sign-in attempts."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from identity import metrics
from identity.signins.models import SUCCEEDED, SignInAttempt
from identity.users.models import SignInUser
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime import paging
from simfleet_runtime.bus import Outbox
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import CallContext
from simfleet_runtime.db import Database
from simfleet_runtime.ids import new_id
from simfleet_runtime.timestamps import timestamp
from simfleet_subjects import IdentitySubjects

NEWEST_FIRST = paging.Order("id", descending=True)
LIST_NAME = "sign-ins"


_ATTEMPTS: sa.Table = SignInAttempt.__table__  # type: ignore[assignment]
_INSERT_ATTEMPT = sa.insert(_ATTEMPTS)
"""Every sign-in attempt is one insert, built once (the values go as parameters)."""

_SIGNED_IN_FROM = (
    sa.select(_ATTEMPTS.c.id)
    .where(
        _ATTEMPTS.c.phone == sa.bindparam("phone"),
        _ATTEMPTS.c.occurred_at >= sa.bindparam("since", type_=_ATTEMPTS.c.occurred_at.type),
        _ATTEMPTS.c.client_address == sa.bindparam("client"),
        _ATTEMPTS.c.result == SUCCEEDED,
    )
    .limit(1)
)
"""A successful sign-in of a number from an address since a time (asked on every code sign-in): built once."""


class SignInHistory:
    def __init__(self, *, db: Database, clock: Clock, outbox: Outbox) -> None:
        self._db = db
        self._clock = clock
        self._outbox = outbox

    async def record(
        self,
        session: AsyncSession,
        *,
        phone: str,
        user: SignInUser | None,
        method: str,
        result: str,
        call: CallContext,
    ) -> str:
        """Write the attempt and its event (one insert each, in the caller's transaction); returns its id."""
        now = self._clock.now()
        attempt_id = new_id()
        user_id = user.id if user else None
        customer_id = user.customer_id if user else ""
        await session.execute(
            _INSERT_ATTEMPT,
            {
                "id": attempt_id,
                "user_id": user_id,
                "customer_id": customer_id,
                "phone": phone,
                "method": method,
                "result": result,
                "client_address": call.client_address,
                "user_agent": call.user_agent,
                "occurred_at": now,
            },
        )
        metrics.SIGN_INS.labels(method, result).inc()
        await self._outbox.add(
            session,
            IdentitySubjects.SIGN_IN_RECORDED,
            ev.SignInRecorded(
                attempt_id=attempt_id,
                user_id=user_id or "",
                customer_id=customer_id,
                method=method,
                result=result,
                client_address=call.client_address,
                user_agent=call.user_agent,
                occurred_at=timestamp(now),
                phone=user.phone if user is not None and result == SUCCEEDED else "",
            ),
            tenant=customer_id,
            event_id=attempt_id,
        )
        return attempt_id

    async def signed_in_from(self, session: AsyncSession, *, phone: str, client: str, since: timedelta) -> bool:
        """Whether ``phone`` signed in successfully from the client address ``client`` within ``since``."""
        found = await session.scalar(
            _SIGNED_IN_FROM, {"phone": phone, "client": client, "since": self._clock.now() - since}
        )
        return found is not None

    async def list_for_user(self, *, user_id: str, page_size: int, page_token: str) -> tuple[list[SignInAttempt], str]:
        """The user's attempts, newest first (ids grow with time), paged like every other list."""
        size = paging.page_size(page_size, default=50, maximum=200)
        after = paging.decode_token(page_token, NEWEST_FIRST, list_name=LIST_NAME, size=1)
        query = paging.keyset(
            sa.select(SignInAttempt).where(SignInAttempt.user_id == user_id),
            [SignInAttempt.id],
            order=NEWEST_FIRST,
            after=after,
            limit=size,
        )
        async with self._db.sessions() as session:
            rows = list((await session.scalars(query)).all())
        return paging.next_token(rows, order=NEWEST_FIRST, limit=size, key=lambda a: [a.id], list_name=LIST_NAME)
