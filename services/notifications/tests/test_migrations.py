"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from notifications.main import MIGRATIONS as MIGRATIONS_DIR
from notifications.models import metadata
from notifications.preferences.models import Preference
from simfleet_runtime import migrations
from simfleet_runtime.testing import downgrade_to_base, run_migrate_command, schema_state

PREFERENCES = Preference.__table__


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


async def test_saved_preferences_keep_the_sign_in_sms_identity_sent_them(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url, "0001")
    saved = {
        "by-email": {"sign_in": ["email"], "ticket_reply": ["sms"]},
        "nothing": {"sign_in": [], "ticket_reply": []},
    }
    engine = create_async_engine(db_url)
    try:
        async with engine.begin() as connection:
            for user_id, choices in saved.items():
                await connection.execute(
                    PREFERENCES.insert().values(
                        user_id=user_id, customer_id="c", language="en", choices=choices, updated_at=datetime.now(UTC)
                    )
                )
        await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
        assert await choices_of(engine) == {
            "by-email": {"sign_in": ["sms", "email"], "ticket_reply": ["sms"]},
            "nothing": {"sign_in": ["sms"], "ticket_reply": []},
        }
        await asyncio.to_thread(command.downgrade, migrations.alembic_config(MIGRATIONS_DIR, db_url), "0001")
        assert await choices_of(engine) == saved
    finally:
        await engine.dispose()


async def choices_of(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as connection:
        rows = await connection.execute(sa.select(PREFERENCES.c.user_id, PREFERENCES.c.choices))
        return {user_id: choices for user_id, choices in rows}
