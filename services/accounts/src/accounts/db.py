"""The metadata every accounts table hangs on, and the bus tables."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from simfleet_runtime.bus import bus_tables
from simfleet_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BUS = bus_tables(Base.metadata)
