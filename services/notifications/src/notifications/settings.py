"""notifications' configuration: every knob, from ``NOTIFICATIONS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from notifications.catalogue import DEFAULT_LANGUAGE, LANGUAGES
from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    database_url: str = "sqlite+aiosqlite:///./notifications.db"
    grpc_port: int = 50111
    metrics_port: int = 9112

    identity_target: str = Field("127.0.0.1:50051", description="identity's gRPC address (JWKS, users' access)")
    identity_timeout_seconds: float = Field(5.0, description="deadline of each call to identity")
    identity_operator_key: SecretStr = Field(
        SecretStr(""), description="the operator key identity accepts, to read users' access (GetUserAccess)"
    )
    access_cache_seconds: float = Field(
        30.0, ge=0, description="how long a user's access read from identity is reused (a grants change drops it)"
    )

    # Verifying callers' access tokens (issued by identity).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: float = Field(600.0, description="identity's access token lifetime (revocations kept)")
    jwks_refresh_seconds: float = Field(30.0, description="at most one JWKS fetch per interval on an unknown key")

    # Notices.
    default_language: str = Field(DEFAULT_LANGUAGE, description="the language of users who chose none (en, ru, fa)")
    grouping_window_seconds: float = Field(
        30.0,
        ge=0,
        description="events of one kind for one user and channel gathered this long after the first become one "
        "notice (a summary when more than one)",
    )
    sender_interval_seconds: float = Field(1.0, gt=0, description="how often notices are composed and sent")
    sender_batch: int = Field(200, ge=1, le=5000, description="notices sent in one pass at most")
    email_max_attempts: int = Field(6, ge=1, description="tries of an email before it is failed")
    email_retry_seconds: float = Field(30.0, gt=0, description="first wait before an email is tried again (doubles)")
    sms_sender: str = Field("SIMfleet", description="the sender name handsets show")

    smtp_host: str = Field("127.0.0.1", description="the SMTP relay's host")
    smtp_port: int = Field(2525, description="the SMTP relay's port")
    smtp_from: str = Field("SIMfleet <no-reply@simfleet.local>", description="who notices come from")
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="deadline of each conversation with the relay")

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"one of {', '.join(LANGUAGES)}")
        return value
