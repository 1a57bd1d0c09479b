"""identity's configuration: every knob, from ``IDENTITY_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    service_name: str = "identity"
    database_url: str = "sqlite+aiosqlite:///./identity.db"
    grpc_port: int = 50051
    metrics_port: int = 9101

    operator_key: SecretStr = Field(
        SecretStr(""), description="back-office callers present it; empty refuses every back-office call"
    )

    # Tokens and sessions (ID-7).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: int = 600
    session_idle_timeout_seconds: int = 20 * 60
    session_absolute_timeout_seconds: int = 12 * 3600
    signing_key_max_age_days: float = 30.0
    signing_key_passphrase: SecretStr = Field(
        SecretStr("simfleet-local-signing-keys"), description="encrypts the private signing keys at rest"
    )

    # One-time codes (ID-3, ID-4, ID-5).
    otp_pepper: SecretStr = Field(SecretStr("simfleet-local-otp-pepper"), description="HMAC key for code hashes")
    refresh_token_key: SecretStr = Field(
        SecretStr("simfleet-local-refresh-tokens"),
        description="HMAC key deriving a refresh token's successor (the reuse grace hands the same one out twice)",
    )
    refresh_reuse_grace_seconds: float = Field(
        10.0, ge=0, le=60, description="a spent refresh token presented again this soon gets the same successor"
    )
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_lockout_seconds: int = Field(900, description="failures carry over to new codes for this long")
    otp_send_window_seconds: int = 900
    otp_send_limit_per_phone: int = 5
    otp_send_limit_per_client: int = 30

    # Passwords (ID-2, ID-6).
    password_min_length: int = 10
    password_failure_limit: int = Field(10, description="failed password sign-ins per number per window")
    password_failure_window_seconds: int = 900
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    # Messages to the user.
    sms_sender: str = "SIMfleet"
    invitation_text: str = Field(
        "SIMfleet: you can now sign in to your company's SIMfleet cabinet with this number. "
        "Sign in with a one-time code, then set a password.",
        description="the SMS a new user gets when they are invited",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_from: str = "SIMfleet <no-reply@simfleet.local>"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
