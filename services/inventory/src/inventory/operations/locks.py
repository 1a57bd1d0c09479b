"""How a step takes the operation it changes, so that two steps never change one operation at once.

On PostgreSQL a step locks the operation's row (``FOR UPDATE``): the engine's passes skip an operation
another pass holds (:func:`claim`), and the consumers of the network's answers wait for it
(:func:`wait_for`), since an answer must be applied. SQLite runs one writing transaction at a time and
has no row locks: the row is read as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.operations.models import Operation


async def claim(session: AsyncSession, operation_id: str, *, locking: bool) -> Operation | None:
    """The operation, locked for this transaction; None when another transaction holds it (or it is gone)."""
    query = sa.select(Operation).where(Operation.id == operation_id)
    return await session.scalar(query.with_for_update(skip_locked=True) if locking else query)


async def wait_for(session: AsyncSession, operation_id: str, *, locking: bool) -> Operation | None:
    """The operation, locked for this transaction once another holding it lets go; None when it is gone."""
    query = sa.select(Operation).where(Operation.id == operation_id)
    return await session.scalar(query.with_for_update() if locking else query)
