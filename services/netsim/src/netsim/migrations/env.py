"""Alembic environment of netsim: the runtime does the work (simfleet_runtime.migrations)."""

from netsim.models import metadata
from simfleet_runtime.migrations import run_env

run_env(metadata)
