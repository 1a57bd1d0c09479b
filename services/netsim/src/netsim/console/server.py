"""Serving the console with uvicorn inside the service's own event loop.

The runtime owns the process's signals, so the embedded server never installs
its own handlers; it stops when the runtime's stop event fires. The socket is
bound before uvicorn starts so that a taken port is an ordinary ``OSError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ConsoleServer:
    def __init__(self, app: FastAPI, *, host: str, port: int, grace_seconds: float = 5.0) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._grace = grace_seconds
        self._socket: socket.socket | None = None
        self._bound = asyncio.Event()

    @property
    def port(self) -> int:
        """The port it listens on (the real one when configured with 0)."""
        if self._socket is None:
            return self._port
        return int(self._socket.getsockname()[1])

    async def wait_bound(self) -> None:
        await self._bound.wait()

    async def run(self, stop: asyncio.Event) -> None:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        self._socket = socket.create_server((self._host, self._port), family=family)
        config = uvicorn.Config(
            self._app,
            host=self._host,
            port=self.port,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=max(1, round(self._grace)),
        )
        server = _EmbeddedServer(config)

        async def stop_when_asked() -> None:
            await stop.wait()
            server.should_exit = True

        watcher = asyncio.create_task(stop_when_asked(), name="console-stop")
        self._bound.set()
        log.info("console listening", extra={"http_host": self._host, "http_port": self.port})
        try:
            await server.serve(sockets=[self._socket])
        finally:
            watcher.cancel()
            self._socket.close()
            log.info("console stopped")
