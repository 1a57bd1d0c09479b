"""The floor the authenticated reads are compared with: the least an HTTP read over one gRPC call can cost here.

Two processes, as the gateway and a service are::

    python -m simfleet_devstack.floor echo --port 50999            # a grpc.aio server answering what it gets
    python -m simfleet_devstack.floor app --port 8999 --target 127.0.0.1:50999

``app`` is a bare FastAPI application under uvicorn (the gateway's uvicorn
settings, no middleware, no database) whose ``GET /echo`` makes one unary
grpc.aio call to ``echo`` on one channel and answers a small JSON body. Whatever
the platform's reads cost above this is ours: middleware, authentication,
the services' handlers and their databases.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

METHOD = "/simfleet.bench.v1.Echo/Echo"
PATH = "/echo"


def _identity(request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    return request


async def serve_echo(port: int) -> None:
    """A grpc.aio server with one unary method that answers its request's bytes."""
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "simfleet.bench.v1.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_identity)}
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def create_app(target: str) -> object:
    from fastapi import FastAPI

    channel: dict[str, grpc.aio.Channel] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        channel["echo"] = grpc.aio.insecure_channel(target)
        yield
        await channel["echo"].close(None)

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(PATH)
    async def echo() -> dict[str, int]:
        call = channel["echo"].unary_unary(METHOD, None, None)
        answer: bytes = await call(b"x" * 64, timeout=5)
        return {"echoed": len(answer)}

    return app


def serve_app(port: int, target: str) -> None:
    import uvicorn

    uvicorn.run(
        create_app(target),  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        # asyncio's own loop, as the platform's processes run on: uvicorn's "auto" would take uvloop
        # wherever it happens to be installed, and the floor would then measure another loop.
        loop="asyncio",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simfleet_devstack.floor", description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    echo = sub.add_parser("echo", help="the grpc.aio echo server")
    echo.add_argument("--port", type=int, required=True)
    app = sub.add_parser("app", help="the FastAPI app calling it")
    app.add_argument("--port", type=int, required=True)
    app.add_argument("--target", required=True, help="host:port of the echo server")
    args = parser.parse_args(argv)
    if args.role == "echo":
        asyncio.run(serve_echo(args.port))
    else:
        serve_app(args.port, args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
