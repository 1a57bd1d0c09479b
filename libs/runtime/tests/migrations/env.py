"""Alembic environment of the runtime's test migrations (a service's env.py looks the same)."""

import sqlalchemy as sa

from simfleet_runtime.bus import bus_tables
from simfleet_runtime.migrations import run_env

metadata = sa.MetaData()
bus_tables(metadata)
run_env(metadata)
