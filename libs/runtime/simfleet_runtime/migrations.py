"""Alembic, driven from code.

Each service keeps ``migrations/`` (Alembic's script folder) beside its
``src/``. Its ``env.py`` is three lines that call :func:`run_env`. Migrations run
at start-up in local mode (``migrate_on_start``) and by the service's
``migrate`` command in a cluster (a Helm pre-install/upgrade hook).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

log = logging.getLogger(__name__)


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; call it in a thread from async code)."""
    command.upgrade(alembic_config(script_location, database_url), revision)


async def upgrade_async(script_location: Path, database_url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, script_location, database_url, revision)


def at_head(script_location: Path, database_url: str) -> bool:
    """Whether the database's schema is at the head revision of ``script_location`` (blocking)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(script_location, database_url)).get_current_head()

    async def current() -> tuple[str, ...]:
        engine = create_async_engine(database_url, poolclass=pool.NullPool, hide_parameters=True)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
        finally:
            await engine.dispose()

    try:
        return asyncio.run(current()) == (head,)
    except Exception:  # a database not created or not reachable yet is not there yet
        log.debug("the database is not readable yet", exc_info=True)
        return False


async def wait_for_head(script_location: Path, database_url: str, *, poll_seconds: float = 0.5) -> None:
    """Return once another process has migrated the database to ``script_location``'s head."""
    while True:
        if await asyncio.to_thread(at_head, script_location, database_url):
            return
        await asyncio.sleep(poll_seconds)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    render_as_batch = url.startswith("sqlite")

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=render_as_batch)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=render_as_batch)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool, hide_parameters=True)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
