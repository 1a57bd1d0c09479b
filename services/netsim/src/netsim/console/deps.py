"""What the console's routes are given: a database session per request, the HLR's stored faults."""

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


def get_usage_settings(request: Request) -> UsageSettingsStore:
    store = request.app.state.usage_settings
    assert isinstance(store, UsageSettingsStore)
    return store


def get_usage_generator(request: Request) -> UsageGenerator:
    generator = request.app.state.usage_generator
    assert isinstance(generator, UsageGenerator)
    return generator


def get_payment_faults(request: Request) -> PaymentFaultStore:
    store = request.app.state.payment_faults
    assert isinstance(store, PaymentFaultStore)
    return store


DatabaseDep = Annotated[Database, Depends(get_database)]
FaultsDep = Annotated[FaultStore, Depends(get_faults)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
UsageSettingsDep = Annotated[UsageSettingsStore, Depends(get_usage_settings)]
UsageGeneratorDep = Annotated[UsageGenerator, Depends(get_usage_generator)]
PaymentFaultsDep = Annotated[PaymentFaultStore, Depends(get_payment_faults)]
