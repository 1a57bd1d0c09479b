"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from accounts.main import MIGRATIONS as MIGRATIONS_DIR
from accounts.models import metadata
from simfleet_runtime import migrations


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            def check(sync_conn: sa.Connection) -> tuple[list[Any], set[str]]:
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, metadata), set(sa.inspect(sync_conn).get_table_names())

            return await conn.run_sync(check)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    differences, tables = await _inspect(db_url)
    assert differences == []
    assert {
        "customers",
        "contracts",
        "nodes",
        "node_figures",
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
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCOUNTS_")}
    env.update(ACCOUNTS_DATABASE_URL=db_url, ACCOUNTS_LOG_JSON="false")
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "accounts", "migrate"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    differences, tables = await _inspect(db_url)
    assert differences == []
    assert "nodes" in tables
