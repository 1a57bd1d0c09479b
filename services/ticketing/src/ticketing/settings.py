"""ticketing's configuration: every knob, from ``TICKETING_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings
from ticketing.tickets.catalogue import SEVERITIES

DAY = 86_400.0
HOUR = 3_600.0


class TicketingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    service_name: str = "ticketing"
    database_url: str = "sqlite+aiosqlite:///./ticketing.db"
    grpc_port: int = 50101
    metrics_port: int = 9111

    operator_key: SecretStr = Field(
        SecretStr(""), description="the platform's automation presents it; empty refuses every call by key"
    )
    identity_target: str = Field("127.0.0.1:50051", description="identity's gRPC address (JWKS)")
    identity_timeout_seconds: float = Field(5.0, description="deadline of each call to identity")
    accounts_target: str = Field("127.0.0.1:50071", description="accounts' gRPC address (names filled in forms)")
    accounts_timeout_seconds: float = Field(5.0, description="deadline of each call to accounts")

    # Verifying callers' access tokens (issued by identity).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: float = Field(600.0, description="identity's access token lifetime (revocations kept)")
    jwks_refresh_seconds: float = Field(30.0, description="at most one JWKS fetch per interval on an unknown key")

    # Tickets.
    auto_close_after: timedelta = Field(
        timedelta(days=7),
        description="a resolved ticket closes itself this long after it was resolved, unless reopened "
        "(ISO 8601, P7D, or seconds)",
    )
    sweep_interval_seconds: float = Field(
        60.0, gt=0, description="how often resolved tickets due to close are closed and the figures refreshed"
    )
    response_targets_seconds: dict[str, float] = Field(
        default_factory=lambda: {"critical": 1 * HOUR, "high": 4 * HOUR, "medium": 1 * DAY, "low": 3 * DAY},
        description="by severity: how soon support's first answer is due after a ticket is filed (JSON)",
    )
    resolution_targets_seconds: dict[str, float] = Field(
        default_factory=lambda: {"critical": 1 * DAY, "high": 3 * DAY, "medium": 7 * DAY, "low": 14 * DAY},
        description="by severity: how soon the resolution is due after a ticket is filed (JSON)",
    )

    @field_validator("auto_close_after")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be more than 0")
        return value

    @field_validator("response_targets_seconds", "resolution_targets_seconds")
    @classmethod
    def _every_severity(cls, value: dict[str, float]) -> dict[str, float]:
        missing = sorted(set(SEVERITIES) - value.keys())
        unknown = sorted(value.keys() - set(SEVERITIES))
        if missing or unknown:
            raise ValueError(f"one target per severity ({', '.join(SEVERITIES)}); missing {missing}, unknown {unknown}")
        if any(v <= 0 for v in value.values()):
            raise ValueError("targets must be more than 0 seconds")
        return value
