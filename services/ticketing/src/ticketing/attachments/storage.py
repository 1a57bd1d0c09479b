"""Where attachments' bytes live: a small interface, and the store in ticketing's own database.

:class:`BlobStore` is all the use cases know: put a stream under a key, open a
key as a stream, delete a key. :class:`DatabaseStore` keeps a file as rows of
:data:`CHUNK_SIZE` bytes (``attachment_chunks``), each written in its own short
transaction as the bytes arrive and read back one row at a time, so neither a
write nor a read ever holds a whole file in memory or a transaction open for
an upload's length. An object store (S3) replaces it by implementing the same
four methods (``keys`` is a listing from a key on, as S3's ``StartAfter``).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

import sqlalchemy as sa

from simfleet_runtime.db import Database
from ticketing.attachments.models import CHUNKS

CHUNK_SIZE = 256 * 1024


class BlobStore(Protocol):
    async def put(self, key: str, data: AsyncIterable[bytes]) -> int:
        """Store everything ``data`` yields under ``key`` (a new key); how many bytes.

        When ``data`` raises (or the call is cancelled), nothing stays stored under ``key`` and the error goes on.
        """
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The bytes stored under ``key``, in order, in pieces."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens for a key that holds nothing)."""
        ...

    async def keys(self, *, after: str, limit: int) -> list[str]:
        """The keys holding bytes (a put begun, or done), in order, the first ``limit`` past ``after``."""
        ...


class DatabaseStore:
    """Files as ordered rows of at most ``chunk_size`` bytes in ``attachment_chunks``."""

    def __init__(self, db: Database, *, chunk_size: int = CHUNK_SIZE) -> None:
        self._db = db
        self._chunk_size = chunk_size

    async def put(self, key: str, data: AsyncIterable[bytes]) -> int:
        size = 0
        seq = 0
        pending = bytearray()
        try:
            async for piece in data:
                pending += piece
                size += len(piece)
                while len(pending) >= self._chunk_size:
                    await self._write(key, seq, bytes(pending[: self._chunk_size]))
                    del pending[: self._chunk_size]
                    seq += 1
            if pending or seq == 0:
                await self._write(key, seq, bytes(pending))
        except BaseException:
            await self.delete(key)
            raise
        return size

    async def _write(self, key: str, seq: int, chunk: bytes) -> None:
        async with self._db.transaction() as session:
            await session.execute(sa.insert(CHUNKS).values(blob_key=key, seq=seq, data=chunk))

    async def open(self, key: str) -> AsyncIterator[bytes]:
        seq = 0
        while True:
            async with self._db.sessions() as session:
                chunk = await session.scalar(
                    sa.select(CHUNKS.c.data).where(CHUNKS.c.blob_key == key, CHUNKS.c.seq == seq)
                )
            if chunk is None:
                return
            if chunk:
                yield bytes(chunk)
            seq += 1

    async def delete(self, key: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(sa.delete(CHUNKS).where(CHUNKS.c.blob_key == key))

    async def keys(self, *, after: str, limit: int) -> list[str]:
        # Every key holding bytes has its chunk 0 (written first, deleted with the rest in one transaction).
        async with self._db.sessions() as session:
            found = await session.scalars(
                sa.select(CHUNKS.c.blob_key)
                .where(CHUNKS.c.blob_key > after, CHUNKS.c.seq == 0)
                .order_by(CHUNKS.c.blob_key)
                .limit(limit)
            )
            return list(found)

    async def chunk_count(self, key: str) -> int:
        """How many rows hold ``key`` (for tests and the figures)."""
        async with self._db.sessions() as session:
            return int(await session.scalar(sa.select(sa.func.count()).where(CHUNKS.c.blob_key == key)) or 0)
