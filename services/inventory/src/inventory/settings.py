"""inventory's configuration: every knob, from ``INVENTORY_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from simfleet_runtime.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER
from simfleet_runtime.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore")

    service_name: str = "inventory"
    database_url: str = "sqlite+aiosqlite:///./inventory.db"
    grpc_port: int = 50081
    metrics_port: int = 9108
    grpc_max_message_bytes: int = Field(
        32 * 1024 * 1024, description="the largest request taken: an operation on 200,000 lines with their own params"
    )

    operator_key: SecretStr = Field(
        SecretStr(""), description="back-office automation presents it; empty refuses every back-office key"
    )
    puk_key: SecretStr = Field(
        SecretStr(""),
        description="base64 of 32 bytes: encrypts PUK codes at rest (AES-GCM); empty derives a local-only key",
    )
    identity_target: str = Field("127.0.0.1:50051", description="identity's gRPC address (JWKS)")
    netsim_target: str = Field("127.0.0.1:50061", description="the network's gRPC address (locations)")
    billing_target: str = Field(
        "127.0.0.1:50091", description="billing's gRPC address (which lines may take a tariff or a service)"
    )
    upstream_timeout_seconds: float = Field(
        5.0, description="deadline of each call to identity, the network or billing"
    )

    # Verifying callers' access tokens (issued by identity).
    jwt_issuer: str = DEFAULT_ISSUER
    jwt_audience: str = DEFAULT_AUDIENCE
    access_token_ttl_seconds: float = Field(600.0, description="identity's access token lifetime (revocations kept)")
    jwks_refresh_seconds: float = Field(30.0, description="at most one JWKS fetch per interval on an unknown key")

    # Operations.
    max_lines_per_operation: int = Field(200_000, description="lines one operation may change")
    command_batch_size: int = Field(250, description="items per provisioning command sent to the network")
    max_in_flight_items: int = Field(2_000, description="items of one operation sent and not yet answered")
    dispatch_poll_seconds: float = Field(0.5, description="how often the dispatcher looks for due work")
    number_quarantine_days: int = Field(90, description="a released number rests this long before reuse")
    figures_interval_seconds: float = Field(2.0, description="how often line counts per node go to accounts")
    orderable_tariffs: list[str] = Field(
        default_factory=lambda: ["BIZ-S", "BIZ-M", "BIZ-L", "IOT-S"],
        description="the tariff codes new SIM cards may be ordered on (JSON list)",
    )
    sim_order_quota_per_day: int = Field(
        5_000, ge=0, description="SIM cards one customer may order from the shared stock in any 24 hours"
    )
