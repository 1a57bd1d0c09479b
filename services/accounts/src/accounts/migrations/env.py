"""Alembic environment of accounts: every model module is imported so its tables are known."""

from accounts.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
