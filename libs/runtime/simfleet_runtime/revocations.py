"""Tokens that stopped counting before they expire: ended sessions, disabled users, changed grants.

An access token is valid for its whole lifetime wherever it is verified. When
identity ends a session (sign-out, a reused refresh token, a password change)
or disables a user, it publishes ``simfleet.identity.session.revoked`` or
``simfleet.identity.user.disabled``; when what a user's grants mean changes (a
grant added or removed, a custom role they hold edited, a node they held a
grant over deleted) it publishes ``simfleet.identity.user.grants_revised`` with
the user's new grants version. Every service follows those subjects with
ordered (ephemeral) consumers starting one token lifetime in the past, and
refuses a token whose session or user it has heard of, or whose grants version
(claim ``gv``) is older than the latest it has heard of: the caller refreshes
and gets a token with the grants as they are now. Nothing needs to be stored:
a revocation older than the longest token lifetime concerns only tokens that
have expired anyway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import DecodeError
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from simfleet.events.v1 import identity_pb2 as ev
from simfleet_runtime.auth import Principal
from simfleet_runtime.errors import Unauthenticated
from simfleet_subjects import IdentitySubjects

log = logging.getLogger(__name__)

SESSION_REVOKED = IdentitySubjects.SESSION_REVOKED
USER_DISABLED = IdentitySubjects.USER_DISABLED
USER_ENABLED = IdentitySubjects.USER_ENABLED
GRANTS_REVISED = IdentitySubjects.GRANTS_REVISED
GRANTS_VERSION_CLAIM = "gv"
"""The user's grants version when the token was issued (a later change of their grants makes it stale)."""


class Revocations:
    def __init__(self, *, token_lifetime_seconds: float = 600.0, margin_seconds: float = 60.0) -> None:
        self._keep = token_lifetime_seconds + margin_seconds
        self._sessions: dict[str, float] = {}
        self._users: dict[str, float] = {}
        self._versions: dict[str, tuple[int, float]] = {}
        self.ready = asyncio.Event()
        """Set once the feed is subscribed (and so has the revocations of the last token lifetime)."""

    # ------------------------------------------------------------ deciding
    def check(self, principal: Principal) -> None:
        if principal.session_id in self._sessions or principal.user_id in self._users:
            raise Unauthenticated("the session has ended; sign in again", reason="SESSION_ENDED")
        latest = self._versions.get(principal.user_id)
        if latest is not None and _version(principal) < latest[0]:
            raise Unauthenticated(
                "your access has changed since this token was issued; refresh it", reason="GRANTS_CHANGED"
            )

    def session_revoked(self, session_id: str) -> None:
        self._sessions[session_id] = time.monotonic()

    def user_disabled(self, user_id: str) -> None:
        self._users[user_id] = time.monotonic()

    def grants_revised(self, user_id: str, version: int) -> None:
        known = self._versions.get(user_id)
        if known is None or version >= known[0]:
            self._versions[user_id] = (version, time.monotonic())

    def user_enabled(self, user_id: str) -> None:
        # Their sessions were revoked when they were disabled: old tokens stay refused.
        self._users.pop(user_id, None)

    def forget_old(self) -> None:
        horizon = time.monotonic() - self._keep
        for table in (self._sessions, self._users):
            for key in [k for k, at in table.items() if at < horizon]:
                del table[key]
        for key in [k for k, (_, at) in self._versions.items() if at < horizon]:
            del self._versions[key]

    # ------------------------------------------------------------ following identity
    def _on(self, subject: str) -> Callable[[Any], Any]:
        async def handle(msg: Any) -> None:
            try:
                if subject == SESSION_REVOKED:
                    self.session_revoked(ev.SessionRevoked.FromString(msg.data).session_id)
                elif subject == GRANTS_REVISED:
                    revised = ev.GrantsRevised.FromString(msg.data)
                    self.grants_revised(revised.user_id, revised.grants_version)
                elif subject == USER_DISABLED:
                    self.user_disabled(ev.UserDisabled.FromString(msg.data).user_id)
                else:
                    self.user_enabled(ev.UserEnabled.FromString(msg.data).user_id)
            except DecodeError:
                log.warning("ignoring a malformed %s message", subject)

        return handle

    async def follow(self, nats: Callable[[], Client | None], stop: asyncio.Event) -> None:
        """Subscribe once NATS is connected and keep following until ``stop``; resubscribe after failures."""
        while not stop.is_set():
            client = nats()
            if client is None or not client.is_connected:
                await _wait(stop, 0.2)
                continue
            subscriptions = []
            try:
                js = client.jetstream()
                since = datetime.now(UTC) - timedelta(seconds=self._keep)
                for subject in (SESSION_REVOKED, USER_DISABLED, USER_ENABLED, GRANTS_REVISED):
                    subscriptions.append(
                        await js.subscribe(
                            subject,
                            cb=self._on(subject),
                            ordered_consumer=True,
                            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since),
                        )
                    )
                self.ready.set()
                while not stop.is_set() and client.is_connected:
                    self.forget_old()
                    await _wait(stop, 5.0)
            except Exception as exc:  # noqa: BLE001 - the stream may not exist yet; NATS may be restarting
                log.info("revocation feed: %s; retrying", exc)
                await _wait(stop, 1.0)
            finally:
                for subscription in subscriptions:
                    try:
                        await subscription.unsubscribe()
                    except Exception:
                        log.debug("unsubscribe failed", exc_info=True)


def _version(principal: Principal) -> int:
    value = principal.claims.get(GRANTS_VERSION_CLAIM, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return


__all__ = ["GRANTS_REVISED", "GRANTS_VERSION_CLAIM", "SESSION_REVOKED", "USER_DISABLED", "USER_ENABLED", "Revocations"]
