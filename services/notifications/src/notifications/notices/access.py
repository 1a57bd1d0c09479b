"""What a user may read now, asked of identity (``GetUserAccess`` with the operator key) and kept briefly.

A notice about a line, an operation, an account or a ticket goes only to users
whose grants cover its node and carry the kind's permission there. Their
grants are identity's: notifications asks, keeps the answer
``NOTIFICATIONS_ACCESS_CACHE_SECONDS``, and forgets it at once when identity
says the user's grants changed or the user was disabled (the same feed that
revokes tokens).
"""

from __future__ import annotations

from typing import Any

from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.bus import Event
from simfleet_runtime.clock import Clock
from simfleet_runtime.user_access import IdentityUserAccess, UserAccess, UserAccessSource
from simfleet_subjects import IdentitySubjects

AccessSource = UserAccessSource
IdentityAccess = IdentityUserAccess
"""identity's answer (:mod:`simfleet_runtime.user_access`), the source :class:`CachedAccess` keeps in front of."""


class CachedAccess:
    """An :class:`AccessSource` in front of another, its answers kept ``seconds``."""

    def __init__(self, source: AccessSource, *, clock: Clock, seconds: float) -> None:
        self._source = source
        self._clock = clock
        self._seconds = seconds
        self._kept: dict[tuple[str, str], tuple[float, UserAccess]] = {}

    async def access(self, customer_id: str, user_id: str) -> UserAccess:
        key = (customer_id, user_id)
        now = self._clock.now().timestamp()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        found = await self._source.access(customer_id, user_id)
        if self._seconds > 0:
            if len(self._kept) > 50_000:
                self._kept.clear()
            self._kept[key] = (now + self._seconds, found)
        return found

    def forget(self, user_id: str) -> None:
        for key in [k for k in self._kept if k[1] == user_id]:
            del self._kept[key]

    def on_identity_event(self, event: Event) -> None:
        """A change of the user's grants or status: their access is asked again next time."""
        kinds: dict[str, Any] = {
            IdentitySubjects.GRANTS_REVISED: ev.GrantsRevised,
            IdentitySubjects.USER_DISABLED: ev.UserDisabled,
            IdentitySubjects.USER_ENABLED: ev.UserEnabled,
        }
        message_type = kinds.get(event.subject)
        if message_type is None:
            return
        try:
            self.forget(message_type.FromString(event.data).user_id)
        except ValueError:
            return
