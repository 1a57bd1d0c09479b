"""Alembic environment of ticketing: every model module is imported so its tables are known."""

from simfleet_runtime.migrations import run_env
from ticketing.models import metadata

run_env(metadata)
