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

    payments_latency_ms: int = Field(
        0, ge=0, le=60000, description="acquirer faults of a fresh database: delay added to every payment call"
    )
    payments_decline_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="acquirer faults of a fresh database: the share of new authorisations declined (do_not_honor)",
    )
    payments_lost_answer_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="acquirer faults of a fresh database: the share of calls done whose answer is lost (UNAVAILABLE)",
    )
    payments_outage: bool = Field(
        False, description="acquirer faults of a fresh database: every payment call UNAVAILABLE, nothing changed"
    )
    payments_declining_cards: str = Field(
        "", description="acquirer faults of a fresh database: comma-separated card tokens always declined"
    )
    payments_fault_seed: int | None = Field(
        None, description="seed of the acquirer's draws (declines, lost answers, codes); unset: a fresh seed"
    )
    payments_faults_refresh_seconds: float = Field(
        0.5, gt=0.0, le=60.0, description="how often each process reads the stored acquirer faults"
    )

    usage_records_per_second: float = Field(
        0.0,
        ge=0.0,
        le=50000.0,
        description="usage records per second of a fresh database (the stored settings win); 0: none",
    )
    usage_voice_weight: float = Field(0.0, ge=0.0, description="relative weight of calls (all 0: the default mix)")
    usage_sms_weight: float = Field(0.0, ge=0.0, description="relative weight of SMS (all 0: the default mix)")
    usage_data_weight: float = Field(
        0.0, ge=0.0, description="relative weight of data sessions (all 0: the default mix)"
    )
    usage_roaming_share: float = Field(
        0.05, ge=0.0, le=1.0, description="share of records made roaming (subscribers with the roaming service)"
    )
    usage_international_share: float = Field(
        0.05, ge=0.0, le=1.0, description="share of calls and SMS abroad (subscribers with the international service)"
    )
    usage_msisdn_prefixes: str = Field(
        "", description="comma-separated number prefixes (+7999) usage is made for; empty: every subscriber"
    )
    usage_settings_refresh_seconds: float = Field(
        0.5, gt=0.0, le=60.0, description="how often each process reads the stored usage settings"
    )
    usage_tick_seconds: float = Field(
        0.25, ge=0.01, le=5.0, description="the continuous generator publishes what the rate owes every tick"
    )
    usage_lease_seconds: float = Field(
        6.0, ge=0.5, le=300.0, description="the generator's lease: a replica that dies is replaced after it"
    )
    usage_sample_size: int = Field(
        20000, ge=1, le=1_000_000, description="eligible subscribers held in memory to draw records for"
    )
    usage_sample_refresh_seconds: float = Field(
        5.0, gt=0.0, le=3600.0, description="how often the continuous generator reads its next sample of subscribers"
    )
    usage_seed: int | None = Field(None, description="seed of the generator's draws, for runs that must repeat")
    usage_stream_max_bytes: int = Field(
        1024**3, ge=-1, description="the NETSIM_USAGE stream's size limit (the oldest records go first); -1: none"
    )
