"""Alembic environment of billing: every model module is imported so its tables are known."""

from billing.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
