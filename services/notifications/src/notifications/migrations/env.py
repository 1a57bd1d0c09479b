"""Alembic environment of notifications: every model module is imported so its tables are known."""

from notifications.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
