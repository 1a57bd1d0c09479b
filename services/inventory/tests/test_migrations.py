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
        "line_groups",
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


async def test_group_names_on_lines_become_groups_at_the_company_node(db_url: str) -> None:
    """0008: each name a customer's lines carry becomes one group at the root of their paths, holding them."""
    await migrations.upgrade_async(MIGRATIONS_DIR, db_url, revision="0007")
    engine = create_async_engine(db_url)
    line = (
        "INSERT INTO lines (id, customer_id, msisdn, iccid, imsi, node_id, personal_account_id, tariff_code, state,"
        " blocks, services, apns, forwarding, labels, group_name, created_at, updated_at) VALUES (:id, :customer,"
        " :msisdn, :iccid, :imsi, :node, :node, 'BIZ-M', 'active', '[]', '[]', '[]', '{}', '[]', :group,"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO node_paths (node_id, customer_id, path, updated_at)"
                    " VALUES ('D', 'customer', '/C/D/', CURRENT_TIMESTAMP)"
                )
            )
            for n, customer, node, group in (
                (1, "customer", "D", "Couriers"),
                (2, "customer", "D", "Couriers"),
                (3, "customer", "D", None),
                (4, "other", "X", "Couriers"),
            ):
                await conn.execute(
                    sa.text(line),
                    {
                        "id": f"line{n}",
                        "customer": customer,
                        "msisdn": f"+7999000000{n}",
                        "iccid": f"8970100000000000{n}",
                        "imsi": f"25001000000000{n}",
                        "node": node,
                        "group": group,
                    },
                )
        await migrations.upgrade_async(MIGRATIONS_DIR, db_url)
        async with engine.connect() as conn:
            groups = {
                (customer, node): (group_id, name, icon, colour)
                for group_id, customer, node, name, icon, colour in await conn.execute(
                    sa.text("SELECT id, customer_id, node_id, name, icon, colour FROM line_groups")
                )
            }
            lines = dict((await conn.execute(sa.text("SELECT id, group_id FROM lines"))).all())
    finally:
        await engine.dispose()
    assert {k: v[1:] for k, v in groups.items()} == {
        ("customer", "C"): ("Couriers", "people", "blue"),
        ("other", "X"): ("Couriers", "people", "blue"),
    }
    ours, theirs = groups[("customer", "C")][0], groups[("other", "X")][0]
    assert lines == {"line1": ours, "line2": ours, "line3": None, "line4": theirs}
