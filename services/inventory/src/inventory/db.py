"""The metadata every inventory table hangs on, the bus tables and the projection of the hierarchy."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from simfleet_runtime.bus import bus_tables
from simfleet_runtime.nodepaths import node_paths_table

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BUS = bus_tables(Base.metadata)
NODE_PATHS = node_paths_table(Base.metadata)
