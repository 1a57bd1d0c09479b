"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio

from notifications.main import MIGRATIONS as MIGRATIONS_DIR
from notifications.models import metadata
from simfleet_runtime import migrations
from simfleet_runtime.testing import downgrade_to_base, run_migrate_command, schema_state


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert {
        "notices",
        "notice_events",
        "preferences",
        "users",
        "node_paths",
        "outbox",
        "processed_events",
        "dead_letters",
        "alembic_version",
    } <= tables

    await asyncio.to_thread(downgrade_to_base, MIGRATIONS_DIR, db_url)
    _, tables = await schema_state(db_url, metadata)
    assert tables <= {"alembic_version"}


async def test_the_migrate_command_applies_them(db_url: str) -> None:
    result = await asyncio.to_thread(run_migrate_command, "notifications", db_url)
    assert result.returncode == 0, result.stderr.decode()
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert "notices" in tables
