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
    otp_send_limit_per_phone: int = Field(5, ge=1, description="codes per number asked for from one client address")
    otp_send_limit_per_client: int = Field(30, ge=1, description="codes per client address, whatever the numbers")
    otp_send_limit_per_phone_all_clients: int = Field(
        20, ge=1, description="codes per number from all the client addresses the number has not signed in from"
    )

    # Passwords (ID-2, ID-6).
    password_min_length: int = 10
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4

    # Throttling failed sign-ins (docs/architecture.md § Sign-in rules).
    sign_in_free_failures_per_client: int = Field(
        5, ge=1, description="failures one client address may make for a number before it has to wait"
    )
    sign_in_backoff_base_seconds: int = Field(2, ge=1, description="the first wait; each further failure doubles it")
    sign_in_backoff_cap_seconds: int = Field(900, ge=1, description="the longest wait of one client address")
    sign_in_client_memory_seconds: int = Field(
        86400, ge=1, description="a client address's failures for a number are forgotten this long after its last"
    )
    sign_in_account_failure_limit: int = Field(
        100,
        ge=1,
        le=100,
        description="consecutive failures with one factor for a number, from all addresses, that close the factor "
        "until the number signs in (NIST SP 800-63B 5.2.2: at most 100)",
    )
    sign_in_known_client_days: int = Field(
        30, ge=0, description="a number that signed in from an address within this many days is known there"
    )

    # Messages to the user.
    sms_sender: str = "SIMfleet"
    sign_in_sms_by_notifications: bool = Field(
        True,
        description="customers' users hear of their sign-ins from notifications (its sign_in kind, SMS on by "
        "default; a user may turn it off) and identity sends them no sign-in SMS; operator staff, whom "
        "notifications does not know, always get identity's. false: identity sends every user the SMS itself "
        "(only where notifications does not run: with both, a customer's user gets two)",
    )
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
