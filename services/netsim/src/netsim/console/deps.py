"""What the console's routes are given: a database session per request, the HLR's stored faults.

The getters are coroutines although they only read the app's state: FastAPI runs a plain function
dependency in a worker thread, a thread hop on every request, and inboxes are read many times a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from netsim.hlr.fault_store import FaultStore
from netsim.payments.fault_store import PaymentFaultStore
from netsim.usage.generator import UsageGenerator
from netsim.usage.settings_store import UsageSettingsStore
from simfleet_runtime.db import Database


async def get_database(request: Request) -> Database:
    database = request.app.state.database
    assert isinstance(database, Database)
    return database


async def get_session(database: Annotated[Database, Depends(get_database)]) -> AsyncIterator[AsyncSession]:
    async with database.sessions() as session:
        yield session


async def get_faults(request: Request) -> FaultStore:
    faults = request.app.state.faults
    assert isinstance(faults, FaultStore)
    return faults


async def get_usage_settings(request: Request) -> UsageSettingsStore:
    store = request.app.state.usage_settings
    assert isinstance(store, UsageSettingsStore)
    return store


async def get_usage_generator(request: Request) -> UsageGenerator:
    generator = request.app.state.usage_generator
    assert isinstance(generator, UsageGenerator)
    return generator


async def get_payment_faults(request: Request) -> PaymentFaultStore:
    store = request.app.state.payment_faults
    assert isinstance(store, PaymentFaultStore)
    return store


DatabaseDep = Annotated[Database, Depends(get_database)]
FaultsDep = Annotated[FaultStore, Depends(get_faults)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UsageSettingsDep = Annotated[UsageSettingsStore, Depends(get_usage_settings)]
UsageGeneratorDep = Annotated[UsageGenerator, Depends(get_usage_generator)]
PaymentFaultsDep = Annotated[PaymentFaultStore, Depends(get_payment_faults)]
