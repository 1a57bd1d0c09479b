"""The declarative base of netsim's tables and the bus tables on the same metadata.

Domain models (``netsim.smsc.models``, ``netsim.smtp.models``) derive from
:class:`Base`; :mod:`netsim.models` imports them all so the metadata is complete.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from simfleet_runtime.bus import bus_tables
from simfleet_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


metadata = Base.metadata
BUS = bus_tables(metadata)
