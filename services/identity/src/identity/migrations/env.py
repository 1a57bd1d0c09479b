"""Alembic environment of identity: every model module is imported so its tables are known."""

from identity.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
