"""netsim's configuration: the one place it lives (environment prefix ``NETSIM_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from simfleet_runtime.settings import ServiceSettings


class NetsimSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NETSIM_", extra="ignore")

    service_name: str = "netsim"
    database_url: str = Field(
        "sqlite+aiosqlite:///./netsim.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    grpc_port: int = 50061
    metrics_port: int = Field(9106, description="Prometheus /metrics port; 0 turns it off")

    smtp_host: str = Field("127.0.0.1", description="where the SMTP sink listens")
    smtp_port: int = 2525
    smtp_hostname: str = Field("netsim", description="the name the SMTP sink greets with")
    smtp_max_message_bytes: int = Field(10 * 1024 * 1024, description="larger messages are refused (552)")

    http_host: str = Field("127.0.0.1", description="where the HTTP console listens")
    http_port: int = 8090

    hlr_latency_ms: int = Field(
        0,
        ge=0,
        le=60000,
        description="HLR fault injection of a fresh database: delay added to every item (the stored faults win)",
    )
    hlr_failure_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description=(
            "HLR fault injection of a fresh database: the share of items failing SYSTEM_FAILURE (the stored faults win)"
        ),
    )
    hlr_fault_seed: int | None = Field(
        None, description="seed of the failure-rate draws, for runs that must repeat; unset: a fresh seed"
    )
    hlr_faults_refresh_seconds: float = Field(
        0.5,
        gt=0.0,
        le=60.0,
        description="how often each process reads the stored HLR faults: a change reaches every replica within it",
    )
