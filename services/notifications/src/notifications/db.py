"""The metadata every notifications table hangs on, the bus tables and notifications' copy of the hierarchy's paths."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from simfleet_runtime.bus import bus_tables
from simfleet_runtime.db import NAMING
from simfleet_runtime.nodepaths import node_paths_table


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BUS = bus_tables(Base.metadata)
NODE_PATHS = node_paths_table(Base.metadata)
