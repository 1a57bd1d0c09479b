"""The event loop a SIMfleet process runs on.

Every service's ``__main__`` (and the gateway's) runs its main coroutine with :func:`run`, which
takes uvloop (libuv's loop, written in Cython) instead of asyncio's pure-Python selector loop:
the same asyncio API, with less CPU spent per callback, socket read and timer. On the 2-core
machine of the benchmarks every process shares the CPUs, so what one loop saves every request's
latency gains. grpc.aio, nats-py, asyncpg, aiosqlite and uvicorn all run on it.

``SIMFLEET_EVENT_LOOP=asyncio`` chooses asyncio's own loop (to compare, or to rule the loop out
when chasing a problem); the default is ``uvloop``, and asyncio's when uvloop is not installed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

ENV = "SIMFLEET_EVENT_LOOP"
CHOICES = ("uvloop", "asyncio")


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the chosen loop (``None``: asyncio's default)."""
    choice = (choice if choice is not None else os.environ.get(ENV, "uvloop")).strip().lower() or "uvloop"
    if choice not in CHOICES:
        raise ValueError(f"{ENV} must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # a platform without uvloop's wheel: asyncio's loop does the same work
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, choice: str | None = None) -> T:
    """Runs ``main`` to its end on a new loop of the chosen kind, as :func:`asyncio.run` does."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
