"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from identity.main import MIGRATIONS as MIGRATIONS_DIR
from identity.tables import metadata as all_tables
from simfleet_runtime import migrations
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import database_backends, database_url, drop_postgres_database


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def check(sync_conn: sa.Connection) -> tuple[list[Any], set[str]]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, all_tables()), set(sa.inspect(sync_conn).get_table_names())

            return await conn.run_sync(check)
    finally:
        await engine.dispose()


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    name = f"identity_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    differences, tables = await _inspect(db_url)
    assert differences == []
    assert {
        "users",
        "grants",
        "roles",
        "node_paths",
        "sessions",
        "outbox",
        "processed_events",
        "dead_letters",
        "alembic_version",
    } <= tables

    await asyncio.to_thread(_downgrade, db_url)
    _, tables = await _inspect(db_url)
    assert tables <= {"alembic_version"}


def _downgrade(url: str) -> None:
    from alembic import command

    command.downgrade(migrations.alembic_config(MIGRATIONS_DIR, url), "base")


async def test_the_migrate_command_applies_them(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    env.update(IDENTITY_DATABASE_URL=db_url, IDENTITY_LOG_JSON="false")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "identity", "migrate"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    differences, tables = await _inspect(db_url)
    assert differences == []
    assert "grants" in tables
