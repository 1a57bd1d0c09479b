"""The engine's plain rows: every column known, JSON read on demand, only what changed written back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from inventory.lines.models import Line
from inventory.operations.models import Item
from inventory.operations.records import ItemRow, LineRow, load, write_changes

from .conftest import Harness  # type: ignore[import-not-found]


def test_the_rows_know_every_column_of_their_tables() -> None:
    assert set(LineRow.columns) == set(Line.__table__.c.keys())
    assert set(ItemRow.columns) == set(Item.__table__.c.keys())
    for kind in (LineRow, ItemRow):
        assert kind.lazy <= set(kind.columns) and kind.unread <= set(kind.columns)


async def test_a_row_reads_its_json_when_asked_and_writes_back_only_what_changed(harness: Harness) -> None:
    (number,) = await harness.add_lines(1, labels=("fleet",))
    async with harness.db.transaction() as session:
        (line,) = await load(session, LineRow, Line.msisdn == number)
        assert "labels" not in line.__dict__  # still the stored text
        assert line.labels == ["fleet"] and line.blocks == [] and line.forwarding == {}
        assert not line.changed  # reading changes nothing
        with pytest.raises(AttributeError, match="written by the engine"):
            _ = line.updated_at
        line.blocks = [*line.blocks, {"type": "voluntary", "since": "2026-12-05T00:00:00+00:00"}]
        line.state = "blocked"
        assert line.changed == {"blocks", "state"}
        assert await write_changes(session, [line]) == 1
        assert not line.changed
    async with harness.db.sessions() as session:
        stored = await session.scalar(sa.select(Line).where(Line.msisdn == number))
    assert stored is not None
    assert (stored.state, stored.blocks[0]["type"], stored.labels) == ("blocked", "voluntary", ["fleet"])
