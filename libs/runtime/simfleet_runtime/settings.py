"""Settings shared by every service, read from the environment.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``IDENTITY_``, ``NETSIM_``...) and adds its own fields; that subclass is the one
place its configuration lives.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from simfleet_runtime.paging import LOCAL_PAGE_TOKEN_SECRET


class ServiceSettings(BaseSettings):
    """The part of a service's configuration that the runtime consumes."""

    model_config = SettingsConfigDict(env_prefix="SIMFLEET_", extra="ignore")

    service_name: str = "simfleet"
    environment: str = Field("local", description="local, dev, prod: shown in logs and traces")
    database_url: str = Field(
        "sqlite+aiosqlite:///./simfleet.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    database_pool_size: int = Field(
        20,
        ge=1,
        description=(
            "PostgreSQL connections the process keeps at most (besides a few for its hottest reads); once opened "
            "they stay open, and callers past them wait for one"
        ),
    )
    migrate_on_start: bool = Field(True, description="apply Alembic migrations at start-up (local mode)")
    await_migrations: bool = Field(
        False,
        description=(
            "without migrate_on_start, wait at start-up until another process has brought the schema to this "
            "code's head (a second process of a service started beside the one that migrates)"
        ),
    )
    nats_url: str = "nats://127.0.0.1:4222"
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    grpc_max_message_bytes: int = Field(
        4 * 1024 * 1024, description="the largest gRPC request the server takes (and answer it sends)"
    )
    page_token_secret: SecretStr = Field(
        SecretStr(LOCAL_PAGE_TOKEN_SECRET),
        description="HMAC key of the list page tokens; every replica of a service needs the same one",
    )
    metrics_host: str = Field(
        "127.0.0.1", description="address of the /metrics server (like grpc_host; 0.0.0.0 in a pod, to be scraped)"
    )
    metrics_port: int = Field(0, description="Prometheus /metrics port; 0 turns it off")
    log_level: str = "INFO"
    log_json: bool = True
    shutdown_grace_seconds: float = 10.0
    gc_gen0_threshold: int = Field(
        20_000,
        ge=100,
        description="allocations between young-generation collections (CPython's default is 700: bulk work "
        "that makes many short-lived rows would spend much of its time collecting)",
    )
    health_check_interval_seconds: float = 2.0
    outbox_poll_seconds: float = Field(0.2, description="how often the relay looks for new outbox rows")
    sealing_key: SecretStr = Field(
        SecretStr(""),
        description="base64 of 32 bytes: encrypts (AES-GCM) messages marked sensitive (one-time codes) in the "
        "outbox and dead letters; empty derives a local-only key",
    )
    consumer_max_deliver: int = Field(8, description="deliveries before a message is dead-lettered")
    consumer_backoff_seconds: list[float] = Field(
        default_factory=lambda: [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0],
        description="redelivery delays after a failed attempt, one per attempt",
    )
    clock_file: str = Field(
        "",
        description="tests only: a file holding a clock offset in seconds (see simfleet_runtime.clock)",
    )
