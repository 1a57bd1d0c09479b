"""Users' preferences (which kinds by which channel, in which language) and the copy of identity's users.

A user's preferences are read and written by the user alone (the gRPC API
takes the user from the access token). Saving names the kinds to change; the
others keep what they had; the defaults (:func:`notifications.catalogue.default_choices`)
hold until the first save.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.catalogue import CHANNELS, KINDS, LANGUAGES, default_choices
from notifications.preferences.models import Preference, User
from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.bus import Event, PermanentError
from simfleet_runtime.clock import Clock
from simfleet_runtime.db import Database, insert_ignoring_conflicts
from simfleet_runtime.errors import InvalidArgument
from simfleet_subjects import IdentitySubjects


@dataclass(frozen=True, slots=True)
class Choices:
    """A user's preferences as they hold now (``saved`` False: the defaults)."""

    language: str
    channels: Mapping[str, tuple[str, ...]]
    saved: bool

    def wants(self, kind: str) -> tuple[str, ...]:
        return self.channels.get(kind, ())


def _complete(stored: Mapping[str, object] | None) -> dict[str, tuple[str, ...]]:
    """Every kind of the catalogue, with what was stored for it (a kind added later: its defaults)."""
    choices = default_choices()
    for kind, channels in (stored or {}).items():
        if kind in choices and isinstance(channels, list):
            choices[kind] = [c for c in KINDS[kind].channels if c in channels]
    return {kind: tuple(channels) for kind, channels in choices.items()}


def check_update(choices: Sequence[tuple[str, Sequence[str]]], language: str) -> None:
    """Refuse unknown kinds, channels and languages, and a kind named twice, naming every bad field."""
    violations: dict[str, str] = {}
    seen: set[str] = set()
    for index, (kind, channels) in enumerate(choices):
        if kind not in KINDS:
            violations[f"choices[{index}].kind"] = f"one of {', '.join(KINDS)}"
        elif kind in seen:
            violations[f"choices[{index}].kind"] = "named more than once"
        seen.add(kind)
        allowed = KINDS[kind].channels if kind in KINDS else CHANNELS
        for position, channel in enumerate(channels):
            if channel not in allowed:
                violations[f"choices[{index}].channels[{position}]"] = f"one of {', '.join(allowed)}"
        if len(set(channels)) != len(channels):
            violations.setdefault(f"choices[{index}].channels", "a channel named more than once")
    if language and language not in LANGUAGES:
        violations["language"] = f"one of {', '.join(LANGUAGES)}"
    if violations:
        raise InvalidArgument(
            "the preferences are not valid", reason="INVALID_PREFERENCES", field_violations=violations
        )


class Preferences:
    def __init__(self, *, db: Database, clock: Clock, default_language: str) -> None:
        self._db = db
        self._clock = clock
        self._default_language = default_language

    def _of(self, row: Preference | None) -> Choices:
        if row is None:
            return Choices(self._default_language, _complete(None), saved=False)
        return Choices(row.language, _complete(row.choices), saved=True)

    async def get(self, user_id: str) -> Choices:
        async with self._db.sessions() as session:
            return self._of(await session.get(Preference, user_id))

    async def of_users(self, session: AsyncSession, user_ids: Iterable[str]) -> dict[str, Choices]:
        """Every named user's preferences (the defaults for those who saved none)."""
        ids = list(dict.fromkeys(user_ids))
        rows = {
            row.user_id: row
            for row in (await session.scalars(sa.select(Preference).where(Preference.user_id.in_(ids)))).all()
        }
        return {user_id: self._of(rows.get(user_id)) for user_id in ids}

    async def choosing(self, session: AsyncSession, customer_id: str, kind: str) -> list[str]:
        """The customer's users who would hear of ``kind``: those who chose it, and (if it is on by default)
        those who never saved preferences."""
        saved = (
            await session.execute(
                sa.select(Preference.user_id, Preference.choices).where(Preference.customer_id == customer_id)
            )
        ).all()
        users = [user_id for user_id, choices in saved if _complete(choices).get(kind)]
        if KINDS[kind].default_channels:
            savers = sa.select(Preference.user_id).where(Preference.customer_id == customer_id)
            users += list(
                await session.scalars(
                    sa.select(User.user_id).where(User.customer_id == customer_id, User.user_id.not_in(savers))
                )
            )
        return users

    async def update(
        self, *, user_id: str, customer_id: str, choices: Sequence[tuple[str, Sequence[str]]], language: str
    ) -> Choices:
        check_update(choices, language)
        async with self._db.transaction() as session:
            row = await session.get(Preference, user_id, with_for_update=True)
            current = self._of(row)
            merged = {kind: list(channels) for kind, channels in current.channels.items()}
            for kind, channels in choices:
                merged[kind] = [c for c in CHANNELS if c in channels]
            chosen_language = language or current.language
            if row is None:
                row = Preference(
                    user_id=user_id,
                    customer_id=customer_id,
                    language=chosen_language,
                    choices=merged,
                    updated_at=self._clock.now(),
                )
                session.add(row)
            else:
                row.choices = merged
                row.language = chosen_language
                row.updated_at = self._clock.now()
            await session.flush()
            return self._of(row)


class Directory:
    """notifications' copy of identity's users: where their notices go, and whether they are active."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def handle(self, session: AsyncSession, event: Event) -> None:
        try:
            if event.subject == IdentitySubjects.USER_CREATED:
                created = ev.UserCreated.FromString(event.data)
                row = await session.get(User, created.user_id)
                if row is None:
                    session.add(
                        User(
                            user_id=created.user_id,
                            customer_id=created.customer_id,
                            phone=created.phone,
                            email=created.email,
                            active=True,
                            updated_at=self._clock.now(),
                        )
                    )
                else:
                    row.phone, row.email, row.updated_at = created.phone, created.email, self._clock.now()
            elif event.subject in (IdentitySubjects.USER_DISABLED, IdentitySubjects.USER_ENABLED):
                message = (
                    ev.UserDisabled if event.subject == IdentitySubjects.USER_DISABLED else ev.UserEnabled
                ).FromString(event.data)
                await session.execute(
                    sa.update(User)
                    .where(User.user_id == message.user_id)
                    .values(active=event.subject == IdentitySubjects.USER_ENABLED, updated_at=self._clock.now())
                )
        except ValueError as exc:  # DecodeError is a ValueError
            raise PermanentError(f"not a {event.subject} message") from exc

    @staticmethod
    async def learn(session: AsyncSession, *, user_id: str, customer_id: str, phone: str, now: datetime) -> None:
        """A user known from their own sign-in, until ``user.created`` tells the rest (their email)."""
        await session.execute(
            insert_ignoring_conflicts(session, User.__table__),  # type: ignore[arg-type]
            {
                "user_id": user_id,
                "customer_id": customer_id,
                "phone": phone,
                "email": "",
                "active": True,
                "updated_at": now,
            },
        )

    @staticmethod
    async def users(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, User]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        rows = await session.scalars(sa.select(User).where(User.user_id.in_(ids)))
        return {row.user_id: row for row in rows}
