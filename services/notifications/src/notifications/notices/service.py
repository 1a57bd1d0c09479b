"""The notices a user was sent (or is being sent), newest first, in pages."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from notifications.notices.models import Notice
from simfleet_runtime.db import Database
from simfleet_runtime.paging import Order, decode_token, keyset, next_token, page_size

ORDER = Order("created_at", descending=True)
LIST_NAME = "notices"


class Notices:
    def __init__(self, *, db: Database) -> None:
        self._db = db

    async def of_user(self, user_id: str, *, size: int, token: str) -> tuple[Sequence[Notice], str]:
        limit = page_size(size, default=50, maximum=200)
        after = decode_token(token, ORDER, list_name=LIST_NAME, size=2)
        query = keyset(
            sa.select(Notice).where(Notice.user_id == user_id),
            [Notice.created_at, Notice.id],
            order=ORDER,
            after=after,
            limit=limit,
        )
        async with self._db.sessions() as session:
            rows = (await session.scalars(query)).all()
        return next_token(rows, order=ORDER, limit=limit, key=lambda n: [n.created_at, n.id], list_name=LIST_NAME)
