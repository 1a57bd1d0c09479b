"""Reads run on the driver give what the engine gives, see what is committed, and never wait for a writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from simfleet_runtime.db import Database, UtcDateTime
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import create_postgres_database, drop_postgres_database, postgres_base_url


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"

    id: Mapped[str] = mapped_column(sa.String(26), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    data: Mapped[dict[str, object]] = mapped_column(sa.JSON)
    count: Mapped[int] = mapped_column(sa.Integer)
    note: Mapped[str | None] = mapped_column(sa.String(50), nullable=True)


ACTIVE_OF_OWNER = (
    sa.select(Thing.id, Thing.seen_at, Thing.data, Thing.count, Thing.note)
    .where(Thing.status == "active", Thing.id >= sa.bindparam("from_id"))
    .order_by(Thing.id)
)
ONE = sa.select(*Thing.__table__.c).where(Thing.id == sa.bindparam("id"))

KINDS = ["sqlite", "postgresql"]


@pytest.fixture(params=KINDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'things.db'}"
    else:
        if postgres_base_url() is None:
            pytest.skip("needs SIMFLEET_TEST_POSTGRES_URL (CI sets it)")
        name = f"runtime_direct_{new_id().lower()}"
        url = await create_postgres_database(name)
    database = Database(url, pool_size=2)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            await drop_postgres_database(name)


async def add(db: Database, *things: Thing) -> None:
    async with db.transaction() as session:
        session.add_all(things)


def thing(id_: str, status: str = "active", **values: object) -> Thing:
    defaults: dict[str, object] = {
        "seen_at": datetime(2026, 12, 6, 10, 30, 15, 123456, tzinfo=UTC),
        "data": {"labels": ["a", "ü"], "n": 1},
        "count": 7,
        "note": None,
    }
    return Thing(id=id_, status=status, **{**defaults, **values})


async def test_a_direct_read_gives_what_the_engine_gives(db: Database) -> None:
    await add(db, thing("a1"), thing("a2", note="x", count=0), thing("a3", status="gone"), thing("b1", data={}))

    direct = await db.direct.all(ACTIVE_OF_OWNER, {"from_id": "a2"})
    async with db.engine.connect() as connection:
        engine = (await connection.execute(ACTIVE_OF_OWNER, {"from_id": "a2"})).all()

    assert [tuple(r) for r in direct] == [tuple(r) for r in engine]
    assert [r.id for r in direct] == ["a2", "b1"]  # the literal status in the query is bound too
    first = direct[0]
    assert first.seen_at == datetime(2026, 12, 6, 10, 30, 15, 123456, tzinfo=UTC) and first.seen_at.tzinfo is not None
    assert (first.data, first.count, first.note) == ({"labels": ["a", "ü"], "n": 1}, 0, "x")
    assert (await db.direct.first(ONE, {"id": "zz"})) is None
    assert (await db.direct.first(ONE, {"id": "a3"})).status == "gone"


async def test_a_direct_read_sees_what_was_committed_and_does_not_wait_for_a_writer(db: Database) -> None:
    await add(db, thing("a1"))
    async with db.transaction() as session:
        session.add(thing("a2"))
        await session.flush()
        # The writer holds its transaction open: the read neither waits for it nor sees its rows.
        during = await db.direct.all(ACTIVE_OF_OWNER, {"from_id": ""})
        assert [r.id for r in during] == ["a1"]
    after = await db.direct.all(ACTIVE_OF_OWNER, {"from_id": ""})
    assert [r.id for r in after] == ["a1", "a2"]


async def test_a_list_parameter_is_refused_at_once(db: Database) -> None:
    with pytest.raises(ValueError, match="expanding"):
        await db.direct.all(sa.select(Thing.id).where(Thing.id.in_(sa.bindparam("ids", expanding=True))), {"ids": []})


async def test_a_sqlite_direct_read_cannot_write(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'ro.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        await database.direct.all(ONE, {"id": "x"})
        connection = database.direct._sqlite
        assert connection is not None
        with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
            connection.execute("DELETE FROM things")
    finally:
        await database.dispose()
