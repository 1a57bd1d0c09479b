"""The event loop the services run on: uvloop by default, asyncio's when asked."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from simfleet_runtime import loop


async def _kind() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_services_run_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loop.ENV, raising=False)
    assert loop.loop_factory() is uvloop.new_event_loop
    assert loop.run(_kind()) == "uvloop"


def test_asyncio_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(loop.ENV, "asyncio")
    assert loop.loop_factory() is None
    assert loop.run(_kind()) == "asyncio"
    assert loop.run(_kind(), choice=" UVLOOP ") == "uvloop"


def test_an_unknown_loop_is_refused_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(loop.ENV, "tokio")
    main = _kind()
    with pytest.raises(ValueError, match="SIMFLEET_EVENT_LOOP must be one of uvloop, asyncio, not 'tokio'"):
        loop.run(main)
    main.close()
