"""Connecting to NATS and declaring streams.

Every stream has one owner: the service whose subjects it holds declares it at
start-up (idempotently: added when missing, updated when it exists).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: list[str]
    work_queue: bool = False
    max_age_seconds: float = 7 * 24 * 3600
    duplicate_window_seconds: float = 120
    max_bytes: int = -1
    """The most the stream keeps (the oldest messages go first); -1: no limit but the age."""
    replicas: int = 1
    description: str = ""
    extra_subjects: list[str] = field(default_factory=list)

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description or None,
            subjects=[*self.subjects, *self.extra_subjects],
            retention=RetentionPolicy.WORK_QUEUE if self.work_queue else RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age_seconds,
            max_bytes=self.max_bytes,
            duplicate_window=self.duplicate_window_seconds,
            num_replicas=self.replicas,
        )


async def connect_nats(url: str, *, name: str, stop: asyncio.Event | None = None) -> Client:
    """Connect, retrying until the server answers (or ``stop`` is set); reconnects forever after."""

    async def disconnected() -> None:
        log.warning("nats disconnected")

    async def reconnected() -> None:
        log.info("nats reconnected")

    async def error(exc: Exception) -> None:
        log.debug("nats client error: %s", exc)

    options: dict[str, Any] = {
        "name": name,
        "connect_timeout": 2,
        "reconnect_time_wait": 0.5,
        "max_reconnect_attempts": -1,
        "ping_interval": 5,
        "max_outstanding_pings": 3,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
        "error_cb": error,
    }
    delay = 0.2
    while True:
        client = Client()
        # With max_reconnect_attempts=-1 the first connect itself waits for the
        # server forever, so it is raced against ``stop``.
        attempt = asyncio.ensure_future(client.connect(url, **options))
        stopped = asyncio.ensure_future(stop.wait()) if stop is not None else None
        try:
            await asyncio.wait([f for f in (attempt, stopped) if f is not None], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            attempt.cancel()
            raise
        finally:
            if stopped is not None:
                stopped.cancel()
        if not attempt.done():
            attempt.cancel()
            await asyncio.wait([attempt])
            if not attempt.cancelled():
                attempt.exception()  # retrieved: the client is closed below either way
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 1.0)
            raise ConnectionError(f"stopped before NATS at {url} was reachable")
        try:
            attempt.result()
        except Exception as exc:
            if stop is not None and stop.is_set():
                raise
            log.warning("nats not reachable yet at %s: %s", url, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        return client


async def ensure_streams(js: JetStreamContext, specs: list[StreamSpec]) -> None:
    for spec in specs:
        config = spec.config()
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream created", extra={"stream": spec.name})
        else:
            await js.update_stream(config)
