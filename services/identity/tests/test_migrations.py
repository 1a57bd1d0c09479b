"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from identity.main import MIGRATIONS as MIGRATIONS_DIR
from identity.models import metadata
from simfleet_runtime import migrations
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import (
    database_backends,
    database_url,
    downgrade_to_base,
    drop_postgres_database,
    run_migrate_command,
    schema_state,
)


@pytest.fixture(params=database_backends())
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    name = f"identity_m_{new_id().lower()}"
    url = await database_url(request.param, name, tmp_path)
    yield url
    if request.param == "postgresql":
        await drop_postgres_database(name)


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert {
        "users",
        "grants",
        "roles",
        "node_paths",
        "sessions",
        "sign_in_throttles",
        "outbox",
        "processed_events",
        "dead_letters",
        "alembic_version",
    } <= tables

    await asyncio.to_thread(downgrade_to_base, MIGRATIONS_DIR, db_url)
    _, tables = await schema_state(db_url, metadata)
    assert tables <= {"alembic_version"}


async def test_the_migrate_command_applies_them(db_url: str) -> None:
    result = await asyncio.to_thread(run_migrate_command, "identity", db_url)
    assert result.returncode == 0, result.stderr.decode()
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert "grants" in tables
