"""Alembic environment of inventory: every model module is imported so its tables are known."""

from inventory.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
