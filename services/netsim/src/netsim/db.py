"""The declarative base of netsim's tables and the bus tables on the same metadata.

Domain models (``netsim.smsc.models``, ``netsim.smtp.models``) derive from
:class:`Base`; :mod:`netsim.models` imports them all so the metadata is complete.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from simfleet_runtime.bus import bus_tables

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


metadata = Base.metadata
BUS = bus_tables(metadata)
