"""What the console's routes are given: a database session per request, the HLR's stored faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.hlr.fault_store import FaultStore
from simfleet_runtime.db import Database


def get_database(request: Request) -> Database:
    database = request.app.state.database
    assert isinstance(database, Database)
    return database


async def get_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    async with database.sessions() as session:
        yield session


def get_faults(request: Request) -> FaultStore:
    faults = request.app.state.faults
    assert isinstance(faults, FaultStore)
    return faults


DatabaseDep = Annotated[Database, Depends(get_database)]
FaultsDep = Annotated[FaultStore, Depends(get_faults)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
