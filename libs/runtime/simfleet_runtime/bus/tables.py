"""The bus's own tables, created in each service's database.

* ``outbox``: events written in the same transaction as the change they
  describe; the relay publishes them and marks them.
* ``processed_events``: per consumer, the ids of events already applied, written
  in the same transaction as the change the event made.
* ``dead_letters``: what a consumer gave up on, kept for people to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from simfleet_runtime.db import UtcDateTime


@dataclass(frozen=True)
class BusTables:
    outbox: sa.Table
    processed_events: sa.Table
    dead_letters: sa.Table


def _columns() -> dict[str, list[Any]]:
    return {
        "outbox": [
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("subject", sa.String(200), nullable=False),
            sa.Column("event_type", sa.String(200), nullable=False),
            sa.Column("payload", sa.LargeBinary, nullable=False),
            sa.Column("headers", sa.JSON, nullable=False),
            sa.Column("tenant", sa.String(64), nullable=False, server_default=""),
            sa.Column("created_at", UtcDateTime, nullable=False),
            sa.Column("published_at", UtcDateTime, nullable=True),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("last_error", sa.Text, nullable=True),
        ],
        "processed_events": [
            sa.Column("consumer", sa.String(100), primary_key=True),
            sa.Column("event_id", sa.String(100), primary_key=True),
            sa.Column("processed_at", UtcDateTime, nullable=False),
        ],
        "dead_letters": [
            sa.Column("id", sa.String(40), primary_key=True),
            sa.Column("consumer", sa.String(100), nullable=False),
            sa.Column("subject", sa.String(200), nullable=False),
            sa.Column("event_id", sa.String(100), nullable=False),
            sa.Column("payload", sa.LargeBinary, nullable=False),
            sa.Column("headers", sa.JSON, nullable=False),
            sa.Column("error", sa.Text, nullable=False),
            sa.Column("deliveries", sa.Integer, nullable=False),
            sa.Column("created_at", UtcDateTime, nullable=False),
        ],
    }


_INDEXES = {"outbox": [("ix_outbox_unpublished", ["published_at", "created_at"])]}


def bus_tables(metadata: sa.MetaData) -> BusTables:
    """Declare the bus tables on a service's metadata (its models module calls this once)."""
    cols = _columns()
    tables = {name: sa.Table(name, metadata, *columns) for name, columns in cols.items()}
    for name, indexes in _INDEXES.items():
        for index_name, index_columns in indexes:
            sa.Index(index_name, *(tables[name].c[c] for c in index_columns))
    return BusTables(**tables)


def create_bus_tables(op: Any) -> None:
    """For a service's first Alembic migration: ``create_bus_tables(op)``."""
    for name, columns in _columns().items():
        op.create_table(name, *columns)
        for index_name, index_columns in _INDEXES.get(name, []):
            op.create_index(index_name, name, index_columns)
