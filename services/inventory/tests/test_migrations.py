"""The migrations build exactly the schema the models describe, and come down again."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from inventory.main import MIGRATIONS as MIGRATIONS_DIR
from inventory.models import metadata
from simfleet_runtime import migrations
from simfleet_runtime.testing import downgrade_to_base, run_migrate_command, schema_state


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url: str) -> None:
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert {
        "sims",
        "numbers",
        "lines",
        "line_labels",
        "saved_filters",
        "saved_filter_owners",
        "operations",
        "operation_items",
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
    result = await asyncio.to_thread(run_migrate_command, "inventory", db_url)
    assert result.returncode == 0, result.stderr.decode()
    differences, tables = await schema_state(db_url, metadata)
    assert differences == []
    assert "lines" in tables


async def test_nodes_projected_before_kinds_keep_an_unknown_kind_except_the_company(db_url: str) -> None:
    """0003 fills only what a path proves (a root is its company); every other kind stays not known."""
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url, revision="0002")
    engine = create_async_engine(db_url)
    rows = [("C", "/C/"), ("D", "/C/D/"), ("P", "/C/G/B/P/")]
    try:
        async with engine.begin() as conn:
            for node_id, path in rows:
                await conn.execute(
                    sa.text(
                        "INSERT INTO node_paths (node_id, customer_id, path, updated_at)"
                        " VALUES (:node_id, 'customer', :path, CURRENT_TIMESTAMP)"
                    ),
                    {"node_id": node_id, "path": path},
                )
        await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
        async with engine.connect() as conn:
            kinds = dict((await conn.execute(sa.text("SELECT node_id, kind FROM node_paths"))).all())
    finally:
        await engine.dispose()
    assert kinds == {"C": "company", "D": None, "P": None}
