"""An operation followed as Server-Sent Events: the gateway polls inventory and tells what changed.

The stream (``text/event-stream``) is:

* ``event: progress`` with the operation's JSON, once at the start and then
  whenever the operation changes (counts, state, cancel_requested...);
* ``event: finished`` with the final operation, once it is completed,
  completed_with_errors, failed or cancelled; then the stream ends (a client
  following it should close its EventSource on ``finished``);
* ``event: error`` with a problem (RFC 9457 JSON) if inventory fails to answer
  while the stream runs; then the stream ends;
* a comment line (``: keep-alive``) whenever nothing was sent for a while, so
  that proxies keep the connection open.

Every event has an ``id:``, a digest of the operation it carries, and the
stream opens with ``retry:`` (how long a browser's EventSource waits before
reconnecting). A browser reconnecting sends the last id it saw as
``Last-Event-ID``: when the operation has not changed since, the opening
``progress`` is not sent again, so a client resumes where it was.

The stream also ends when the client goes away and, at the latest, after
``operation_events_max_seconds``: the client reconnects to go on following.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from gateway.operations.schemas import OperationResponse
from gateway.problems import ProblemError, problem_body
from gateway.upstream.errors import problem_from_rpc_error
from simfleet.inventory.v1 import operations_pb2 as pb

KEEP_ALIVE = b": keep-alive\n\n"
TIME_UP = b": the stream's time is up; reconnect to follow the operation on\n\n"


RETRY_MILLISECONDS = 3000
"""What the stream tells an EventSource to wait before reconnecting."""


def event_id(data: str) -> str:
    """The id of the event carrying ``data``: the same operation state, the same id."""
    return hashlib.sha256(data.encode()).hexdigest()[:20]


def sse(event: str, data: str) -> bytes:
    """One event; ``data`` is one line of JSON (a multi-line payload would need one data: line each)."""
    return f"event: {event}\nid: {event_id(data)}\ndata: {data}\n\n".encode()


@dataclass(frozen=True)
class StreamLimits:
    poll_seconds: float
    keepalive_seconds: float
    max_seconds: float


async def operation_events(
    first: OperationResponse,
    fetch: Callable[[], Awaitable[pb.GetOperationResponse]],
    *,
    limits: StreamLimits,
    disconnected: Callable[[], Awaitable[bool]],
    instance: str,
    request_id: str,
    last_event_id: str = "",
) -> AsyncIterator[bytes]:
    """The events of one operation, from ``first`` (already fetched, so that a 404 is a normal answer) to its end.

    ``last_event_id``: what a reconnecting client saw last; the opening state is skipped when it is that.
    """
    clock = time.monotonic
    ends_at = clock() + limits.max_seconds
    current = first
    sent = current.model_dump_json()
    opening = f"retry: {RETRY_MILLISECONDS}\n\n".encode()
    if not (last_event_id and last_event_id == event_id(sent) and not current.finished):
        opening += sse("progress", sent)
    yield opening
    last_sent = clock()
    while not current.finished:
        pause = min(limits.poll_seconds, max(0.0, ends_at - clock()))
        await asyncio.sleep(pause)
        if clock() >= ends_at:
            yield TIME_UP
            return
        if await disconnected():
            return
        try:
            current = OperationResponse.from_proto((await fetch()).operation)
        except (grpc.aio.AioRpcError, ProblemError) as exc:
            error = problem_from_rpc_error(exc, bearer_sent=True) if isinstance(exc, grpc.aio.AioRpcError) else exc
            problem: dict[str, Any] = problem_body(error, instance=instance, request_id=request_id)
            yield sse("error", json.dumps(problem, separators=(",", ":")))
            return
        latest = current.model_dump_json()
        if current.finished:
            break
        if latest != sent:
            sent = latest
            yield sse("progress", sent)
            last_sent = clock()
        elif clock() - last_sent >= limits.keepalive_seconds:
            yield KEEP_ALIVE
            last_sent = clock()
    yield sse("finished", current.model_dump_json())
