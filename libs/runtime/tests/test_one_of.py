"""``one_of``: a column matched against a list bound as one parameter, the same on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from simfleet_runtime.db import Database, one_of

from .conftest import NOTES

NOW = datetime(2026, 12, 7, tzinfo=UTC)


async def _ids(db: Database, values: list[str]) -> list[str]:
    dialect = db.engine.dialect.name
    query = sa.select(NOTES.c.id).where(one_of(NOTES.c.id, "ids", dialect)).order_by(NOTES.c.id)
    async with db.sessions() as session:
        return list((await session.execute(query, {"ids": values})).scalars())


async def test_the_rows_whose_value_is_in_the_list_and_only_those(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            sa.insert(NOTES), [{"id": f"n{i}", "text": "x", "created_at": NOW} for i in range(1, 2001)]
        )
    wanted = [f"n{i}" for i in range(1, 2001, 2)] + ["missing", "n1", 'it\'s "quoted" \\ too']
    found = await _ids(db, wanted)
    assert found == sorted(f"n{i}" for i in range(1, 2001, 2))
    assert await _ids(db, []) == []
    assert await _ids(db, ["n2000"]) == ["n2000"]


async def test_one_statement_serves_lists_of_any_length(db: Database) -> None:
    # Compiled once: the same SQL text whatever the number of values (an expanding IN renders one per value).
    dialect = db.engine.dialect
    query = sa.select(NOTES.c.id).where(one_of(NOTES.c.id, "ids", dialect.name))
    compiled = query.compile(dialect=dialect)
    assert list(compiled.params) == ["ids"]
    assert "POSTCOMPILE" not in str(compiled)
    async with db.transaction() as session:
        await session.execute(sa.insert(NOTES), [{"id": "a", "text": "x", "created_at": NOW}])
    for size in (1, 10, 1000):
        assert await _ids(db, ["a"] * size) == ["a"]
